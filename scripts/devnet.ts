/**
 * Starts N member nodes as separate processes on 127.0.0.1 with a generated roster, prints their API URLs
 * and tokens, and stops them cleanly on Ctrl-C (or after --seconds).
 *   npx tsx scripts/devnet.ts [--nodes 3] [--dir DIR] [--keep] [--seconds N]
 */
import { parseArgs } from 'node:util'
import { createDevnet } from './lib/devnet.js'

const { values } = parseArgs({ options: { nodes: { type: 'string', default: '3' }, dir: { type: 'string' }, keep: { type: 'boolean', default: false }, seconds: { type: 'string' } } })
const n = Number(values.nodes)
if (!Number.isInteger(n) || n < 1 || n > 50) {
  console.error('devnet: --nodes must be 1..50')
  process.exit(2)
}
const names = Array.from({ length: n }, (_, i) => `Member-${String.fromCharCode(65 + (i % 26))}${i >= 26 ? Math.floor(i / 26) : ''}`)
const devnet = await createDevnet({ names, baseDir: values.dir, keep: values.keep || values.dir !== undefined })
let stopping = false
const stop = async (why: string) => {
  if (stopping) return
  stopping = true
  console.log(`\nstopping (${why})…`)
  await devnet.close()
  console.log(values.keep || values.dir ? `stopped; data kept in ${devnet.baseDir}` : 'stopped; data removed')
  process.exit(0)
}
process.on('SIGINT', () => void stop('SIGINT'))
process.on('SIGTERM', () => void stop('SIGTERM'))

console.log(`federation "${devnet.federation}" with ${n} members in ${devnet.baseDir}`)
try {
  await Promise.all(devnet.members.map((m) => devnet.start(m.name)))
} catch (err) {
  console.error(`devnet: ${(err as Error).message}`)
  await devnet.close()
  process.exit(1)
}
for (const m of devnet.members) {
  console.log(`${m.name.padEnd(12)} api ${m.apiUrl}  token ${m.token}  p2p ${m.multiaddr}`)
  console.log(`${''.padEnd(12)} try: curl -s -H 'authorization: Bearer ${m.token}' ${m.apiUrl}/v1/status`)
}
console.log(values.seconds ? `running for ${values.seconds} s` : 'running; Ctrl-C stops every node')
if (values.seconds) setTimeout(() => void stop('time up'), Number(values.seconds) * 1000)

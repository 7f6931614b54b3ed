/**
 * Import benchmark (issue 16): a CSV of random PDQ hashes into a local bank, and a CSV of PDQ hashes with
 * labels per line as contributions (signed, 1,000 per record, one record per label set), through the one import path the CLI uses (lists/readSignalBatches -> node/importList), on a
 * fresh data directory.
 *
 *   npx tsx scripts/bench-import.ts [--lines 1000000] [--contribute-lines 1000000] [--keep]
 *
 * Prints lines/s and RSS (before, peak, growth) for each phase. Targets: bank >= 200,000 lines/s with RSS
 * growth <= 100 MB; contributions >= 50,000 signals/s.
 */
import '../src/shim.js'
import { randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { once } from 'node:events'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { readSignalBatches } from '../src/lists/index.js'
import { BanksService } from '../src/node/banks-service.js'
import { initDataDir } from '../src/node/identity.js'
import { importList } from '../src/node/list-import.js'
import { HashmeshNode } from '../src/node/node.js'
import { tempDir } from '../test/helpers/tmp.js'

const { values } = parseArgs({ options: { lines: { type: 'string', default: '1000000' }, 'contribute-lines': { type: 'string', default: '1000000' }, keep: { type: 'boolean', default: false } } })
const LINES = Number(values.lines)
const CONTRIBUTE_LINES = Number(values['contribute-lines'])
const MB = 1024 * 1024

/** The bank list is PDQ hashes only (as the benchmark); the contribution list has labels per line. */
async function writeCsv(path: string, lines: number, withLabels: boolean): Promise<void> {
  const out = createWriteStream(path)
  out.write(withLabels ? 'pdq_hash,tags\n' : 'pdq_hash\n')
  const labels = ['behavior:propaganda', 'behavior:recruitment entity:isis', '']
  for (let i = 0; i < lines; i += 1000) {
    let chunk = ''
    for (let j = i; j < Math.min(lines, i + 1000); j++) chunk += withLabels ? `${randomBytes(32).toString('hex')},${labels[j % 3]}\n` : `${randomBytes(32).toString('hex')}\n`
    if (!out.write(chunk)) await once(out, 'drain')
  }
  out.end()
  await once(out, 'finish')
}

async function phase(name: string, node: HashmeshNode, file: string, lines: number, into: { bank: string } | { contribute: true }, withLabels: boolean): Promise<void> {
  global.gc?.()
  const before = process.memoryUsage().rss
  let peak = before
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50)
  const started = process.hrtime.bigint()
  const cpu = process.cpuUsage()
  const summary = await importList(node, readSignalBatches(file, { format: 'csv', map: { hash: 'pdq_hash', ...(withLabels ? { label: ['tags'] } : {}) }, signalType: 'pdq' }), { into })
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  const used = process.cpuUsage(cpu)
  const cpuSeconds = (used.user + used.system) / 1e6
  clearInterval(sampler)
  peak = Math.max(peak, process.memoryUsage().rss)
  console.log(`${name}: ${lines.toLocaleString('en')} lines in ${seconds.toFixed(2)} s = ${Math.round(lines / seconds).toLocaleString('en')} lines/s; ` +
    `CPU ${cpuSeconds.toFixed(2)} s (${Math.round(lines / cpuSeconds).toLocaleString('en')} lines per CPU-second); accepted ${summary.accepted}, rejected ${summary.rejected}, written ${summary.written}; ` +
    `RSS ${(before / MB).toFixed(0)} MB -> peak ${(peak / MB).toFixed(0)} MB (growth ${((peak - before) / MB).toFixed(0)} MB)`)
}

const dir = tempDir('hashmesh-bench-import-')
try {
  const bankCsv = join(dir.path, 'bank.csv')
  const contributeCsv = join(dir.path, 'contribute.csv')
  await writeCsv(bankCsv, LINES, false)
  if (CONTRIBUTE_LINES > 0) await writeCsv(contributeCsv, CONTRIBUTE_LINES, true)
  const data = join(dir.path, 'data')
  await initDataDir(data, { name: 'bench-import' })
  const node = await HashmeshNode.open(data, { env: {} })
  try {
    await new BanksService(node).createBank({ name: 'BENCH' })
    if (LINES > 0) await phase('bank', node, bankCsv, LINES, { bank: 'BENCH' }, false)
    if (CONTRIBUTE_LINES > 0) await phase('contribute', node, contributeCsv, CONTRIBUTE_LINES, { contribute: true }, true)
  } finally {
    await node.close()
  }
} finally {
  if (!values.keep) dir.cleanup()
}

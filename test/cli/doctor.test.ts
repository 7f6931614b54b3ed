/** `hashmesh doctor`: what is wrong with a data directory, and how to fix it; exit 1 when anything is. */
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { chmodSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { cli, cliSpawn, type CliResult } from '../helpers/cli.js'
import { tempDir } from '../helpers/tmp.js'
import { testFederation, waitFor } from '../helpers/federation.js'

/** The CLI without blocking this process (whose node must answer it meanwhile). */
function cliAsync(args: string[]): Promise<CliResult> {
  const child = cliSpawn(args)
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (d: Buffer) => (stdout += d))
  child.stderr!.on('data', (d: Buffer) => (stderr += d))
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })))
}

const dir = tempDir('hashmesh-doctor-')
const fed = await testFederation(['Alpha', 'Bravo'])
after(async () => {
  await fed.close()
  dir.cleanup()
})

test('a fresh directory: no roster is a problem with its fix; an unreachable listen address a warning', () => {
  const data = join(dir.path, 'fresh')
  assert.equal(cli(['init', '--data', data, '--name', 'Fresh']).code, 0)
  const r = cli(['doctor', '--data', data])
  assert.equal(r.code, 1, r.stderr)
  assert.match(r.stdout, /^ok {4}member key, peer key and API token are mode 0600$/m)
  assert.match(r.stdout, /^FAIL {2}no roster installed: p2p stays off\n {6}fix: hashmesh roster install /m)
  assert.match(r.stdout, /^warn {2}p2p listens on \/ip4\/127\.0\.0\.1\/tcp\/0: other members' nodes cannot reach it$/m)
  assert.match(r.stdout, /^1 problem to fix$/m)
  assert.equal(r.stderr, '')

  chmodSync(join(data, 'api.token'), 0o644)
  const loose = cli(['doctor', '--data', data])
  assert.equal(loose.code, 1)
  assert.match(loose.stdout, /^FAIL {2}\S+api\.token has mode 644: others can read a secret\n {6}fix: chmod 600 \S+api\.token$/m)
})

test('an API port taken by another process is a problem naming the port', async () => {
  const data = join(dir.path, 'busy')
  assert.equal(cli(['init', '--data', data, '--name', 'Busy']).code, 0)
  const server = createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as { port: number }).port
  try {
    const r = cli(['doctor', '--data', data], { env: { HASHMESH_API_PORT: String(port) } })
    assert.equal(r.code, 1)
    assert.match(r.stdout, new RegExp(`^FAIL {2}API port 127\\.0\\.0\\.1:${port} is taken \\(EADDRINUSE\\)`, 'm'))
  } finally {
    server.close()
  }
})

test('a running member node: it answers, the roster lists it, its peers are connected; exit 0', async () => {
  await fed.start('Alpha')
  await fed.start('Bravo')
  await waitFor('Alpha meets Bravo', () => fed.node('Alpha').network!.peers().length >= 1, 15_000)
  await fed.node('Bravo').node.contribute({ signals: [{ type: 'md5', value: 'b'.repeat(32) }] })
  await waitFor('Alpha has Bravo\'s record', () => fed.node('Alpha').node.feedHeads().length >= 1, 15_000)
  const r = await cliAsync(['doctor', '--data', fed.members[0]!.dataDir])
  assert.equal(r.code, 0, r.stdout + r.stderr)
  assert.match(r.stdout, /^ok {4}a node runs on this directory \(pid \d+\) and answers at http:\/\/127\.0\.0\.1:\d+$/m)
  assert.match(r.stdout, /^ok {4}roster serial 1 \(devnet\) lists this node as Alpha, with 1 other members$/m)
  assert.match(r.stdout, /^ok {4}Bravo: connected$/m)
  assert.match(r.stdout, /^ok {4}bootstrap \/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/\S+: TCP port reachable$/m)
  assert.match(r.stdout, /^ok {4}clock agrees with the members' newest records/m)
  assert.match(r.stdout, /^no problem found$/m)
})

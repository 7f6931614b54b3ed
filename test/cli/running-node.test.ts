/**
 * Commands against a running node: `match` exits 0 on a match and 1 on none and explains itself (policy
 * reasons, opinions); `status` is a readable summary; a signal list far over the API's JSON body limit is
 * sent in several requests.
 */
import { test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ChildProcess } from 'node:child_process'
import { cli, cliSpawn } from '../helpers/cli.js'
import { tempDir } from '../helpers/tmp.js'
import { randomPdqHex } from '../helpers/records.js'
import { waitFor } from '../helpers/federation.js'

const dir = tempDir('hashmesh-running-')
const data = join(dir.path, 'node')
let child: ChildProcess

before(async () => {
  assert.equal(cli(['init', '--data', data, '--name', 'Runner']).code, 0)
  child = cliSpawn(['start', '--data', data, '--api-port', '0', '--log-level', 'warn'])
  let out = ''
  child.stdout!.on('data', (d) => (out += d))
  await waitFor('node started', () => out.includes('apiUrl'), 60_000)
})
after(async () => {
  child.kill('SIGTERM')
  await new Promise((r) => child.once('exit', r))
  dir.cleanup()
})

test('match: exit 0 with reasons and opinions on a match, exit 1 and "no match" on none', () => {
  const pdq = 'ab'.repeat(32)
  assert.equal(cli(['submit', '--data', data, '--pdq', pdq, '-l', 'behavior:recruitment']).code, 0)
  assert.equal(cli(['opinion', 'pdq', pdq, 'true_positive', '--data', data]).code, 0)
  const hit = cli(['match', '--data', data, '--pdq', 'ab'.repeat(31) + 'cd'])
  assert.equal(hit.code, 0, hit.stderr)
  assert.match(hit.stdout, /^(MATCH|[A-Z_]+) pdq (ab)+ distance \d+/m)
  assert.match(hit.stdout, /by Runner on \d{4}-\d\d-\d\d \[behavior:recruitment\].*signature ok/)
  assert.match(hit.stdout, /opinions: 1 true_positive \(Runner: true_positive\)/)
  const none = cli(['match', '--data', data, '--pdq', randomPdqHex()])
  assert.equal(none.code, 1, none.stderr)
  assert.equal(none.stdout.trim(), 'no match')
})

test('status is a readable summary; --json has everything', () => {
  const r = cli(['status', '--data', data])
  assert.equal(r.code, 0, r.stderr)
  for (const heading of ['member', 'peer id', 'node', 'roster', 'replica', 'index', 'peers', 'forked', 'digest']) assert.match(r.stdout, new RegExp(`^${heading} +\\S`, 'm'), heading)
  assert.match(r.stdout, /^node +running/m)
  assert.doesNotMatch(r.stdout, /[{}]/, 'no nested JSON')
  assert.match(JSON.parse(cli(['status', '--data', data, '--json']).stdout).replicaDigest, /^[0-9a-f]+$/)
})

test('a --signals list over the 4 MiB JSON body limit goes in several requests', () => {
  const lines = Array.from({ length: 50_000 }, () => `pdq ${randomPdqHex()} 90`)
  writeFileSync(join(dir.path, 'many.txt'), lines.join('\n'))
  assert.ok(JSON.stringify(lines.map((l) => ({ type: 'pdq', value: l.slice(4, 68), quality: 90 }))).length > 4 * 1024 * 1024)
  const r = cli(['submit', '--data', data, '--signals', join(dir.path, 'many.txt'), '-l', 'behavior:recruitment', '--json'])
  assert.equal(r.code, 0, r.stderr)
  assert.equal((JSON.parse(r.stdout) as { records: unknown[] }).records.length, 50)
})

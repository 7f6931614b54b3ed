import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { cli, cliSpawn } from '../helpers/cli.js'
import { tempDir } from '../helpers/tmp.js'
import { chain, memberFromByte } from '../helpers/records.js'
import { HashmeshNode } from '../../src/node/node.js'
import { initDataDir } from '../../src/node/identity.js'
import { encodeSignedRoster, signRoster } from '../../src/record/roster.js'
import { Signer } from '../../src/record/crypto.js'
import { toHex } from '../../src/record/crypto.js'
import { waitFor } from '../helpers/federation.js'

const dir = tempDir('hashmesh-crash-')
after(() => dir.cleanup())

test('SIGKILL in the middle of a large import leaves a consistent store, and the import can be re-run to completion', async () => {
  const author = memberFromByte(9)
  const records = chain(author, 6000, undefined, 5)
  const file = join(dir.path, 'big.jsonl')
  writeFileSync(file, records.map(({ record, bytes }) => JSON.stringify({ id: record.id, feed: record.author, seq: record.seq, kind: record.kind, bytes: toHex(bytes) })).join('\n') + '\n')
  const data = join(dir.path, 'node')
  const identity = await initDataDir(data, { name: 'Importer' })
  // A roster that makes the author a member (signed by both members, installed locally).
  let roster = signRoster({ document: { federation: 'crash', serial: 1, prev: null, createdAt: 1, members: [
    { name: 'Author', key: author.publicKeyHex, peers: [] }, { name: 'Importer', key: identity.memberKey, peers: [] },
  ] }, signatures: [] }, author)
  roster = signRoster(roster, new Signer(identity.memberKeyPair))
  let node = await HashmeshNode.open(data)
  await node.installRoster(encodeSignedRoster(roster), true)
  await node.close()

  for (const delayMs of [1500, 2500]) {
    const child = cliSpawn(['import', file, '--data', data])
    await new Promise((r) => setTimeout(r, delayMs))
    child.kill('SIGKILL')
    await new Promise((r) => child.once('exit', r))
    node = await HashmeshNode.open(data)
    const head = node.store.head(author.publicKeyHex)
    const count = node.store.getCounts()
    // heads, counts and records agree: every seq up to the head is present and chained
    const seq = head?.seq ?? 0
    assert.equal(count.records, seq)
    assert.equal(count.signals, seq * 5)
    if (head) assert.equal(head.id, records[seq - 1]!.record.id)
    const stored = await node.store.readRange(author.publicKeyHex, 1, 10_000)
    assert.equal(stored.length, seq)
    await node.close()
  }
  const rerun = cli(['import', file, '--data', data, '--json'])
  assert.equal(rerun.code, 0, rerun.stderr)
  node = await HashmeshNode.open(data)
  assert.equal(node.store.head(author.publicKeyHex)?.seq, 6000)
  assert.equal(node.store.getCounts().signals, 30_000)
  await node.close()
})

test('while a node runs on the directory, commands talk to it instead of failing on the lock', async () => {
  const data = join(dir.path, 'running')
  assert.equal(cli(['init', '--data', data, '--name', 'Runner']).code, 0)
  const child = cliSpawn(['start', '--data', data, '--api-port', '0', '--log-level', 'warn'])
  try {
    let out = ''
    child.stdout!.on('data', (d) => (out += d))
    await waitFor('node started', () => out.includes('apiUrl'), 30_000)
    const submitted = cli(['submit', '--data', data, '--pdq', 'ab'.repeat(32), '--json'])
    assert.equal(submitted.code, 0, submitted.stderr)
    const matched = cli(['match', '--data', data, '--pdq', 'ab'.repeat(31) + 'cd', '--json'])
    assert.equal(matched.code, 0, matched.stderr)
    const result = JSON.parse(matched.stdout)
    assert.equal(result.matches[0].value, 'ab'.repeat(32))
    assert.equal(result.matches[0].records[0].member.name, 'Runner')
    const status = JSON.parse(cli(['status', '--data', data, '--json']).stdout)
    assert.equal(status.records, 1)
  } finally {
    child.kill('SIGTERM')
    await new Promise((r) => child.once('exit', r))
  }
})

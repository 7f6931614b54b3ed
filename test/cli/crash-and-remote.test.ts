import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { cli, cliSpawn } from '../helpers/cli.js'
import { tempDir } from '../helpers/tmp.js'
import { chain, memberFromByte } from '../helpers/records.js'
import { HashmeshNode } from '../../src/node/node.js'
import { FILES, initDataDir } from '../../src/node/identity.js'
import { encodeSignedRoster, signRoster } from '../../src/record/roster.js'
import { Signer } from '../../src/record/crypto.js'
import { toHex } from '../../src/record/crypto.js'
import { waitFor } from '../helpers/federation.js'

const dir = tempDir('hashmesh-crash-')
after(() => dir.cleanup())

/** Bytes in the LevelDB directory: its write-ahead log grows with every batch the import stores. */
function storeBytes(storeDir: string): number {
  let total = 0
  for (const name of readdirSync(storeDir)) {
    try {
      total += statSync(join(storeDir, name)).size
    } catch {
      /* a file LevelDB removed between the listing and the stat */
    }
  }
  return total
}

const RECORDS = 6000
const SIGNALS_PER_RECORD = 5
/**
 * Growth of the store that means the import has stored at least one whole batch. The import stores 500
 * records per batch, about 750 KB in LevelDB's log, which it writes in 64 KB pieces: growth of less than a
 * batch can be a batch cut short by the kill, which recovery rightly drops (seq 0). Two megabytes is over
 * two batches, and under a quarter of the 9 MB the whole import writes. Opening the store changes its
 * size by about 1 KB.
 */
const PROGRESS_BYTES = 2 * 1024 * 1024
/** Store size is polled this often: a batch takes hundreds of ms, so the kill lands long before the end. */
const POLL_MS = 5

test('SIGKILL in the middle of a large import leaves a consistent store, and the import can be re-run to completion', async (t) => {
  const author = memberFromByte(9)
  const records = chain(author, RECORDS, undefined, SIGNALS_PER_RECORD)
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

  let previousSeq = 0
  for (const round of [1, 2]) {
    // Kill once the store shows this run's progress, not after a guessed delay (start-up time varies widely).
    const before = storeBytes(join(data, FILES.db))
    const child = cliSpawn(['import', file, '--data', data])
    const exited = new Promise((resolve) => child.once('exit', resolve))
    await waitFor(`round ${round}: the import to store a batch`, () => {
      if (child.exitCode !== null) throw new Error(`round ${round}: the import exited (${child.exitCode}) before it was killed`)
      return storeBytes(join(data, FILES.db)) >= before + PROGRESS_BYTES
    }, 120_000, POLL_MS)
    child.kill('SIGKILL')
    await exited
    assert.equal(child.signalCode, 'SIGKILL', `round ${round}: the import was killed, it did not finish on its own`)

    node = await HashmeshNode.open(data)
    const head = node.head(author.publicKeyHex)
    const seq = head?.seq ?? 0
    // The kill landed mid-import: some records of this run are stored, not all.
    assert.ok(seq > previousSeq, `round ${round}: seq ${seq} after the kill, ${previousSeq} before it`)
    assert.ok(seq < RECORDS, `round ${round}: the import had already finished (seq ${seq})`)
    // Heads, counts and records agree, and every record up to the head is the author's own chain.
    const count = node.counts()
    assert.equal(count.records, seq)
    assert.equal(count.signals, seq * SIGNALS_PER_RECORD)
    assert.equal(head!.id, records[seq - 1]!.record.id)
    const stored = (await node.feedRecords(author.publicKeyHex, 1, RECORDS)).map((r) => r.bytes)
    assert.equal(stored.length, seq)
    for (const [i, bytes] of stored.entries()) assert.ok(Buffer.from(bytes).equals(Buffer.from(records[i]!.bytes)), `round ${round}: seq ${i + 1} differs from the signed chain`)
    await node.close()
    t.diagnostic(`round ${round}: killed with ${seq} of ${RECORDS} records stored`)
    previousSeq = seq
  }
  const rerun = cli(['import', file, '--data', data, '--json'])
  assert.equal(rerun.code, 0, rerun.stderr)
  node = await HashmeshNode.open(data)
  assert.equal(node.head(author.publicKeyHex)?.seq, RECORDS)
  assert.equal(node.counts().signals, RECORDS * SIGNALS_PER_RECORD)
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

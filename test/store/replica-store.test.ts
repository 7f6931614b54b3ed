import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MAX_GROUP_RECORDS, ReplicaStore } from '../../src/store/replica-store.js'
import { createRecord } from '../../src/record/build.js'
import { canonicalProof } from '../../src/record/equivocation.js'
import { signalKey } from '../../src/record/types.js'
import { parseSignalIndexKey } from '../../src/store/keys.js'
import { chain, memberFromByte, pdqHex, signalsBody } from '../helpers/records.js'
import { MemoryKeyValueStore } from '../../src/store/memory-kv.js'
import { tempDir } from '../helpers/tmp.js'

const alice = memberFromByte(1)
const bob = memberFromByte(2)

/** The replica's logic on the in-memory store; tests where the disk is the point open LevelDB themselves. */
async function withStore(fn: (store: ReplicaStore) => Promise<void>): Promise<void> {
  const store = await ReplicaStore.openWith(new MemoryKeyValueStore())
  try {
    await fn(store)
  } finally {
    await store.close()
  }
}

async function withDiskStore(fn: (store: ReplicaStore, path: string) => Promise<void>): Promise<void> {
  const dir = tempDir()
  const store = await ReplicaStore.open(dir.path)
  try {
    await fn(store, dir.path)
  } finally {
    await store.close()
    dir.cleanup()
  }
}

test('appends a chain, keeps heads, and re-appending is a no-op', () =>
  withStore(async (store) => {
    const records = chain(alice, 5)
    const results = await store.appendVerified(records)
    assert.deepEqual(results.map((r) => r.verdict), Array(5).fill('accepted'))
    assert.deepEqual(store.feedHeads(), [{ feed: alice.publicKeyHex, seq: 5, id: records[4]!.record.id }])
    const again = await store.appendVerified(records)
    assert.deepEqual(again.map((r) => r.verdict), Array(5).fill('duplicate'))
    assert.equal(store.getCounts().records, 5)
    const range = await store.readRange(alice.publicKeyHex, 2, 2)
    const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
    assert.deepEqual(range.map(hex), [records[1]!.bytes, records[2]!.bytes].map(hex))
  }))

test('out-of-order records wait in pending until the gap fills', () =>
  withStore(async (store) => {
    const records = chain(alice, 4)
    const late = await store.appendVerified([records[3]!, records[2]!])
    assert.deepEqual(late.map((r) => [r.verdict, r.code]), [['pending', 'SEQ_GAP'], ['pending', 'SEQ_GAP']])
    assert.equal(store.head(alice.publicKeyHex), undefined)
    assert.equal(store.getCounts().pending, 2)
    const fill = await store.appendVerified([records[0]!, records[1]!])
    assert.deepEqual(fill.map((r) => r.verdict), ['accepted', 'accepted'])
    assert.equal(store.head(alice.publicKeyHex)?.seq, 4)
    assert.equal(store.getCounts().pending, 0)
  }))

test('a wrong prev is rejected and nothing is stored', () =>
  withStore(async (store) => {
    const [a1] = chain(alice, 1)
    await store.appendVerified([a1!])
    const bogus = createRecord(alice, { seq: 1, id: 'ab'.repeat(32) }, 'signals', signalsBody([pdqHex(9)]))
    const [result] = await store.appendVerified([bogus])
    assert.equal(result!.verdict, 'rejected')
    assert.equal(result!.code, 'PREV_MISMATCH')
    assert.equal(store.head(alice.publicKeyHex)?.seq, 1)
    assert.equal(await store.getRecordBytes(bogus.record.id), undefined)
    assert.equal(store.getCounts().records, 1)
  }))

test('two different records at the same seq are an equivocation: both kept as a proof, feed flagged', () =>
  withStore(async (store) => {
    const [a1] = chain(alice, 1)
    const fork = createRecord(alice, { seq: 0, id: null }, 'signals', signalsBody([pdqHex(77)]))
    await store.appendVerified([a1!])
    assert.deepEqual(await store.equivocationProofs(), []) // read (and kept) before the fork arrives
    const [result] = await store.appendVerified([fork])
    assert.equal(result!.code, 'EQUIVOCATION')
    assert.ok(store.isEquivocating(alice.publicKeyHex))
    const proofs = await store.equivocationProofs()
    assert.equal(proofs.length, 1)
    // canonical order: ascending ids, whichever arrived first
    const byId = [a1!, fork].sort((x, y) => (x.record.id < y.record.id ? -1 : 1))
    assert.deepEqual(proofs[0]!.records.map((b) => Buffer.from(b).toString('hex')), byId.map((r) => Buffer.from(r.bytes).toString('hex')))
    assert.equal(store.head(alice.publicKeyHex)?.id, a1!.record.id)
    // a proof received from a peer shows up too
    const [b1] = chain(bob, 1)
    const bobFork = createRecord(bob, { seq: 0, id: null }, 'signals', signalsBody([pdqHex(78)]))
    const proof = canonicalProof(bob.publicKeyHex, 1, { id: b1!.record.id, bytes: b1!.bytes }, { id: bobFork.record.id, bytes: bobFork.bytes })
    assert.equal(await store.storeEquivocationProof(proof), 'accepted')
    assert.equal(await store.storeEquivocationProof(proof), 'duplicate')
    assert.deepEqual((await store.equivocationProofs()).map((p) => p.feed).sort(), [alice.publicKeyHex, bob.publicKeyHex].sort())
    assert.equal(store.getCounts().equivocations, 2)
  }))

test('a forked feed is frozen at its fork: nothing at or past it is appended, and the verdict is the author\'s fault', () =>
  withStore(async (store) => {
    const [a1, a2] = chain(alice, 2)
    const b1 = createRecord(alice, { seq: 0, id: null }, 'signals', signalsBody([pdqHex(90)]))
    const b2 = createRecord(alice, { seq: 1, id: b1.record.id }, 'signals', signalsBody([pdqHex(91)]))
    await store.appendVerified([a1!])
    const [fork] = await store.appendVerified([b1])
    assert.equal(fork!.code, 'EQUIVOCATION')
    assert.equal(store.forkSeq(alice.publicKeyHex), 1)
    // the honest-looking continuation of our own branch is not appended either: the feed is frozen
    const [next, other, again] = await store.appendVerified([a2!, b2, b1])
    assert.equal(next!.code, 'FEED_EQUIVOCATED')
    assert.equal(other!.code, 'FEED_EQUIVOCATED')
    assert.equal(again!.verdict, 'duplicate') // the proof's other half
    assert.equal(store.head(alice.publicKeyHex)?.seq, 1)
    // records parked ahead of a frozen head are dropped, never appended
    const a3 = createRecord(alice, { seq: 2, id: a2!.record.id }, 'signals', signalsBody([pdqHex(92)]))
    const [parked] = await store.appendVerified([a3])
    assert.equal(parked!.code, 'FEED_EQUIVOCATED')
  }))

test('a feed keeps its best proof: an earlier fork replaces a later one, on disk too', async () => {
  const dir = tempDir('hashmesh-store-')
  try {
    const x = chain(alice, 3)
    const y1 = createRecord(alice, { seq: 0, id: null }, 'signals', signalsBody([pdqHex(95)]))
    const y2 = createRecord(alice, { seq: 1, id: y1.record.id }, 'signals', signalsBody([pdqHex(96)]))
    let store = await ReplicaStore.open(dir.path)
    await store.appendVerified(x)
    const late = canonicalProof(alice.publicKeyHex, 2, { id: x[1]!.record.id, bytes: x[1]!.bytes }, { id: y2.record.id, bytes: y2.bytes })
    assert.equal(await store.storeEquivocationProof(late), 'accepted')
    assert.equal(store.forkSeq(alice.publicKeyHex), 2)
    // the sync fork search hands over the other branch's record at seq 1: an earlier fork
    const [result] = await store.appendVerified([y1])
    assert.equal(result!.code, 'EQUIVOCATION')
    assert.equal(store.forkSeq(alice.publicKeyHex), 1)
    assert.equal(await store.storeEquivocationProof(late), 'duplicate') // the later one no longer wins
    await store.close()
    store = await ReplicaStore.open(dir.path)
    const proofs = await store.equivocationProofs()
    assert.equal(proofs.length, 1)
    assert.equal(proofs[0]!.seq, 1)
    assert.deepEqual([...proofs[0]!.ids].sort(), [x[0]!.record.id, y1.record.id].sort())
    assert.equal(store.getCounts().equivocations, 1)
    await store.close()
  } finally {
    dir.cleanup()
  }
})

test('revocations apply to the author\'s own signals only, and are stored', () =>
  withStore(async (store) => {
    const [a1] = chain(alice, 1)
    const [b1] = chain(bob, 1, undefined, 1, 500)
    await store.appendVerified([a1!, b1!])
    const revokeOwn = createRecord(alice, { seq: 1, id: a1!.record.id }, 'revoke', { target: a1!.record.id, reason: 'mistake' })
    const revokeOthers = createRecord(alice, { seq: 2, id: revokeOwn.record.id }, 'revoke', { target: b1!.record.id, reason: 'other' })
    const results = await store.appendVerified([revokeOwn, revokeOthers])
    assert.deepEqual(results.map((r) => r.verdict), ['accepted', 'accepted'])
    const aliceKey = signalKey(a1!.record.kind === 'signals' ? a1!.record.body.signals[0]! : ({} as never))
    const bobKey = signalKey(b1!.record.kind === 'signals' ? b1!.record.body.signals[0]! : ({} as never))
    assert.equal((await store.revocation(alice.publicKeyHex, aliceKey))?.by, revokeOwn.record.id)
    assert.equal(await store.revocation(bob.publicKeyHex, bobKey), undefined)
    assert.equal(await store.revocation(alice.publicKeyHex, bobKey), undefined)
  }))

test('the latest opinion per member and signal wins', () =>
  withStore(async (store) => {
    const signal = { type: 'pdq' as const, value: pdqHex(1) }
    const o1 = createRecord(bob, { seq: 0, id: null }, 'opinion', { signal, opinion: 'seen' })
    const o2 = createRecord(bob, { seq: 1, id: o1.record.id }, 'opinion', { signal, opinion: 'false_positive' })
    await store.appendVerified([o1, o2])
    const opinions = await store.opinions(signalKey(signal))
    assert.deepEqual(opinions.map((o) => [o.member, o.opinion]), [[bob.publicKeyHex, 'false_positive']])
  }))

test('state survives close and reopen; commit listeners see records in feed order', async () => {
  const dir = tempDir()
  try {
    const records = chain(alice, 3, undefined, 2)
    let store = await ReplicaStore.open(dir.path)
    const seen: number[] = []
    store.onCommit((committed) => seen.push(...committed.map((r) => r.seq)))
    await store.appendVerified([records[2]!])
    await store.appendVerified([records[0]!, records[1]!])
    assert.deepEqual(seen, [1, 2, 3])
    await store.close()
    store = await ReplicaStore.open(dir.path)
    assert.equal(store.head(alice.publicKeyHex)?.seq, 3)
    assert.equal(store.getCounts().signals, 6)
    const batches: string[][] = []
    for await (const keys of store.signalIndexKeyBatches(4)) batches.push(keys)
    assert.deepEqual(batches.map((b) => b.length), [4, 2]) // (LevelDB on disk: arrays of up to 4 keys)
    const signals = batches.flat().map((key) => parseSignalIndexKey(key))
    assert.deepEqual(new Set(signals.map((x) => x.id)), new Set(records.map((r) => r.record.id)))
    assert.ok(signals.every((x) => /^pdq:[0-9a-f]{64}$/.test(x.signalKey)))
    await store.close()
  } finally {
    dir.cleanup()
  }
})

test('a second process cannot open a store that is in use (STORE_LOCKED)', () =>
  withDiskStore(async (_store, path) => {
    await assert.rejects(ReplicaStore.open(path), (err: { code?: string }) => err.code === 'STORE_LOCKED')
  }))

test('appends made while the writer is busy share one batch, with the verdicts separate calls would get', () =>
  withStore(async (store) => {
    const a = chain(alice, 60)
    const b = chain(bob, 3)
    const before = store.appendBatches
    // one call per record, as gossip makes them; B's records arrive out of order and one A record twice
    const calls = [
      ...a.map((r) => store.appendVerified([r])),
      store.appendVerified([b[2]!]),
      store.appendVerified([a[5]!]),
      store.appendVerified([b[0]!, b[1]!]),
    ]
    const results = await Promise.all(calls)
    assert.deepEqual(results.slice(0, 60).map((r) => r.map((x) => x.verdict)), Array(60).fill(['accepted']))
    assert.deepEqual(results[60]!.map((x) => x.verdict), ['pending'])
    assert.deepEqual(results[61]!.map((x) => x.verdict), ['duplicate'])
    assert.deepEqual(results[62]!.map((x) => x.verdict), ['accepted', 'accepted'])
    assert.equal(store.appendBatches - before, 1)
    assert.equal(store.head(alice.publicKeyHex)?.seq, 60)
    assert.equal(store.head(bob.publicKeyHex)?.seq, 3)
    assert.equal(store.getCounts().records, 63)
  }))

test('a group takes at most MAX_GROUP_RECORDS records; the rest go into the next batch', () =>
  withStore(async (store) => {
    const records = chain(alice, 30)
    const before = store.appendBatches
    const big = Array.from({ length: MAX_GROUP_RECORDS - 10 }, () => records[0]!) // duplicates after the first
    const results = await Promise.all([store.appendVerified(big), ...records.slice(1).map((r) => store.appendVerified([r]))])
    assert.equal(results[0]![0]!.verdict, 'accepted')
    assert.ok(results.slice(1).every((r) => r[0]!.verdict === 'accepted'))
    assert.equal(store.appendBatches - before, 2)
    assert.equal(store.head(alice.publicKeyHex)?.seq, 30)
  }))

test('a closed store refuses appends and reads with STORE_CLOSED', async () => {
  const store = await ReplicaStore.openWith(new MemoryKeyValueStore())
  await store.close()
  const closed = (err: { code?: string }) => err.code === 'STORE_CLOSED'
  await assert.rejects(store.appendVerified(chain(alice, 1)), closed)
  await assert.rejects(store.getRecordBytes('ab'.repeat(32)), closed)
})

test('an aborted signal reads and writes nothing, with a typed error; a queued own write checks again on its turn', () =>
  withStore(async (store) => {
    const records = chain(alice, 3)
    const aborted = AbortSignal.abort()
    await assert.rejects(store.appendVerified(records, { signal: aborted }), { code: 'TIMEOUT' })
    assert.equal(store.getCounts().records, 0)
    await store.appendVerified(records)
    for (const read of [
      () => store.readRange(alice.publicKeyHex, 1, 3, { signal: aborted }),
      () => store.getRecord(records[0]!.record.id, { signal: aborted }),
      () => store.getRecords([records[0]!.record.id], { signal: aborted }),
      () => store.getRecordBytes(records[0]!.record.id, { signal: aborted }),
      () => store.idAtSeq(alice.publicKeyHex, 1, { signal: aborted }),
      () => store.opinions('x', { signal: aborted }),
      () => store.rosterVersions({ signal: aborted }),
    ]) await assert.rejects(read(), { code: 'TIMEOUT' })

    // an own write waiting behind a group commit: aborted while it waits, nothing is built or written
    const more = chain(bob, 2)
    const controller = new AbortController()
    let built = false
    const busy = store.appendVerified(more)
    const own = store.appendOwn(alice.publicKeyHex, () => {
      built = true
      return []
    }, { signal: controller.signal })
    controller.abort()
    await busy
    await assert.rejects(own, { code: 'TIMEOUT' })
    assert.equal(built, false)
    assert.equal(store.getCounts().records, 5)
  }))

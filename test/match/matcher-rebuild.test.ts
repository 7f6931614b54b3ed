import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ReplicaStore } from '../../src/store/replica-store.js'
import { MemoryKeyValueStore } from '../../src/store/memory-kv.js'
import { Matcher } from '../../src/match/matcher.js'
import { createRecord } from '../../src/record/build.js'
import { memberFromByte, randomPdqHex, signalsBody } from '../helpers/records.js'
import { openLevel } from '../../src/store/level-db.js'
import { pdqColumnKey, prefixRange } from '../../src/store/keys.js'
import { asOlderStore } from '../helpers/store-age.js'
import { tempDir } from '../helpers/tmp.js'

const options = {
  policy: { members: null, minQuality: 50, ignoreDisputed: false, ignoreFalsePositive: false, minAgreeingMembers: 1, actOnEquivocated: false },
  pdqThreshold: 31,
  isMember: () => true,
  memberName: () => 'Alpha',
}

test('the index rebuilt from the store finds every live signal and no revoked one', async () => {
  const alpha = memberFromByte(21)
  const values = Array.from({ length: 2500 }, randomPdqHex)
  // the store holds the records before the matcher exists, as at start-up (reopening a replica is tested in test/store)
  const store = await ReplicaStore.openWith(new MemoryKeyValueStore())
  try {
    const r1 = createRecord(alpha, { seq: 0, id: null }, 'signals', signalsBody(values.slice(0, 1000)))
    const r2 = createRecord(alpha, { seq: 1, id: r1.record.id }, 'signals', signalsBody(values.slice(1000, 2000)))
    const r3 = createRecord(alpha, { seq: 2, id: r2.record.id }, 'signals', signalsBody(values.slice(2000)))
    const revoke = createRecord(alpha, { seq: 3, id: r3.record.id }, 'revoke', { target: r2.record.id, signal: 7, reason: 'mistake' })
    await store.appendVerified([r1, r2, r3, revoke])

    const matcher = new Matcher(store, options)
    const progress: number[] = []
    assert.equal(await matcher.rebuild((done) => progress.push(done)), 2500)
    assert.deepEqual(progress, [], 'progress is told per full batch of a million: none here (the caller says when the index is ready)')
    assert.equal(matcher.catalog.size, 2500)
    for (const i of [0, 999, 1000, 1500, 2499]) {
      const [hit] = await matcher.match([{ type: 'pdq', value: values[i]! }])
      assert.equal(hit?.value, values[i])
      assert.equal(hit?.distance, 0)
      assert.equal(hit?.records[0]!.signatureVerified, true)
    }
    assert.deepEqual(await matcher.match([{ type: 'pdq', value: values[1007]! }]), [])
    // incremental adds after the bulk build are found too
    const r5 = createRecord(alpha, { seq: 4, id: revoke.record.id }, 'signals', signalsBody([randomPdqHex()]))
    await store.appendVerified([r5])
    const added = r5.record.kind === 'signals' ? r5.record.body.signals[0]!.value : ''
    assert.equal((await matcher.match([{ type: 'pdq', value: added }]))[0]?.value, added)
  } finally {
    await store.close()
  }
})

/** How many of `values` the matcher finds at distance 0. */
async function foundExactly(matcher: Matcher, values: string[]): Promise<number> {
  let found = 0
  for (const value of values) if ((await matcher.match([{ type: 'pdq', value }]))[0]?.distance === 0) found++
  return found
}

/**
 * Records of PDQ hashes (and an MD5 among them) in a LevelDB replica; `age` then rewrites the store as a
 * hashmesh from before PDQ columns left it (or one that fell behind), and the rebuild must find the same.
 */
async function rebuiltFrom(age: (kv: Awaited<ReturnType<typeof openLevel>>) => Promise<void>): Promise<{ hasColumns: boolean; found: number; missed: number; size: number; signals: number }> {
  const dir = tempDir('hashmesh-pdq-columns-')
  try {
    const alpha = memberFromByte(22)
    const values = Array.from({ length: 1500 }, randomPdqHex)
    let store = await ReplicaStore.open(dir.path)
    const r1 = createRecord(alpha, { seq: 0, id: null }, 'signals', signalsBody(values.slice(0, 1000)))
    const r2 = createRecord(alpha, { seq: 1, id: r1.record.id }, 'signals', { ...signalsBody(values.slice(1000)), signals: [{ type: 'md5', value: 'ab'.repeat(16) }, ...signalsBody(values.slice(1000)).signals] })
    await store.appendVerified([r1, r2])
    await store.close()
    const kv = await openLevel(dir.path)
    await age(kv)
    await kv.close()
    store = await ReplicaStore.open(dir.path)
    try {
      const matcher = new Matcher(store, options)
      const signals = await matcher.rebuild()
      const found = await foundExactly(matcher, values)
      return { hasColumns: store.hasPdqColumns(), found, missed: values.length - found, size: matcher.catalog.size, signals }
    } finally {
      await store.close()
    }
  } finally {
    dir.cleanup()
  }
}

test('PDQ columns: a record\'s PDQ hashes are one value written with it, and the rebuild reads them (the store counts them complete)', async () => {
  const dir = tempDir('hashmesh-pdq-columns-')
  try {
    const alpha = memberFromByte(23)
    const pdq = [randomPdqHex(), randomPdqHex()]
    const store = await ReplicaStore.open(dir.path)
    assert.equal(store.hasPdqColumns(), true, 'a new store keeps them from its first record')
    const r1 = createRecord(alpha, { seq: 0, id: null }, 'signals', { ...signalsBody([]), signals: [{ type: 'pdq', value: pdq[0]! }, { type: 'md5', value: 'cd'.repeat(16) }, { type: 'pdq', value: pdq[1]! }] })
    const r2 = createRecord(alpha, { seq: 1, id: r1.record.id }, 'signals', { ...signalsBody([]), signals: [{ type: 'sha256', value: 'ef'.repeat(32) }] })
    await store.appendVerified([r1, r2])
    assert.equal(store.hasPdqColumns(), true)
    assert.equal('pdqColumns' in store.getCounts(), false, 'the count is the store\'s own, not a status field')
    await store.close()
    const kv = await openLevel(dir.path)
    try {
      assert.equal(Buffer.from((await kv.get(pdqColumnKey(r1.record.id)))!).toString('hex'), pdq.join(''), 'the PDQ hashes in signal order, the MD5 left out')
      assert.equal(await kv.get(pdqColumnKey(r2.record.id)), undefined, 'a record without PDQ hashes has none')
    } finally {
      await kv.close()
    }
  } finally {
    dir.cleanup()
  }
  const fresh = await rebuiltFrom(async () => undefined)
  assert.deepEqual(fresh, { hasColumns: true, found: 1500, missed: 0, size: 1500, signals: 1501 })
})

test('PDQ columns: a store begun before them, or one whose columns fell behind (written meanwhile by an older hashmesh), is rebuilt from the signal index and misses nothing', async () => {
  // (the first record keeps its PDQ value: the rebuild must not read the values when they are incomplete)
  const older = await rebuiltFrom(async (kv) => assert.equal(await asOlderStore(kv, { keep: 1 }), 2))
  assert.deepEqual(older, { hasColumns: false, found: 1500, missed: 0, size: 1500, signals: 1501 })
  const behind = await rebuiltFrom(async (kv) => assert.equal(await asOlderStore(kv, { keep: 1, pdqColumns: 1000 }), 2))
  assert.deepEqual(behind, { hasColumns: false, found: 1500, missed: 0, size: 1500, signals: 1501 })
})

test('PDQ columns: a damaged column stops the rebuild with INTERNAL naming its length, not a half-built index', async () => {
  await assert.rejects(
    rebuiltFrom(async (kv) => {
      for await (const key of kv.keys(prefixRange('pdq!'))) await kv.batch([{ type: 'put', key, value: new Uint8Array(33) }])
    }),
    { code: 'INTERNAL', message: /PDQ column of 33 bytes/ },
  )
})

test('PDQ columns: completePdqColumns writes them for a store begun before them, records appended meanwhile write their own, and the next rebuild reads them and finds every hash', async () => {
  const dir = tempDir('hashmesh-pdq-columns-')
  try {
    const alpha = memberFromByte(24)
    const values = Array.from({ length: 1201 }, randomPdqHex)
    let store = await ReplicaStore.open(dir.path)
    const records = [createRecord(alpha, { seq: 0, id: null }, 'signals', signalsBody(values.slice(0, 400)))]
    for (let i = 1; i < 3; i++) records.push(createRecord(alpha, { seq: i, id: records[i - 1]!.record.id }, 'signals', signalsBody(values.slice(i * 400, i * 400 + 400))))
    await store.appendVerified(records)
    await store.close()
    // as a hashmesh from before the columns left it
    let kv = await openLevel(dir.path)
    await asOlderStore(kv)
    await kv.close()

    store = await ReplicaStore.open(dir.path)
    assert.equal(store.hasPdqColumns(), false)
    const appended = createRecord(alpha, { seq: 3, id: records[2]!.record.id }, 'signals', signalsBody(values.slice(1200)))
    await store.appendVerified([appended])
    let written = 0
    for await (const column of store.pdqColumns()) written += column.length / 32
    assert.equal(written, 1, 'a record appended to an incomplete store writes its own')
    assert.equal(store.hasPdqColumns(), false, 'still counted incomplete')
    const completing = store.completePdqColumns()
    const last = createRecord(alpha, { seq: 4, id: appended.record.id }, 'signals', { ...signalsBody([]), signals: [{ type: 'md5', value: '12'.repeat(16) }] })
    await store.appendVerified([last]) // (while it runs: it yields after each record)
    assert.equal(await completing, 4, 'every record with PDQ hashes (the one appended meanwhile has none)')
    assert.equal(store.hasPdqColumns(), true)
    assert.equal(await store.completePdqColumns(), 0, 'complete: nothing more to write')
    await store.close()

    kv = await openLevel(dir.path)
    let columns = 0
    for await (const _key of kv.keys(prefixRange('pdq!'))) columns++
    await kv.close()
    assert.equal(columns, 4)
    store = await ReplicaStore.open(dir.path)
    try {
      assert.equal(store.hasPdqColumns(), true, 'counted complete on disk')
      const matcher = new Matcher(store, options)
      assert.equal(await matcher.rebuild(), 1202, 'the signals stored (the MD5 among them)')
      const found = await foundExactly(matcher, values)
      assert.equal(found, 1201)
    } finally {
      await store.close()
    }
  } finally {
    dir.cleanup()
  }
})

test('PDQ columns: completePdqColumns stops when aborted and leaves the store counted incomplete (it starts over next time)', async () => {
  const dir = tempDir('hashmesh-pdq-columns-')
  try {
    const alpha = memberFromByte(25)
    let store = await ReplicaStore.open(dir.path)
    await store.appendVerified([createRecord(alpha, { seq: 0, id: null }, 'signals', signalsBody([randomPdqHex()]))])
    await store.close()
    const kv = await openLevel(dir.path)
    await asOlderStore(kv, { keep: Infinity }) // (the count alone says incomplete)
    await kv.close()
    store = await ReplicaStore.open(dir.path)
    try {
      const stop = new AbortController()
      stop.abort()
      await assert.rejects(store.completePdqColumns({ signal: stop.signal }), { code: 'TIMEOUT', message: /aborted/ })
      assert.equal(store.hasPdqColumns(), false)
      assert.equal(await store.completePdqColumns(), 1)
      assert.equal(store.hasPdqColumns(), true)
    } finally {
      await store.close()
    }
  } finally {
    dir.cleanup()
  }
})

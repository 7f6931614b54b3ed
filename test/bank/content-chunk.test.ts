/** Bank content added in bulk is stored in chunks (bank/content-chunk.ts): the codec's golden bytes, and the store's view of chunk items through updates, deletions, renames and reopening on LevelDB. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { BankStore, type ContentInput } from '../../src/bank/bank-store.js'
import { CHUNK_ITEMS, DecodedChunk, encodeChunk, isChunk } from '../../src/bank/content-chunk.js'
import { ExactPdqHolder } from '../../src/bank/pdq-holder.js'
import { hashToWords } from '../../src/match/pdq-index.js'
import { openLevel, type KeyValueStore } from '../../src/store/level-db.js'
import { MemoryKeyValueStore } from '../../src/store/memory-kv.js'
import { tempDir } from '../helpers/tmp.js'

const hex = (byte: number, bytes: number): string => byte.toString(16).padStart(2, '0').repeat(bytes)
const noneReserved = (): boolean => false

test('chunk codec: golden bytes of a two-item chunk, and the items read back', () => {
  const bytes = encodeChunk('B', 7, [
    { signals: { pdq: hex(0xab, 32) }, note: null, metadata: null },
    { signals: { md5: hex(0x01, 16), vpdq: 'v1' }, note: 'n', metadata: null, records: ['r'] },
  ])
  const extras = '[null,{"note":"n","records":["r"],"vpdq":"v1"}]'
  const header = `{"bank":"B","createdAt":7,"columns":["pdq","md5"],"extras":${extras.length}}`
  const golden = Buffer.concat([
    Buffer.from([1, 0, 0, 0, 2, 0, 0, 0, header.length]), Buffer.from(header),
    Buffer.from([0b01]), Buffer.alloc(32, 0xab), // pdq: item 0
    Buffer.from([0b10]), Buffer.alloc(16, 0x01), // md5: item 1
    Buffer.from(extras),
  ])
  assert.equal(Buffer.from(bytes).toString('hex'), golden.toString('hex'))
  assert.ok(isChunk(bytes))
  assert.ok(!isChunk(Buffer.from('{"id":1}')))
  const chunk = new DecodedChunk(bytes)
  assert.deepEqual(chunk.content(100, 0), { id: 100, bank: 'B', signals: { pdq: hex(0xab, 32) }, note: null, metadata: null, disableUntilTs: 0, createdAt: 7, updatedAt: 7 })
  assert.deepEqual(chunk.content(100, 1), { id: 101, bank: 'B', signals: { md5: hex(0x01, 16), vpdq: 'v1' }, note: 'n', metadata: null, disableUntilTs: 0, createdAt: 7, updatedAt: 7, records: ['r'] })
  assert.equal(chunk.value('pdq', 1), undefined)
  assert.deepEqual(chunk.columnTypes, ['pdq', 'md5'])
  assert.deepEqual([chunk.has('pdq', 0), chunk.has('pdq', 1), chunk.has('md5', 0), chunk.has('md5', 1), chunk.has('sha256', 0)], [true, false, false, true, false])
  assert.equal(chunk.pdqWords(1, new Uint32Array(8), 0), false)
  assert.equal(chunk.pdqWords(0, new Uint32Array(8), 0), true)
  assert.deepEqual(new DecodedChunk(chunk.renamed('OTHER_NAME')).content(100, 1).bank, 'OTHER_NAME')
})

test('chunk codec: pdqWords packs an item\'s PDQ hash as hashToWords does, where its column skips items that lack one', () => {
  const pdqs = ['00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff', 'f'.repeat(63) + '0', '8'.repeat(64)]
  const chunk = new DecodedChunk(encodeChunk('B', 7, [
    { signals: { pdq: pdqs[0] }, note: null, metadata: null },
    { signals: { md5: hex(1, 16) }, note: null, metadata: null },
    { signals: { pdq: pdqs[1] }, note: null, metadata: null },
    { signals: { pdq: pdqs[2], md5: hex(2, 16) }, note: null, metadata: null },
  ]))
  const out = new Uint32Array(4 * 8).fill(7)
  assert.deepEqual([0, 1, 2, 3].map((i) => chunk.pdqWords(i, out, i * 8)), [true, false, true, true])
  for (const [i, pdq] of [[0, pdqs[0]], [2, pdqs[1]], [3, pdqs[2]]] as const) {
    assert.deepEqual([...out.subarray(i * 8, i * 8 + 8)], [...hashToWords(Buffer.from(pdq!, 'hex'))], `item ${i}`)
  }
  assert.deepEqual([...out.subarray(8, 16)], new Array(8).fill(7), 'an item without a PDQ hash leaves its words alone')
})

test('chunk codec: a truncated chunk or an unknown version is refused as INTERNAL, never half read', () => {
  const bytes = encodeChunk('B', 7, [{ signals: { sha256: hex(2, 32) }, note: null, metadata: null }])
  assert.throws(() => new DecodedChunk(bytes.subarray(0, bytes.length - 1)), { code: 'INTERNAL' })
  assert.throws(() => new DecodedChunk(Uint8Array.of(2, ...bytes.subarray(1))), { code: 'INTERNAL' })
  const header = Buffer.from('{"bank":"B","createdAt":7,"columns":["evil"],"extras":0}')
  const unknownColumn = Buffer.concat([Buffer.from([1, 0, 0, 0, 1, 0, 0, 0, header.length]), header, Buffer.from([1]), Buffer.alloc(32)])
  assert.throws(() => new DecodedChunk(unknownColumn), { code: 'INTERNAL', message: /unknown column "evil"/ })
  assert.throws(() => encodeChunk('B', 7, []), RangeError)
  assert.throws(() => encodeChunk('B', 7, [{ signals: { pdq: 'zz'.repeat(32) }, note: null, metadata: null }]), { code: 'HASH_INVALID' })
})

/** 2,500 items (three chunks, the last partial): every 5th has an MD5 instead of a PDQ hash, every 7th a note, every 11th a vpdq. */
function bulk(): ContentInput[] {
  return Array.from({ length: 2500 }, (_, i) => ({
    signals: i % 5 === 0 ? { md5: i.toString(16).padStart(32, '0'), ...(i % 11 === 0 ? { vpdq: `video-${i}` } : {}) } : { pdq: i.toString(16).padStart(64, '0') },
    note: i % 7 === 0 ? `note ${i}` : null,
    metadata: i % 3 === 0 ? { json: { i } } : undefined,
  }))
}

async function withLevel(fn: (open: () => Promise<KeyValueStore>) => Promise<void>): Promise<void> {
  const dir = tempDir('hashmesh-chunks-')
  try {
    await fn(() => openLevel(join(dir.path, 'db')))
  } finally {
    dir.cleanup()
  }
}

test('chunk items: read, paged, looked up, updated, deleted and renamed, the same before and after reopening LevelDB', async () => {
  await withLevel(async (open) => {
    let kv = await open()
    let store = await BankStore.open(kv)
    await store.createBank({ name: 'BULK' }, noneReserved)
    await store.createBank({ name: 'SMALL' }, noneReserved)
    const added = await store.addContents('BULK', bulk())
    assert.equal(added.length, 2500)
    assert.deepEqual([added[0]!.id, added.at(-1)!.id], [1, 2500])
    const chunkKeys: string[] = []
    for await (const key of kv.keys({ gte: 'bank!chunk!', lt: 'bank!chunk!\xff' })) chunkKeys.push(key)
    assert.equal(chunkKeys.length, Math.ceil(2500 / CHUNK_ITEMS))
    let itemKeys = 0
    for await (const _ of kv.keys({ gte: 'bank!item!', lt: 'bank!item!\xff' })) itemKeys++
    assert.equal(itemKeys, 0, 'bulk content has no per-item keys')
    await store.addContent('SMALL', { signals: { sha256: hex(9, 32) } }) // one item: its own key, id 2501

    await store.updateContent('BULK', 1030, { disableUntilTs: 1, note: 'edited' })
    assert.equal(await store.deleteContents('BULK', [7, 2400]), 2)
    await store.updateBank('BULK', { name: 'RENAMED' }, noneReserved)

    const check = async (s: BankStore, when: string): Promise<void> => {
      assert.equal(s.countContent('RENAMED'), 2498, when)
      assert.equal(s.countSignals('pdq'), 2000 - 1 - 1, when) // 7 and 2400 are PDQ items (not multiples of 5)
      assert.equal((await s.getContent('RENAMED', 1030)).note, 'edited', when)
      assert.equal((await s.getContent('RENAMED', 1030)).disableUntilTs, 1, when)
      assert.equal((await s.getContent('RENAMED', 1030)).bank, 'RENAMED', when)
      await assert.rejects(s.getContent('RENAMED', 7), { code: 'NOT_FOUND' }, when)
      assert.deepEqual(await s.getContent('RENAMED', 106), { id: 106, bank: 'RENAMED', signals: { md5: (105).toString(16).padStart(32, '0') }, note: 'note 105', metadata: { json: { i: 105 } }, disableUntilTs: 0, createdAt: added[105]!.createdAt, updatedAt: added[105]!.updatedAt }, when)
      assert.deepEqual((await s.getContent('RENAMED', 56)).signals, { md5: (55).toString(16).padStart(32, '0'), vpdq: 'video-55' }, when)
      const page = await s.listContentPage('RENAMED', 1020, 10)
      assert.deepEqual(page.map((c) => c.id), [1021, 1022, 1023, 1024, 1025, 1026, 1027, 1028, 1029, 1030], when)
      assert.deepEqual((await s.lookup('pdq', (1999).toString(16).padStart(64, '0'), 0)).map((h) => [h.contentId, h.bank.name]), [[2000, 'RENAMED']], when)
      assert.deepEqual((await s.lookup('pdq', (6).toString(16).padStart(64, '0'), 0)), [], when)
      assert.deepEqual((await s.lookup('md5', (0).toString(16).padStart(32, '0'), 0)).map((h) => h.contentId), [1], when)
      assert.deepEqual((await s.lookup('vpdq', 'video-110', 0)).map((h) => h.contentId), [111], when)
      assert.equal(s.holds('RENAMED', 'pdq', (2398).toString(16).padStart(64, '0')), true, when)
      assert.equal(s.holds('RENAMED', 'pdq', (2399).toString(16).padStart(64, '0')), false, when) // deleted (id 2400)
      assert.equal((await s.listContent('RENAMED')).length, 2498, when)
      assert.equal((await s.getContent('SMALL', 2501)).signals.sha256, hex(9, 32), when)
      assert.equal(s.getBank('BULK'), undefined, when)
    }
    await check(store, 'before reopening')
    await kv.close()
    kv = await open()
    store = await BankStore.open(kv)
    await check(store, 'after reopening')
    assert.equal((await store.addContent('SMALL', { signals: { md5: hex(3, 16) } })).id, 2502, 'ids go on past the chunks')

    await store.deleteBank('RENAMED')
    const left: string[] = []
    for await (const key of kv.keys({ gte: 'bank!item!', lt: 'bank!item!\xff' })) left.push(key)
    for await (const key of kv.keys({ gte: 'bank!chunk!', lt: 'bank!chunk!\xff' })) left.push(key)
    assert.deepEqual(left, ['bank!item!0000000000002501', 'bank!item!0000000000002502'], 'a deleted bank leaves no chunk, update or deletion mark behind')
    await kv.close()
    kv = await open()
    store = await BankStore.open(kv)
    assert.equal(store.contentCount, 2)
    assert.equal((await store.addContent('SMALL', { signals: { md5: hex(4, 16) } })).id, 2503)
    await kv.close()
  })
})

test('chunks of bare PDQ hashes load in one piece each (onlyPdq); one holding an item with a key of its own loads item by item; both read the same after reopening', async () => {
  await withLevel(async (open) => {
    let kv = await open()
    let store = await BankStore.open(kv)
    await store.createBank({ name: 'BARE' }, noneReserved)
    await store.createBank({ name: 'OTHER' }, noneReserved)
    const pdq = (i: number): string => (i + 7).toString(16).padStart(64, '0')
    await store.addContents('BARE', Array.from({ length: 2100 }, (_, i) => ({ signals: { pdq: pdq(i) } }))) // ids 1..2100: chunks at 1, 1025, 2049
    await store.addContents('OTHER', Array.from({ length: 40 }, (_, i) => ({ signals: { pdq: pdq(5000 + i) }, note: 'a note' }))) // ids 2101..2140: not bare
    const chunks: DecodedChunk[] = []
    for await (const [, value] of kv.entries({ gte: 'bank!chunk!', lt: 'bank!chunk!\xff' })) chunks.push(new DecodedChunk(value))
    assert.deepEqual(chunks.map((c) => c.onlyPdq), [true, true, true, false])
    const packed = new Uint32Array(chunks[2]!.count * 8)
    chunks[2]!.packPdq(packed, 0)
    assert.deepEqual([...packed.subarray(8, 16)], [...hashToWords(Buffer.from(pdq(2049), 'hex'))], 'item 1 of the third chunk (id 2050)')
    assert.throws(() => chunks[3]!.packPdq(new Uint32Array(8), 0), RangeError)
    await store.updateContent('BARE', 1030, { disableUntilTs: 5 }) // a key of its own in the second chunk
    assert.equal(await store.deleteContents('BARE', [2050]), 1) // and a deletion mark in the third
    const check = async (s: BankStore, when: string): Promise<void> => {
      assert.equal(s.countContent('BARE'), 2099, when)
      assert.equal(s.countSignals('pdq'), 2099 + 40, when)
      assert.deepEqual(await s.getContent('BARE', 3), { id: 3, bank: 'BARE', signals: { pdq: pdq(2) }, note: null, metadata: null, disableUntilTs: 0, createdAt: (await s.getContent('BARE', 3)).createdAt, updatedAt: (await s.getContent('BARE', 3)).createdAt }, when)
      assert.equal((await s.getContent('BARE', 1030)).disableUntilTs, 5, when)
      await assert.rejects(s.getContent('BARE', 2050), { code: 'NOT_FOUND' }, when)
      for (const id of [1, 1024, 1025, 1031, 2049, 2100]) {
        assert.deepEqual((await s.lookup('pdq', pdq(id - 1), 0)).map((h) => [h.contentId, h.bank.name]), [[id, 'BARE']], `${when}: id ${id}`)
      }
      assert.deepEqual(await s.lookup('pdq', pdq(2049), 0), [], `${when}: deleted`)
      assert.deepEqual((await s.lookup('pdq', pdq(5000), 0)).map((h) => h.contentId), [2101], when)
      assert.deepEqual((await s.listContentPage('BARE', 1022, 4)).map((c) => c.id), [1023, 1024, 1025, 1026], when)
    }
    await check(store, 'before reopening')
    await kv.close()
    kv = await open()
    store = await BankStore.open(kv)
    await check(store, 'after reopening')
    await store.addContents('BARE', [{ signals: { pdq: pdq(9000) } }])
    assert.equal(store.countContent('BARE'), 2100)
    await kv.close()
  })
})

test('a chunk whose items are all deleted is deleted with the keys of its items; the others stay as they were', async () => {
  await withLevel(async (open) => {
    let kv = await open()
    let store = await BankStore.open(kv)
    await store.createBank({ name: 'CHURN' }, noneReserved)
    await store.addContents('CHURN', bulk()) // ids 1..2500: chunks at 1, 1025, 2049
    await store.updateContent('CHURN', 3, { note: 'kept a key of its own' })
    assert.equal(await store.deleteContents('CHURN', [5, 6]), 2) // two deletion marks in the first chunk
    const firstChunk = Array.from({ length: 1024 }, (_, i) => i + 1)
    assert.equal(await store.deleteContents('CHURN', [...firstChunk, 1030]), 1023) // the rest of it, and one of the second
    const keys: string[] = []
    for await (const key of kv.keys({ gte: 'bank!', lt: 'bank!\xff' })) if (!key.startsWith('bank!cfg!') && key !== 'bank!next') keys.push(key)
    assert.deepEqual(keys, ['bank!chunk!0000000000001025', 'bank!chunk!0000000000002049', 'bank!item!0000000000001030'])
    const check = async (s: BankStore, when: string): Promise<void> => {
      assert.equal(s.countContent('CHURN'), 2500 - 1025, when)
      await assert.rejects(s.getContent('CHURN', 3), { code: 'NOT_FOUND' }, when)
      await assert.rejects(s.getContent('CHURN', 1030), { code: 'NOT_FOUND' }, when)
      assert.equal((await s.getContent('CHURN', 1031)).id, 1031, when)
      assert.deepEqual((await s.listContentPage('CHURN', 0, 2)).map((c) => c.id), [1025, 1026], when)
    }
    await check(store, 'before reopening')
    await kv.close()
    kv = await open()
    store = await BankStore.open(kv)
    await check(store, 'after reopening')
    assert.equal((await store.addContent('CHURN', { signals: { md5: hex(7, 16) } })).id, 2501)
    await kv.close()
  })
})

test('an offline import store (ExactPdqHolder): exact duplicate checks without a match index; a search is refused', async () => {
  await withLevel(async (open) => {
    const kv = await open()
    const store = await BankStore.open(kv, new ExactPdqHolder())
    await store.createBank({ name: 'OFFLINE' }, noneReserved)
    await store.addContents('OFFLINE', bulk())
    assert.equal(store.holds('OFFLINE', 'pdq', (1).toString(16).padStart(64, '0')), true)
    assert.equal(store.holds('OFFLINE', 'pdq', (5).toString(16).padStart(64, '0')), false)
    await assert.rejects(store.lookup('pdq', (1).toString(16).padStart(64, '0'), 31), { code: 'INTERNAL' })
    await kv.close()
    const reopened = await BankStore.open(await open(), new ExactPdqHolder())
    assert.equal(reopened.holds('OFFLINE', 'pdq', (2499).toString(16).padStart(64, '0')), true)
    assert.equal(reopened.pdqCount(), 2000)
  })
})

test('a large add gives the event loop turns before it writes (a running node importing a list keeps answering)', async () => {
  let immediateRan = false
  let ranBeforeWrite: boolean | undefined
  const kv = new MemoryKeyValueStore()
  const batch = kv.batch.bind(kv)
  kv.batch = async (ops) => {
    ranBeforeWrite ??= immediateRan
    return batch(ops)
  }
  const store = await BankStore.open(kv)
  await store.createBank({ name: 'BIG' }, noneReserved)
  ranBeforeWrite = undefined
  const inputs = Array.from({ length: 50_000 }, (_, i) => ({ signals: { pdq: i.toString(16).padStart(64, '0') } }))
  setImmediate(() => (immediateRan = true))
  await store.addContents('BIG', inputs)
  assert.equal(ranBeforeWrite, true, 'validating and encoding 50,000 items yielded to the event loop before the store write')
  assert.equal(store.countContent('BIG'), 50_000)
})

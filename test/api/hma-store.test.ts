/** Banks outlive a restart (rebuilt from the replica's LevelDB at start); /status is 503 INDEX-NOT-LOADED until the indexes are built. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildApp } from '../../src/api/server.js'
import { BankStore } from '../../src/bank/bank-store.js'
import { initDataDir } from '../../src/node/identity.js'
import { HashmeshNode } from '../../src/node/node.js'
import { MemoryKeyValueStore } from '../../src/store/memory-kv.js'
import { flipBits, TEST_LIMITS } from '../helpers/api.js'
import { randomPdqHex } from '../helpers/records.js'
import { tempDir } from '../helpers/tmp.js'

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

test('/status is 503 INDEX-NOT-LOADED before the match index is built, 200 after; bank content survives a restart', async () => {
  const dir = tempDir('hashmesh-hma-store-')
  const identity = await initDataDir(dir.path, { name: 'store-member' })
  const pdq = randomPdqHex()
  try {
    let node = await HashmeshNode.open(dir.path, { env: {} })
    let app = await buildApp(node, { token: identity.apiToken, ...TEST_LIMITS })
    const early = await app.inject({ method: 'GET', url: '/status', headers: bearer(identity.apiToken) })
    assert.equal(early.statusCode, 503)
    assert.equal(early.body, 'INDEX-NOT-LOADED')
    assert.equal((await app.inject({ method: 'GET', url: '/status/live', headers: bearer(identity.apiToken) })).statusCode, 200)
    await node.enableMatching()
    // the banks load beside the match index: a load balancer polls until 200
    const deadline = Date.now() + 5000
    let status = 503
    while (status === 503 && Date.now() < deadline) {
      status = (await app.inject({ method: 'GET', url: '/status', headers: bearer(identity.apiToken) })).statusCode
      if (status === 503) await new Promise((resolve) => setTimeout(resolve, 20))
    }
    assert.equal(status, 200)
    assert.equal((await app.inject({ method: 'POST', url: '/c/banks', headers: bearer(identity.apiToken), payload: { name: 'KEPT', kind: 'negative' } })).statusCode, 201)
    const added = await app.inject({ method: 'POST', url: '/c/bank/KEPT/signal', headers: bearer(identity.apiToken), payload: { pdq, md5: 'c'.repeat(32) } })
    assert.equal(added.statusCode, 200)
    await app.close()
    await node.close()

    node = await HashmeshNode.open(dir.path, { env: {} })
    await node.enableMatching()
    app = await buildApp(node, { token: identity.apiToken, ...TEST_LIMITS })
    const banks = await app.inject({ method: 'GET', url: '/c/banks', headers: bearer(identity.apiToken) })
    assert.deepEqual(banks.json(), [{ name: 'KEPT', matching_enabled_ratio: 1, kind: 'negative' }])
    const raw = await app.inject({ method: 'GET', url: `/m/raw_lookup?signal_type=pdq&signal=${flipBits(pdq, 5)}&include_distance=true`, headers: bearer(identity.apiToken) })
    assert.deepEqual(raw.json(), { matches: [{ content_id: added.json().id, distance: '5' }] })
    const next = await app.inject({ method: 'POST', url: '/c/bank/KEPT/signal', headers: bearer(identity.apiToken), payload: { sha256: 'd'.repeat(64) } })
    assert.equal(next.json().id, added.json().id + 1, 'content ids keep counting after a restart')
    await app.close()
    await node.close()
  } finally {
    dir.cleanup()
  }
})

test('BankStore over the in-memory key-value store: rename moves content, delete drops it from the index', async () => {
  const kv = new MemoryKeyValueStore()
  const store = await BankStore.open(kv)
  const none = () => false
  await store.createBank({ name: 'A' }, none)
  const pdq = randomPdqHex()
  const content = await store.addContent('A', { signals: { pdq } })
  await store.updateBank('A', { name: 'B' }, none)
  assert.equal(store.getBank('A'), undefined)
  assert.deepEqual((await store.lookup('pdq', pdq, 31)).map((h) => h.bank.name), ['B'])
  const reopened = await BankStore.open(kv)
  assert.deepEqual((await reopened.lookup('pdq', pdq, 31)).map((h) => [h.bank.name, h.contentId]), [['B', content.id]])
  await reopened.deleteBank('B')
  assert.deepEqual(await reopened.lookup('pdq', pdq, 31), [])
  assert.deepEqual((await BankStore.open(kv)).listBanks(), [])
  await assert.rejects(store.createBank({ name: 'lower' }, none), /UPPER/)
  await assert.rejects(store.addContent('NOPE', { signals: { pdq } }), /not found/)
})

test('a bank store of 150,000 items reopens whole: ids continue past the largest, every PDQ hash is found (no argument-spread overflow)', async () => {
  const kv = new MemoryKeyValueStore()
  const store = await BankStore.open(kv)
  await store.createBank({ name: 'BIG' }, () => false)
  const hashes: string[] = []
  for (let done = 0; done < 150_000; done += 5000) {
    const batch = Array.from({ length: 5000 }, () => randomPdqHex())
    hashes.push(batch[0]!, batch[4999]!)
    await store.addContents('BIG', batch.map((pdq, i) => ({ signals: i % 2 === 0 ? { pdq } : { pdq, md5: (done + i).toString(16).padStart(32, '0') } })))
  }
  const reopened = await BankStore.open(kv)
  assert.equal(reopened.contentCount, 150_000)
  assert.equal(reopened.pdqCount(), 150_000)
  for (const pdq of hashes) assert.equal((await reopened.lookup('pdq', flipBits(pdq, 5), 31))[0]?.distance, 5)
  assert.equal((await reopened.lookup('md5', (1).toString(16).padStart(32, '0'), 0)).length, 1)
  const added = await reopened.addContent('BIG', { signals: { pdq: randomPdqHex() } })
  assert.equal(added.id, 150_001)
})

test('the bank view follows adds, updates, renames and deletes: pages, counts, exact and PDQ lookups, disable_until_ts (content read from the store)', async () => {
  const kv = new MemoryKeyValueStore()
  const store = await BankStore.open(kv)
  const none = () => false
  await store.createBank({ name: 'ONE' }, none)
  await store.createBank({ name: 'TWO' }, none)
  const md5 = (i: number) => i.toString(16).padStart(32, '0')
  const added = await store.addContents('ONE', Array.from({ length: 25 }, (_, i) => ({ signals: { pdq: randomPdqHex(), md5: md5(i) }, note: `n${i}` })))
  const other = await store.addContent('TWO', { signals: { md5: md5(0), vpdq: 'video-1' } })
  assert.equal(store.countContent('ONE'), 25)
  assert.equal(store.countContent('TWO'), 1)
  assert.equal(store.countSignals('md5'), 26)
  assert.equal(store.countSignals('vpdq'), 1)
  const page1 = await store.listContentPage('ONE', 0, 10)
  const page3 = await store.listContentPage('ONE', page1.at(-1)!.id + 10, 10)
  assert.deepEqual(page1.map((c) => c.id), added.slice(0, 10).map((c) => c.id))
  assert.deepEqual(page3.map((c) => c.note), ['n20', 'n21', 'n22', 'n23', 'n24'])
  assert.deepEqual((await store.lookup('md5', md5(0), 0)).map((h) => [h.bank.name, h.contentId]), [['ONE', added[0]!.id], ['TWO', other.id]])
  assert.equal(store.holds('TWO', 'vpdq', 'video-1'), true)
  assert.equal(store.holds('ONE', 'md5', md5(3)), true)
  assert.equal(store.holds('TWO', 'md5', md5(3)), false)

  const until = Math.floor(Date.now() / 1000) + 3600
  await store.updateContent('ONE', added[3]!.id, { disableUntilTs: until, note: 'later' })
  const [hit] = await store.lookup('pdq', added[3]!.signals.pdq!, 0)
  assert.equal(hit!.disableUntilTs, until)
  assert.equal(store.isEnabled(hit!), false)
  assert.equal((await store.getContent('ONE', added[3]!.id)).note, 'later')

  await store.updateBank('ONE', { name: 'RENAMED' }, none)
  assert.equal((await store.getContent('RENAMED', added[3]!.id)).bank, 'RENAMED')
  await assert.rejects(store.getContent('TWO', added[3]!.id), /not found/)
  assert.equal(await store.findContent('RENAMED', other.id), undefined, "another bank's content is not this bank's")
  assert.equal(await store.deleteContent('RENAMED', added[0]!.id), 1)
  assert.equal(await store.deleteContent('RENAMED', added[0]!.id), 0)
  assert.deepEqual((await store.lookup('md5', md5(0), 0)).map((h) => h.bank.name), ['TWO'])
  assert.equal(store.countSignals('md5'), 25)
  await store.deleteBank('TWO')
  assert.equal(store.countSignals('vpdq'), 0)
  assert.equal(store.holds('RENAMED', 'vpdq', 'video-1'), false)

  assert.equal(await store.deleteContents('RENAMED', [added[1]!.id, added[2]!.id, 999_999, added[1]!.id]), 2, 'one write; unknown and repeated ids skipped')
  assert.equal(store.countContent('RENAMED'), 22)

  const reopened = await BankStore.open(kv)
  assert.equal(reopened.contentCount, 22)
  assert.equal(reopened.pdqCount(), 22)
  assert.equal(reopened.isEnabled((await reopened.lookup('pdq', added[3]!.signals.pdq!, 0))[0]!), false)
  assert.deepEqual((await reopened.listContent('RENAMED')).map((c) => c.id), added.slice(3).map((c) => c.id))
})

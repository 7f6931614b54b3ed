import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { PdqCatalog, WRITE_BEHIND_IDLE_MS, WRITE_BEHIND_MAX_AGE_MS } from '../../src/match/pdq-catalog.js'
import { hashToWords } from '../../src/match/pdq-index.js'

const randomHex = (): string => randomBytes(32).toString('hex')

test('signals added through the write-behind buffer are found by the very next search', () => {
  const catalog = new PdqCatalog()
  const hexes = Array.from({ length: 5000 }, randomHex)
  for (const hex of hexes) catalog.addSignal(hex)
  assert.equal(catalog.buffered, 5000)
  const hits = catalog.search(Buffer.from(hexes[4321]!, 'hex'), 0)
  assert.equal(catalog.buffered, 0)
  assert.deepEqual(hits.map((h) => [h.hex, h.distance, h.isSignal]), [[hexes[4321], 0, true]])
  assert.equal(catalog.size, 5000)
})

test('a removal right after a buffered add removes it; duplicates count once', () => {
  const catalog = new PdqCatalog()
  const a = randomHex()
  catalog.addSignal(a)
  catalog.addSignal(a)
  catalog.removeSignal(a)
  assert.equal(catalog.search(Buffer.from(a, 'hex'), 31).length, 0)
  assert.equal(catalog.size, 0)
  catalog.addSignal(a)
  assert.equal(catalog.size, 1)
})

test('the buffer flushes on its own once adds pause', async () => {
  const catalog = new PdqCatalog()
  catalog.addSignal(randomHex())
  assert.equal(catalog.buffered, 1)
  await sleep(WRITE_BEHIND_IDLE_MS * 3)
  assert.equal(catalog.buffered, 0)
})

test('steady adds do not hold the buffer back longer than its maximum age', async () => {
  const catalog = new PdqCatalog()
  const started = performance.now()
  let flushedAfter: number | undefined
  while (flushedAfter === undefined && performance.now() - started < WRITE_BEHIND_MAX_AGE_MS + 1500) {
    const before = catalog.buffered
    catalog.addSignal(randomHex())
    await sleep(WRITE_BEHIND_IDLE_MS / 4) // adds keep coming faster than the idle pause
    if (catalog.buffered <= before) flushedAfter = performance.now() - started
  }
  assert.ok(flushedAfter !== undefined, 'never flushed')
  assert.ok(flushedAfter >= WRITE_BEHIND_MAX_AGE_MS - 50 && flushedAfter < WRITE_BEHIND_MAX_AGE_MS + 1000, `flushed after ${flushedAfter} ms`)
})

test('bank content and federation signals share one entry per hash; each keeps it alive until both are gone', () => {
  const catalog = new PdqCatalog()
  const [a, b] = [randomHex(), randomHex()]
  const query = Buffer.from(a, 'hex')
  catalog.addSignals([a])
  catalog.addBankContent(Uint32Array.of(7, 8, 9), [a, a, b])
  assert.equal(catalog.size, 2, 'a is stored once for the signal and two bank items')
  assert.equal(catalog.bankSize, 3)
  assert.deepEqual(catalog.search(query, 0).map((h) => [h.isSignal, h.bank]), [[true, [7, 8]]])
  assert.deepEqual(catalog.searchBanks(query, 31), [{ contentId: 7, distance: 0 }, { contentId: 8, distance: 0 }])
  assert.deepEqual(catalog.bankContentWith(Buffer.from(b, 'hex')), [9])

  catalog.removeSignal(a) // the federation revoked it: the bank's content still matches
  assert.deepEqual(catalog.search(query, 0).map((h) => [h.isSignal, h.bank]), [[false, [7, 8]]])
  catalog.removeBankContent(7)
  assert.deepEqual(catalog.searchBanks(query, 0), [{ contentId: 8, distance: 0 }])
  catalog.removeBankContent(8)
  assert.deepEqual(catalog.search(query, 31), [], 'nothing refers to a: it leaves the index')
  assert.equal(catalog.size, 1)
  catalog.removeBankContent(8) // twice: nothing happens
  catalog.removeBankContent(12345) // never added
  assert.equal(catalog.bankSize, 1)

  catalog.addSignals([b]) // a signal arriving for a bank-only hash marks the same entry
  catalog.removeBankContent(9)
  assert.deepEqual(catalog.search(Buffer.from(b, 'hex'), 0).map((h) => [h.isSignal, h.bank]), [[true, []]])
})

test('a bank load waits for a federation build under way (builds run one after the other), and gives the same catalog', async () => {
  const signals = Array.from({ length: 20_000 }, randomHex)
  const bank = Array.from({ length: 20_000 }, (_, i) => (i % 4 === 0 ? signals[i]! : randomHex()))
  const ids = Uint32Array.from(bank, (_, i) => i + 1)
  const stepped = new PdqCatalog()
  const first = stepped.addSignalsAsync(signals, 0)
  const second = stepped.addBankContentAsync(ids, bank, 0)
  let idle = false
  void stepped.idle().then(() => (idle = true))
  await first
  await second
  await stepped.idle()
  assert.equal(idle, true)
  const direct = new PdqCatalog()
  direct.addSignals(signals)
  direct.addBankContent(ids, bank)
  assert.equal(stepped.size, 35_000)
  assert.equal(stepped.size, direct.size)
  for (const hex of [signals[0]!, signals[1]!, bank[1]!, bank[19_999]!]) {
    const q = Buffer.from(hex, 'hex')
    assert.deepEqual(stepped.search(q, 31).map((h) => [h.hex, h.isSignal, h.bank]), direct.search(q, 31).map((h) => [h.hex, h.isSignal, h.bank]))
  }
  assert.deepEqual(stepped.searchBanks(Buffer.from(signals[4]!, 'hex'), 0), [{ contentId: 5, distance: 0 }])
})

test('frame adds and removals that come during a stepped build wait for it instead of failing it', async () => {
  const catalog = new PdqCatalog()
  const bank = Array.from({ length: 30_000 }, randomHex)
  const words = new Uint32Array(bank.length * 8)
  bank.forEach((hex, i) => hashToWords(Buffer.from(hex, 'hex'), words, i * 8))
  const building = catalog.addBankContentWordsAsync(Uint32Array.from(bank, (_, i) => i + 1), words, 0)
  const frame = randomHex()
  catalog.addFrame(frame, { video: 'v1', ms: 0, quality: 90 }) // during the build
  catalog.removeSignal(randomHex())
  catalog.removeVideo('v2', [randomHex()])
  await building
  assert.deepEqual(catalog.search(Buffer.from(frame, 'hex'), 0).map((h) => h.frames.map((f) => f.video)), [['v1']])
  assert.equal(catalog.size, 30_001)
  assert.deepEqual(catalog.searchBanks(Buffer.from(bank[123]!, 'hex'), 0), [{ contentId: 124, distance: 0 }])
})

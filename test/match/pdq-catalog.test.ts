import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { PdqCatalog, WRITE_BEHIND_IDLE_MS, WRITE_BEHIND_MAX_AGE_MS } from '../../src/match/pdq-catalog.js'

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

import assert from 'node:assert/strict'
import { randomBytes, randomInt } from 'node:crypto'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { isHashmeshError } from '../../src/errors.js'
import { formatHash256, hammingDistance, parseHash256, type Hash256 } from '../../src/hash/hash256.js'
import { PdqIndex, hashToWords, wordsToHash, type PdqMatch } from '../../src/match/pdq-index.js'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
/** Copies of Meta's MIH regression inputs (see test/fixtures/pdq/README.md). */
const hashlists = path.join(repoRoot, 'test', 'fixtures', 'pdq', 'hashlists')

function randomHash(): Hash256 {
  return Uint8Array.from(randomBytes(32))
}

/** A copy of `hash` with exactly `bits` distinct bits flipped. */
function flipBits(hash: Hash256, bits: number): Hash256 {
  const out = Uint8Array.from(hash)
  const chosen = new Set<number>()
  while (chosen.size < bits) chosen.add(randomInt(256))
  for (const bit of chosen) out[bit >> 3]! ^= 1 << (bit & 7)
  return out
}

function bruteForce(entries: Map<number, Hash256>, query: Hash256, threshold: number): PdqMatch[] {
  const out: PdqMatch[] = []
  for (const [entryId, hash] of entries) {
    const distance = hammingDistance(hash, query)
    if (distance <= threshold) out.push({ entryId, distance })
  }
  return out.sort((a, b) => a.distance - b.distance || a.entryId - b.entryId)
}

/** Random hashes plus clusters of near-duplicates (centre with 1..20 bits flipped). */
function makeEntries(count: number, firstId = 0): Map<number, Hash256> {
  const entries = new Map<number, Hash256>()
  let id = firstId
  while (entries.size < count) {
    if (randomInt(10) === 0) {
      const centre = randomHash()
      for (let m = 0; m < 10 && entries.size < count; m++) entries.set(id++, flipBits(centre, 1 + randomInt(20)))
    } else {
      entries.set(id++, randomHash())
    }
  }
  return entries
}

function bulkLoad(index: PdqIndex, entries: Map<number, Hash256>): void {
  const ids = new Uint32Array(entries.size)
  const hashes = new Uint32Array(entries.size * 8)
  let i = 0
  for (const [id, hash] of entries) {
    ids[i] = id
    hashToWords(hash, hashes, i * 8)
    i++
  }
  index.addMany({ ids, hashes })
}

function assertExact(index: PdqIndex, entries: Map<number, Hash256>, queries: Hash256[], threshold: number): void {
  for (const query of queries) assert.deepEqual(index.search(query, threshold), bruteForce(entries, query, threshold))
}

function plantedQueries(entries: Map<number, Hash256>, count: number, maxFlip: number): Hash256[] {
  const hashes = [...entries.values()]
  return Array.from({ length: count }, (_, i) =>
    i % 2 === 0 ? flipBits(hashes[randomInt(hashes.length)]!, randomInt(maxFlip + 1)) : randomHash(),
  )
}

describe('PdqIndex', () => {
  it('packs hashes into big-endian words that round-trip', () => {
    const hash = parseHash256('0123456789abcdef' + 'f'.repeat(48))
    const words = hashToWords(hash)
    assert.equal(words[0], 0x01234567)
    assert.equal(words[1], 0x89abcdef)
    assert.equal(formatHash256(wordsToHash(words)), formatHash256(hash))
  })

  for (const threshold of [0, 1, 15, 16, 31, 32, 47, 63]) {
    it(`finds hashes at distance exactly t and not t + 1 (t = ${threshold})`, () => {
      const entries = makeEntries(5000)
      const query = randomHash()
      for (let k = 0; k < 20; k++) {
        entries.set(100_000 + k, flipBits(query, threshold))
        entries.set(200_000 + k, flipBits(query, threshold + 1))
      }
      const index = new PdqIndex()
      bulkLoad(index, entries)
      const found = index.search(query, threshold)
      for (let k = 0; k < 20; k++) {
        assert.ok(found.some((m) => m.entryId === 100_000 + k && m.distance === threshold), `missing t-distance entry ${k}`)
        assert.ok(!found.some((m) => m.entryId === 200_000 + k), `t+1-distance entry ${k} returned`)
      }
      assert.deepEqual(found, bruteForce(entries, query, threshold))
    })
  }

  it('matches brute force on random and clustered data at several thresholds', () => {
    const entries = makeEntries(30_000)
    const index = new PdqIndex()
    bulkLoad(index, entries)
    assert.equal(index.size, entries.size)
    assertExact(index, entries, plantedQueries(entries, 100, 40), 31)
    assertExact(index, entries, plantedQueries(entries, 20, 16), 15)
    assertExact(index, entries, plantedQueries(entries, 10, 70), 63)
    assertExact(index, entries, plantedQueries(entries, 2, 128), 128)
  })

  it('stays exact when many entries share a hash or a chunk (long bucket runs, removals inside runs)', () => {
    const entries = makeEntries(8_000)
    const blank = randomHash()
    // A popular hash (think blank images) and its near copies: buckets holding thousands of slots.
    for (let i = 0; i < 3_000; i++) entries.set(100_000 + i, i % 3 === 0 ? blank : flipBits(blank, 1 + randomInt(12)))
    const index = new PdqIndex()
    bulkLoad(index, entries)
    const queries = [blank, flipBits(blank, 5), flipBits(blank, 31), ...plantedQueries(entries, 40, 31)]
    assertExact(index, entries, queries, 31)
    for (let i = 0; i < 3_000; i += 7) {
      assert.equal(index.remove(100_000 + i), true)
      entries.delete(100_000 + i)
    }
    assertExact(index, entries, queries, 31)
    assertExact(index, entries, queries, 8)
  })

  it('stays exact with incremental adds after a bulk build and across overflow and delta merges', () => {
    const entries = makeEntries(20_000)
    const index = new PdqIndex()
    bulkLoad(index, entries)
    const added = makeEntries(6000, 1_000_000)
    let sawDelta = false
    for (const [id, hash] of added) {
      index.add(id, hash)
      entries.set(id, hash)
      sawDelta ||= index.stats().deltaEntries > 0
      if (id % 1500 === 0) assertExact(index, entries, plantedQueries(entries, 10, 31), 31)
    }
    assert.ok(sawDelta, 'the overflow tail was merged into a delta segment')
    assertExact(index, entries, plantedQueries(entries, 60, 31), 31)
    // Enough further adds to force a full rebuild (delta + tail > main / 4).
    for (const [id, hash] of makeEntries(2000, 2_000_000)) {
      index.add(id, hash)
      entries.set(id, hash)
    }
    assert.equal(index.size, entries.size)
    assertExact(index, entries, plantedQueries(entries, 60, 31), 31)
  })

  it('builds incrementally from empty without a bulk load', () => {
    const entries = makeEntries(4000)
    const index = new PdqIndex()
    for (const [id, hash] of entries) index.add(id, hash)
    assertExact(index, entries, plantedQueries(entries, 40, 31), 31)
  })

  it('removes entries (tombstones, then compaction) and keeps results exact', () => {
    const entries = makeEntries(12_000)
    const index = new PdqIndex()
    bulkLoad(index, entries)
    const ids = [...entries.keys()]
    for (const id of ids.slice(0, 500)) {
      assert.equal(index.remove(id), true)
      assert.equal(index.remove(id), false)
      assert.equal(index.has(id), false)
      entries.delete(id)
    }
    assert.equal(index.stats().tombstones, 500)
    assertExact(index, entries, plantedQueries(entries, 40, 31), 31)
    for (const id of ids.slice(500, 4000)) {
      index.remove(id)
      entries.delete(id)
    }
    assert.ok(index.stats().tombstones < 3500, 'compaction ran (4000 tombstones without it)')
    assert.equal(index.size, entries.size)
    assertExact(index, entries, plantedQueries(entries, 40, 31), 31)
    const removedHash = randomHash()
    index.add(7, removedHash)
    index.remove(7)
    assert.deepEqual(index.search(removedHash, 0), [])
  })

  it('treats re-adding an id as idempotent, and a new hash for an id as a replacement', () => {
    const index = new PdqIndex()
    const first = randomHash()
    index.add(42, first)
    index.add(42, first)
    index.addMany({ ids: Uint32Array.of(42), hashes: hashToWords(first) })
    assert.equal(index.size, 1)
    assert.deepEqual(index.search(first, 0), [{ entryId: 42, distance: 0 }])
    const second = randomHash()
    index.add(42, second)
    assert.equal(index.size, 1)
    assert.deepEqual(index.search(first, 0), [])
    assert.deepEqual(index.search(second, 0), [{ entryId: 42, distance: 0 }])
    assert.ok(index.has(42))
  })

  it('rejects bad thresholds, hashes and ids with their error codes', () => {
    const index = new PdqIndex()
    const hash = randomHash()
    for (const threshold of [-1, 1.5, 129, Number.NaN]) {
      assert.throws(() => index.search(hash, threshold), (err) => isHashmeshError(err, 'BAD_REQUEST'))
    }
    assert.throws(() => index.search(new Uint8Array(31)), (err) => isHashmeshError(err, 'HASH_INVALID'))
    assert.throws(() => index.add(1, new Uint8Array(33)), (err) => isHashmeshError(err, 'HASH_INVALID'))
    assert.throws(() => index.add(-1, hash), (err) => isHashmeshError(err, 'BAD_REQUEST'))
    assert.throws(() => index.add(2 ** 32, hash), (err) => isHashmeshError(err, 'BAD_REQUEST'))
    assert.throws(
      () => index.addMany({ ids: Uint32Array.of(1, 2), hashes: new Uint32Array(8) }),
      (err) => isHashmeshError(err, 'HASH_INVALID'),
    )
    assert.equal(index.search(hash, 128).length, 0)
  })

  it('finds exactly the expected needle/haystack pairs at t = 31', () => {
    const readList = (name: string): Hash256[] =>
      readFileSync(path.join(hashlists, name), 'utf8').split('\n').filter((line) => line.trim() !== '').map((line) => parseHash256(line.trim()))
    const needles = readList('needles.txt')
    const haystack = readList('haystack.txt')
    const expected = readFileSync(path.join(hashlists, 'needles-vs-haystack-d31.tsv'), 'utf8')
      .split('\n').slice(1).filter((line) => line.trim() !== '')
      .map((line) => line.split('\t').map(Number).join('\t'))
      .sort()
    assert.equal(expected.length, 250)
    const index = new PdqIndex()
    haystack.forEach((hash, i) => index.add(i + 1, hash)) // entry id = 1-based haystack line
    const found: string[] = []
    needles.forEach((needle, i) => {
      for (const m of index.search(needle, 31)) found.push(`${i + 1}\t${m.entryId}\t${m.distance}`)
    })
    assert.deepEqual(found.sort(), expected)
  })
})

import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { isHashmeshError } from '../../src/errors.js'
import { ExactIndex } from '../../src/match/exact-index.js'

const md5 = (text: string): Uint8Array => Uint8Array.from(createHash('md5').update(text).digest())
const sha256 = (text: string): Uint8Array => Uint8Array.from(createHash('sha256').update(text).digest())

describe('ExactIndex', () => {
  for (const [name, digestBytes, digest] of [['MD5', 16, md5], ['SHA-256', 32, sha256]] as const) {
    it(`maps ${name} digests to entry ids, several ids per digest`, () => {
      const index = new ExactIndex({ digestBytes })
      for (let i = 0; i < 5000; i++) index.add(i, digest(`file-${i % 2500}`))
      assert.equal(index.size, 5000)
      assert.deepEqual(index.lookup(digest('file-7')), [7, 2507])
      assert.deepEqual(index.lookup(digest('never-added')), [])
      assert.ok(index.memoryBytes() > 0)
    })

    it(`removes, re-adds and replaces ${name} entries`, () => {
      const index = new ExactIndex({ digestBytes })
      for (let i = 0; i < 3000; i++) index.add(i, digest(`f${i % 1000}`))
      for (let i = 0; i < 3000; i += 3) assert.equal(index.remove(i), true)
      assert.equal(index.remove(0), false)
      assert.equal(index.has(0), false)
      assert.equal(index.size, 2000)
      for (let i = 0; i < 1000; i++) {
        const expected = [i, i + 1000, i + 2000].filter((id) => id % 3 !== 0)
        assert.deepEqual(index.lookup(digest(`f${i}`)), expected)
      }
      index.add(1, digest('f1')) // same value: no-op
      assert.equal(index.size, 2000)
      index.add(1, digest('moved'))
      assert.deepEqual(index.lookup(digest('moved')), [1])
      assert.deepEqual(index.lookup(digest('f1')), [1001])
      index.add(0, digest('f0'))
      assert.deepEqual(index.lookup(digest('f0')), [0, 1000, 2000])
    })
  }

  it('matches a Map reference under random adds and removes', () => {
    const index = new ExactIndex({ digestBytes: 16 })
    const reference = new Map<number, string>()
    const values = Array.from({ length: 300 }, () => randomBytes(16))
    for (let step = 0; step < 20_000; step++) {
      const id = Math.floor(Math.random() * 2000)
      if (Math.random() < 0.3) {
        assert.equal(index.remove(id), reference.delete(id))
      } else {
        const value = values[Math.floor(Math.random() * values.length)]!
        index.add(id, Uint8Array.from(value))
        reference.set(id, value.toString('hex'))
      }
    }
    assert.equal(index.size, reference.size)
    for (const value of values) {
      const expected = [...reference].filter(([, v]) => v === value.toString('hex')).map(([id]) => id).sort((a, b) => a - b)
      assert.deepEqual(index.lookup(Uint8Array.from(value)), expected)
    }
  })

  it('addFresh and addWords give the same index as add (lookups, removal, through table growth)', () => {
    const viaAdd = new ExactIndex({ digestBytes: 32 })
    const viaFresh = new ExactIndex({ digestBytes: 32 })
    const viaWords = new ExactIndex({ digestBytes: 32 })
    const values = Array.from({ length: 3000 }, (_, i) => sha256(`v-${i % 1000}`))
    values.forEach((v, id) => {
      viaAdd.add(id, v)
      viaFresh.addFresh(id, v)
      const words = new Uint32Array(8)
      for (let w = 0; w < 8; w++) words[w] = new DataView(v.buffer, v.byteOffset).getUint32(w * 4)
      viaWords.addWords(id, words)
    })
    for (const index of [viaFresh, viaWords]) {
      assert.equal(index.size, viaAdd.size)
      for (const v of values.slice(0, 1000)) assert.deepEqual(index.lookup(v), viaAdd.lookup(v))
      assert.equal(index.remove(1), true)
      assert.deepEqual(index.lookup(values[1]!), [1001, 2001])
    }
  })

  it('addFreshWords indexes like addFresh; firstWords finds the smallest id holding a value, or -1', () => {
    const viaFresh = new ExactIndex({ digestBytes: 32 })
    const viaWords = new ExactIndex({ digestBytes: 32 })
    const values = Array.from({ length: 3000 }, (_, i) => sha256(`w-${i % 1000}`))
    const packed = new Uint32Array(8 * (values.length + 1)) // (at an offset: words[base .. base + 8))
    values.forEach((v, id) => {
      viaFresh.addFresh(id, v)
      for (let w = 0; w < 8; w++) packed[8 + id * 8 + w] = new DataView(v.buffer, v.byteOffset).getUint32(w * 4)
      viaWords.addFreshWords(id, packed, 8 + id * 8)
    })
    assert.equal(viaWords.size, viaFresh.size)
    for (let id = 0; id < 1000; id++) {
      assert.deepEqual(viaWords.lookup(values[id]!), viaFresh.lookup(values[id]!))
      assert.equal(viaWords.firstWords(packed, 8 + (id + 2000) * 8), id)
    }
    viaWords.remove(5)
    assert.equal(viaWords.firstWords(packed, 8 + 5 * 8), 1005)
    assert.equal(viaWords.firstWords(new Uint32Array(8)), -1)
  })

  it('rejects wrong digest lengths and bad ids with their error codes', () => {
    const index = new ExactIndex({ digestBytes: 32 })
    assert.throws(() => index.add(1, md5('x')), (err) => isHashmeshError(err, 'HASH_INVALID'))
    assert.throws(() => index.lookup(new Uint8Array(31)), (err) => isHashmeshError(err, 'HASH_INVALID'))
    assert.throws(() => index.add(-1, sha256('x')), (err) => isHashmeshError(err, 'BAD_REQUEST'))
    assert.throws(() => index.remove(1.5), (err) => isHashmeshError(err, 'BAD_REQUEST'))
    assert.throws(() => new ExactIndex({ digestBytes: 20 as 16 }), (err) => isHashmeshError(err, 'BAD_REQUEST'))
  })
})

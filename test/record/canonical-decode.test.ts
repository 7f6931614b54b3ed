import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as dagCbor from '@ipld/dag-cbor'
import fc from 'fast-check'
import { decodeCanonical } from '../../src/record/canonical-decode.js'

const hex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ''), 'hex'))

test('canonical dag-cbor decodes to the value dag-cbor encoded', () => {
  const value = { a: 1, bb: [true, false, null, -5, 'x'], ccc: new Uint8Array([1, 2, 3]), seq: 2 ** 40, t: '\uFFFD ok' }
  assert.deepEqual(decodeCanonical(dagCbor.encode(value)), value)
})

test('each non-canonical form of a value is refused', () => {
  const refused: Array<[string, string]> = [
    ['a1 6161 1801', 'integer 1 written in two bytes'],
    ['a1 6161 190001', 'integer 1 written in three bytes'],
    ['a1 7801 61 01', 'key length written in two bytes'],
    ['a2 6162 01 6161 02', 'keys out of order (b before a)'],
    ['a2 626161 01 6162 02', 'longer key before shorter key'],
    ['a2 6161 01 6161 02', 'duplicate key'],
    ['bf 6161 01 ff', 'indefinite-length map'],
    ['9f 01 ff', 'indefinite-length array'],
    ['a1 6161 f93c00', 'a half float (1.0)'],
    ['a1 6161 fb3ff0000000000000', 'a 64-bit float (1.0)'],
    ['a1 6161 f7', 'undefined'],
    ['a1 6161 c1 01', 'a tag'],
    ['a1 6161 62 c328', 'text that is not UTF-8'],
    ['a1 01 01', 'a non-string key'],
    ['a1 6161 01 00', 'trailing bytes'],
    ['a1 6161 5803 010203', 'a short byte string with its length in two bytes'],
    ['a1 6161 45 01020304', 'a byte string cut short'],
    ['a1 6161 5820 0102', 'a longer byte string cut short'],
    ['a1 6161 58', 'a byte string length cut off'],
    ['a1 6161 63 6162', 'a text cut short'],
    ['a1 6161 7803 616263', 'a short text with its length in two bytes'],
  ]
  for (const [bytes, what] of refused) assert.throws(() => decodeCanonical(hex(bytes)), Error, what)
})

test('byte strings of every length and many distinct short texts decode to exactly their bytes', () => {
  for (let n = 0; n < 300; n += n < 30 ? 1 : 37) {
    const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 7 + n) & 0xff)
    assert.deepEqual(decodeCanonical(Uint8Array.from(dagCbor.encode({ b: bytes }))), { b: bytes })
  }
  // far more distinct keys than the intern table holds, with shared prefixes and equal lengths
  for (let i = 0; i < 10_000; i++) {
    const text = `k${i.toString(36)}`.padEnd(1 + (i % 20), '-')
    assert.deepEqual(decodeCanonical(dagCbor.encode({ [text]: text.toUpperCase() })), { [text]: text.toUpperCase() })
  }
})

test('U+FFFD written as valid UTF-8 is accepted', () => {
  assert.deepEqual(decodeCanonical(hex('a1 6161 63 efbfbd')), { a: '\uFFFD' })
})

test('property: whatever decodes is exactly what dag-cbor encodes for that value (so one value, one encoding)', () => {
  const key = fc.string({ maxLength: 6 })
  const leaf = fc.oneof(
    fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
    fc.string({ maxLength: 8 }),
    fc.string({ maxLength: 30, unit: 'binary' }),
    fc.uint8Array({ maxLength: 8 }),
    fc.uint8Array({ maxLength: 40 }),
    fc.boolean(),
    fc.constant(null),
  )
  const value = fc.letrec((tie) => ({
    node: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('node'), { maxLength: 4 }), fc.dictionary(key, tie('node'), { maxKeys: 4 })),
  })).node
  fc.assert(
    fc.property(value, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }), (v, edits) => {
      const bytes = dagCbor.encode(v)
      assert.deepEqual(dagCbor.encode(decodeCanonical(bytes)), bytes)
      const mutated = Uint8Array.from(bytes)
      for (const [at, byte] of edits) mutated[at % mutated.length] = byte
      let decoded: unknown
      try {
        decoded = decodeCanonical(mutated)
      } catch {
        return
      }
      assert.deepEqual(Buffer.from(dagCbor.encode(decoded)), Buffer.from(mutated))
    }),
    { numRuns: 3000 },
  )
})

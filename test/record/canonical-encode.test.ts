/** The record encoder (record/canonical-encode.ts) against @ipld/dag-cbor: the same bytes, or no answer. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as dagCbor from '@ipld/dag-cbor'
import { encodeWire } from '../../src/record/canonical-encode.js'
import { createRecord } from '../../src/record/build.js'
import { decodeAndVerify } from '../../src/record/codec.js'
import { memberFromByte, pdqHex } from '../helpers/records.js'
import { random } from '../helpers/random.js'

/** dag-cbor answers a Buffer or a Uint8Array: compare the bytes. */
const u8 = (b: Uint8Array | undefined): Uint8Array | undefined => (b === undefined ? undefined : new Uint8Array(b))

test('encodeWire writes what dag-cbor writes, for values of every size and nesting a record may hold', () => {
  const next = random(7)
  const ints = [0, 1, 23, 24, 255, 256, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32, 2 ** 47, Number.MAX_SAFE_INTEGER]
  const texts = ['', 'a', 'x'.repeat(23), 'y'.repeat(24), 'z'.repeat(300), 'é', '日本語 note', 'emoji 🙂', 'k'.repeat(70_000)]
  const keys = ['a', 'b', 'aa', 'ab', 'ba', 'type', 'value', 'quality', 'frames', 'signals', 'labels', 'note', 'contentType', 'seq', 'body', 'kind', 'prev', 'author', 'version', 'timestamp', 'Z', 'z1']
  const value = (depth: number): unknown => {
    const pick = Math.floor(next() * (depth > 3 ? 4 : 6))
    if (pick === 0) return ints[Math.floor(next() * ints.length)]
    if (pick === 1) return texts[Math.floor(next() * texts.length)]
    if (pick === 2) return Uint8Array.from({ length: [0, 1, 23, 24, 32, 64, 300][Math.floor(next() * 7)]! }, () => Math.floor(next() * 256))
    if (pick === 3) return null
    if (pick === 4) return Array.from({ length: Math.floor(next() * (next() < 0.1 ? 1100 : 5)) }, () => value(depth + 1))
    const map: Record<string, unknown> = {}
    for (let i = Math.floor(next() * 6); i > 0; i--) map[keys[Math.floor(next() * keys.length)]!] = value(depth + 1)
    return map
  }
  for (let i = 0; i < 300; i++) {
    const v = value(0)
    assert.deepEqual(u8(encodeWire(v)), u8(dagCbor.encode(v)))
  }
})

test('encodeWire gives no answer for what it does not know (the caller then uses dag-cbor, which may refuse it)', () => {
  for (const [i, v] of [1.5, -1, 2 ** 53, true, undefined, { a: undefined }, { 'ké': 1 }, 'lone \ud800', ['x\udc00y'], [new Date(0)], Object.create(null)].entries()) {
    assert.equal(encodeWire(v), undefined, `value ${i}`)
  }
  assert.deepEqual(u8(encodeWire('pair 🙂')), u8(dagCbor.encode('pair 🙂')))
})

test('records built with it decode and verify, from 1 signal to 1,000', () => {
  const alice = memberFromByte(3)
  let head: { seq: number; id: string | null } = { seq: 0, id: null }
  for (const n of [1, 2, 999, 1000]) {
    const signals = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? { type: 'pdq' as const, value: pdqHex(i), quality: i % 101 } : { type: 'md5' as const, value: pdqHex(i).slice(0, 32) }))
    const own = createRecord(alice, head, 'signals', { signals, contentType: 'photo', labels: ['behavior:propaganda'], note: `n=${n} é` }, 1_700_000_000_000 + n)
    assert.deepEqual(u8(own.bytes), u8(dagCbor.encode(dagCbor.decode(own.bytes))))
    assert.deepEqual(decodeAndVerify(own.bytes).record, own.record)
    head = { seq: own.record.seq, id: own.record.id }
  }
})

test('an own record read back says what its bytes say, whatever case its hex was given in', () => {
  const alice = memberFromByte(4)
  const values = [pdqHex(7), pdqHex(8).toUpperCase(), pdqHex(9).slice(0, 40) + pdqHex(9).slice(40).toUpperCase()]
  const own = createRecord(alice, { seq: 0, id: null }, 'signals', { signals: values.map((value) => ({ type: 'pdq' as const, value })), contentType: 'photo', labels: [] }, 1_700_000_000_000)
  assert.deepEqual(own.record.kind === 'signals' && own.record.body.signals.map((s) => s.value), values.map((v) => v.toLowerCase()))
  assert.deepEqual(decodeAndVerify(own.bytes).record, own.record)
})

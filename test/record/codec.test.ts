import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as dagCbor from '@ipld/dag-cbor'
import { createRecord } from '../../src/record/build.js'
import { decodeAndVerify, decodeRecord } from '../../src/record/codec.js'
import { checkAgainstTaxonomy } from '../../src/record/taxonomy.js'
import { loadTaxonomy } from '../../src/config.js'
import { RECORD_LIMITS } from '../../src/constants.js'
import { memberFromByte, pdqHex, signalsBody } from '../helpers/records.js'

const alice = memberFromByte(1)
const first = () => createRecord(alice, { seq: 0, id: null }, 'signals', signalsBody([pdqHex(1)]), 1_700_000_000_000)

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return (err as { code?: string }).code
  }
  return undefined
}

function rewire(bytes: Uint8Array, change: (w: Record<string, any>) => void): Uint8Array {
  const wire = dagCbor.decode(bytes) as Record<string, any>
  change(wire)
  return dagCbor.encode(wire)
}

test('a signed record round-trips and verifies', () => {
  const rec = first()
  const back = decodeAndVerify(rec.bytes)
  assert.deepEqual(back.record, rec.record)
  assert.equal(rec.record.id.length, 64)
})

test('a flipped byte anywhere in a signed record is rejected with a typed code', () => {
  const { bytes } = first()
  const codes = new Set<string>()
  for (let i = 0; i < bytes.length; i++) {
    const copy = Uint8Array.from(bytes)
    copy[i]! ^= 0x01
    const code = codeOf(() => decodeAndVerify(copy))
    assert.ok(code, `flip at byte ${i} was accepted`)
    codes.add(code!)
  }
  assert.ok(codes.has('SIGNATURE_INVALID'))
})

test('malformed and wrong-length hashes are refused when building and when decoding', () => {
  for (const value of ['abc', 'zz'.repeat(32), pdqHex(1) + '00', '']) {
    assert.equal(codeOf(() => createRecord(alice, { seq: 0, id: null }, 'signals', signalsBody([value]))), 'HASH_INVALID')
  }
  const md5AsPdq = rewire(first().bytes, (w) => { w.body.signals[0].value = new Uint8Array(16) })
  assert.equal(codeOf(() => decodeRecord(md5AsPdq)), 'HASH_INVALID')
})

test('unknown kinds, versions, fields and signal types are refused', () => {
  const { bytes } = first()
  assert.equal(codeOf(() => decodeRecord(rewire(bytes, (w) => { w.kind = 'delete' }))), 'RECORD_KIND')
  assert.equal(codeOf(() => decodeRecord(rewire(bytes, (w) => { w.version = 2 }))), 'RECORD_VERSION')
  assert.equal(codeOf(() => decodeRecord(rewire(bytes, (w) => { w.extra = 1 }))), 'RECORD_INVALID')
  assert.equal(codeOf(() => decodeRecord(rewire(bytes, (w) => { w.body.signals[0].type = 'tmk' }))), 'SIGNAL_INVALID')
  assert.equal(codeOf(() => decodeRecord(rewire(bytes, (w) => { w.seq = 0 }))), 'RECORD_INVALID')
  assert.equal(codeOf(() => decodeRecord(rewire(bytes, (w) => { w.prev = new Uint8Array(32) }))), 'RECORD_INVALID')
  assert.equal(codeOf(() => decodeRecord(new Uint8Array([1, 2, 3]))), 'RECORD_DECODE')
  assert.equal(codeOf(() => decodeRecord(new Uint8Array(0))), 'RECORD_DECODE')
})

test('oversized records and fields are refused', () => {
  assert.equal(codeOf(() => decodeRecord(new Uint8Array(RECORD_LIMITS.maxRecordBytes + 1))), 'RECORD_TOO_LARGE')
  const tooMany = Array.from({ length: RECORD_LIMITS.maxSignalsPerRecord + 1 }, (_, i) => pdqHex(i))
  assert.equal(codeOf(() => createRecord(alice, { seq: 0, id: null }, 'signals', signalsBody(tooMany))), 'RECORD_INVALID')
  const longNote = { ...signalsBody([pdqHex(1)]), note: 'x'.repeat(RECORD_LIMITS.maxNoteLength + 1) }
  assert.equal(codeOf(() => createRecord(alice, { seq: 0, id: null }, 'signals', longNote)), 'RECORD_INVALID')
  const manyLabels = Array.from({ length: RECORD_LIMITS.maxLabels + 1 }, (_, i) => `entity:g${i}`)
  assert.equal(codeOf(() => createRecord(alice, { seq: 0, id: null }, 'signals', signalsBody([pdqHex(1)], manyLabels))), 'LABEL_INVALID')
  const longLabel = ['entity:' + 'a'.repeat(RECORD_LIMITS.maxLabelLength)]
  assert.equal(codeOf(() => createRecord(alice, { seq: 0, id: null }, 'signals', signalsBody([pdqHex(1)], longLabel))), 'LABEL_INVALID')
})

test('a batch of 1,000 signals shares one signature', () => {
  const values = Array.from({ length: 1000 }, (_, i) => pdqHex(i))
  const rec = createRecord(alice, { seq: 0, id: null }, 'signals', signalsBody(values))
  assert.equal(decodeAndVerify(rec.bytes).record.kind, 'signals')
  assert.ok(rec.bytes.length < RECORD_LIMITS.maxRecordBytes)
})

test('non-canonical encodings are refused (one record, one id)', () => {
  const { bytes } = first()
  const hex = Buffer.from(bytes).toString('hex')
  const seqField = Buffer.from('seq').toString('hex')
  const at = hex.indexOf('63' + seqField + '01')
  assert.ok(at >= 0)
  // seq 1 written as a two-byte integer (0x18 0x01): same value, non-minimal encoding
  const longForm = hex.slice(0, at) + '63' + seqField + '1801' + hex.slice(at + 10)
  assert.equal(codeOf(() => decodeRecord(Uint8Array.from(Buffer.from(longForm, 'hex')))), 'RECORD_DECODE')
})

test('the taxonomy is applied to own contributions', () => {
  const taxonomy = loadTaxonomy()
  checkAgainstTaxonomy(['behavior:recruitment', 'entity:some-group', 'type:video'], 'video', taxonomy)
  assert.equal(codeOf(() => checkAgainstTaxonomy(['behavior:dancing'], 'photo', taxonomy)), 'LABEL_INVALID')
  assert.equal(codeOf(() => checkAgainstTaxonomy(['colour:red'], 'photo', taxonomy)), 'LABEL_INVALID')
  assert.equal(codeOf(() => checkAgainstTaxonomy([], 'hologram', taxonomy)), 'LABEL_INVALID')
  assert.equal(codeOf(() => checkAgainstTaxonomy(['NoColon'], 'photo', taxonomy)), 'LABEL_INVALID')
})

test('a signed record is the dag-cbor of its fields with the signature, for every length of seq and timestamp', () => {
  const timestamps = [0, 23, 24, 255, 256, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32, 2 ** 47]
  let head: { seq: number; id: string | null } = { seq: 0, id: null }
  for (const [i, timestamp] of timestamps.entries()) {
    const body = { ...signalsBody([pdqHex(i + 1), pdqHex(i + 100)]), ...(i % 2 ? { note: 'n'.repeat(i * 30) } : {}) }
    const { record, bytes } = createRecord(alice, head, 'signals', body, timestamp)
    const wire = dagCbor.decode(bytes) as Record<string, unknown>
    assert.deepEqual(bytes, dagCbor.encode(wire), `timestamp ${timestamp}`)
    assert.equal(wire.timestamp, timestamp)
    assert.equal(record.signature, Buffer.from(wire.signature as Uint8Array).toString('hex'))
    decodeAndVerify(bytes)
    head = { seq: record.seq, id: record.id }
  }
  for (const seq of [23, 24, 255, 256, 65_536, 2 ** 32]) {
    const { bytes } = createRecord(alice, { seq, id: 'ab'.repeat(32) }, 'revoke', { target: 'cd'.repeat(32), reason: 'false_positive' }, 1_700_000_000_000)
    assert.deepEqual(bytes, dagCbor.encode(dagCbor.decode(bytes)), `seq ${seq + 1}`)
    decodeAndVerify(bytes)
  }
})

test('an own record is the record its bytes decode to (a note with a lone surrogate too), and its errors are those of decoding', () => {
  const bodies = [
    signalsBody([pdqHex(1)]),
    { ...signalsBody([pdqHex(2), pdqHex(3)], ['behavior:propaganda', 'entity:isis']), note: 'plain', contentType: 'video' },
    { signals: [{ type: 'md5' as const, value: 'AB'.repeat(16), quality: 7 }, { type: 'sha256' as const, value: 'cd'.repeat(32) }], contentType: 'photo', labels: [] },
    { ...signalsBody([pdqHex(4)]), note: 'lone \ud800 surrogate' },
  ]
  let head: { seq: number; id: string | null } = { seq: 0, id: null }
  for (const body of bodies) {
    const own = createRecord(alice, head, 'signals', body, 1_700_000_000_000)
    assert.deepEqual(own.record, decodeAndVerify(own.bytes).record)
    assert.notEqual(own.record.kind === 'signals' && own.record.body.labels, body.labels, 'a record has its own labels array')
    head = { seq: own.record.seq, id: own.record.id }
  }
  const opinion = createRecord(alice, head, 'opinion', { signal: { type: 'pdq', value: pdqHex(9).toUpperCase() }, opinion: 'disputed', note: 'n' } as never)
  assert.deepEqual(opinion.record, decodeAndVerify(opinion.bytes).record)
  assert.equal(codeOf(() => createRecord(alice, head, 'signals', signalsBody([pdqHex(5)], ['Not A Label']))), 'LABEL_INVALID')
  assert.equal(codeOf(() => createRecord(alice, head, 'signals', { ...signalsBody([pdqHex(5)]), contentType: 'Photo!' })), 'RECORD_INVALID')
  assert.equal(codeOf(() => createRecord(alice, head, 'signals', { ...signalsBody([pdqHex(5)]), signals: [] })), 'RECORD_INVALID')
  assert.equal(codeOf(() => createRecord(alice, head, 'signals', { ...signalsBody([]), signals: [{ type: 'pdq', value: pdqHex(1), quality: 101 }] })), 'RECORD_INVALID')
  assert.equal(codeOf(() => createRecord(alice, head, 'nonsense' as 'signals', signalsBody([pdqHex(5)]))), 'RECORD_KIND')
})

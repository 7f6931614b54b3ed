import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as dagCbor from '@ipld/dag-cbor'
import { SYNC_LIMITS } from '../../src/constants.js'
import { canonicalProof, verifyProofRecords } from '../../src/record/equivocation.js'
import { createRecord } from '../../src/record/build.js'
import { decodeExtra, encodeProofExtra, encodeRosterExtra } from '../../src/sync/extras-wire.js'
import { memberFromByte, pdqHex, signalsBody } from '../helpers/records.js'

const code = (fn: () => unknown) => {
  try {
    fn()
  } catch (err) {
    return (err as { code?: string }).code
  }
  return 'no error'
}

test('a proof extra round-trips in canonical order, whichever order its records came in', () => {
  const author = memberFromByte(3)
  const a = createRecord(author, { seq: 0, id: null }, 'signals', signalsBody([pdqHex(1)]))
  const b = createRecord(author, { seq: 0, id: null }, 'signals', signalsBody([pdqHex(2)]))
  const ab = canonicalProof(author.publicKeyHex, 1, { id: a.record.id, bytes: a.bytes }, { id: b.record.id, bytes: b.bytes })
  const ba = canonicalProof(author.publicKeyHex, 1, { id: b.record.id, bytes: b.bytes }, { id: a.record.id, bytes: a.bytes })
  assert.deepEqual(encodeProofExtra(ab), encodeProofExtra(ba))
  const decoded = decodeExtra(encodeProofExtra(ab))
  assert.equal(decoded.type, 'equivocation')
  const proof = verifyProofRecords((decoded as { records: unknown }).records)
  assert.deepEqual(proof.ids, ab.ids)
  // the same record twice is no proof
  assert.equal(code(() => verifyProofRecords([a.bytes, a.bytes])), 'RECORD_INVALID')
})

test('extras are refused while decoding when they announce too many items, nest too deep, or are too large', () => {
  assert.equal(decodeExtra(encodeRosterExtra(new Uint8Array([1, 2, 3]))).type, 'roster')
  assert.equal(code(() => decodeExtra(dagCbor.encode({ type: 'equivocation', records: [new Uint8Array(1), new Uint8Array(1), new Uint8Array(1)] }))), 'RECORD_DECODE')
  assert.equal(code(() => decodeExtra(dagCbor.encode({ type: 'equivocation', records: [[new Uint8Array(1)], new Uint8Array(1)] }))), 'RECORD_DECODE')
  // a list header announcing a million items, with nothing behind it
  const announced = Uint8Array.from([0xa2, 0x64, ...Buffer.from('type'), 0x6c, ...Buffer.from('equivocation'), 0x67, ...Buffer.from('records'), 0x9a, 0x00, 0x0f, 0x42, 0x40])
  assert.equal(code(() => decodeExtra(announced)), 'RECORD_DECODE')
  assert.equal(code(() => decodeExtra(new Uint8Array(SYNC_LIMITS.maxExtraBytes + 1))), 'RECORD_TOO_LARGE')
  assert.equal(code(() => decodeExtra(Uint8Array.from([0xff, 0x00]))), 'RECORD_DECODE')
  assert.equal(code(() => decodeExtra(dagCbor.encode({ type: 'other' }))), 'RECORD_KIND')
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { isHashmeshError } from '../../src/errors.js'
import { fromHex, keyPairFromSeed, Signer, toHex } from '../../src/record/crypto.js'
import { decodeIncidentNotice, signIncidentNotice, type SignedIncidentNotice } from '../../src/record/incident.js'
import { decodePriorityMessage, encodePriorityMessage } from '../../src/record/priority-wire.js'

const vectors = JSON.parse(readFileSync(new URL('../vectors/incident.json', import.meta.url), 'utf8')) as {
  notices: Array<{ notice: SignedIncidentNotice; bytes: string }>
  priorityEnvelope: string
}
const signer = new Signer(keyPairFromSeed(new Uint8Array(32).map((_, i) => i + 1)))
const codeOf = (f: () => unknown): string => {
  try {
    f()
  } catch (err) {
    if (isHashmeshError(err)) return err.code
    throw err
  }
  return 'no error'
}

test('incident golden vectors: the bytes decode and verify to the documented notice, and signing it again gives the same bytes', () => {
  assert.equal(vectors.notices.length, 3)
  for (const { notice, bytes } of vectors.notices) {
    const decoded = decodeIncidentNotice(Buffer.from(bytes, 'hex'))
    assert.deepEqual(decoded.notice, notice)
    const { version: _v, author: _a, signature: _s, id: _i, ...unsigned } = notice
    assert.equal(toHex(signIncidentNotice(unsigned, signer).bytes), bytes)
  }
  assert.deepEqual(vectors.notices.map((v) => v.notice.action), ['declare', 'update', 'close'])
  const envelope = decodePriorityMessage(fromHex(vectors.priorityEnvelope, vectors.priorityEnvelope.length / 2, 'envelope'))
  assert.equal(envelope.type, 'notice')
  assert.equal(toHex(envelope.bytes), vectors.notices[0]!.bytes)
  assert.equal(toHex(encodePriorityMessage(envelope)), vectors.priorityEnvelope)
})

test('incident notices: a flipped byte, a bad field or a bound crossed is refused with its code', () => {
  const good = Buffer.from(vectors.notices[0]!.bytes, 'hex')
  let refused = 0
  for (let i = 0; i < good.length; i += 7) {
    const bad = Uint8Array.from(good)
    bad[i]! ^= 0x01
    const code = codeOf(() => decodeIncidentNotice(bad))
    assert.notEqual(code, 'no error', `byte ${i} flipped`)
    refused++
  }
  assert.ok(refused > 20)
  const base = { ...vectors.notices[0]!.notice }
  const { version: _v, author: _a, signature: _s, id: _i, ...unsigned } = base
  assert.equal(codeOf(() => signIncidentNotice({ ...unsigned, severity: 'apocalyptic' as never }, signer)), 'RECORD_INVALID')
  assert.equal(codeOf(() => signIncidentNotice({ ...unsigned, title: '' }, signer)), 'RECORD_INVALID')
  assert.equal(codeOf(() => signIncidentNotice({ ...unsigned, expiry: unsigned.start }, signer)), 'RECORD_INVALID')
  assert.equal(codeOf(() => signIncidentNotice({ ...unsigned, expiry: unsigned.start + 400 * 86_400_000 }, signer)), 'RECORD_INVALID')
  assert.equal(codeOf(() => signIncidentNotice({ ...unsigned, revision: 2 }, signer)), 'RECORD_INVALID', 'a declaration is revision 1')
  assert.equal(codeOf(() => signIncidentNotice({ ...unsigned, incident: 'abcd' }, signer)), 'HASH_INVALID')
  assert.equal(codeOf(() => decodeIncidentNotice(new Uint8Array(0))), 'RECORD_DECODE')
  assert.equal(codeOf(() => decodeIncidentNotice(new Uint8Array(9000))), 'RECORD_TOO_LARGE')
  assert.equal(codeOf(() => decodePriorityMessage(Uint8Array.from([0xa0]))), 'RECORD_DECODE')
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createRecord } from '../../src/record/build.js'
import { decodeAndVerify, signingBytes } from '../../src/record/codec.js'
import { fromHex, keyPairFromSeed, signReference, Signer, toHex, verifyReference, verifySignature, verifyWithNodeCrypto } from '../../src/record/crypto.js'
import type { SignedRecord } from '../../src/record/types.js'

const vectors = JSON.parse(readFileSync(new URL('../vectors/records.json', import.meta.url), 'utf8')) as {
  seed: string
  publicKey: string
  records: { record: SignedRecord; signingBytes: string; bytes: string; id: string; signature: string }[]
}

test('golden vectors: the key pair derives from the seed', () => {
  const kp = keyPairFromSeed(fromHex(vectors.seed, 32, 'seed'))
  assert.equal(toHex(kp.publicKey), vectors.publicKey)
})

test('golden vectors: re-encoding each record gives the exact bytes, id and signature', () => {
  const kp = keyPairFromSeed(fromHex(vectors.seed, 32, 'seed'))
  const signer = new Signer(kp)
  for (const v of vectors.records) {
    const { record } = v
    const { signature: _s, id: _i, ...unsigned } = record
    const rebuilt = createRecord(signer, { seq: record.seq - 1, id: record.prev }, record.kind, unsigned.body as never, record.timestamp)
    assert.equal(toHex(signingBytes(unsigned)), v.signingBytes)
    assert.equal(toHex(rebuilt.bytes), v.bytes)
    assert.equal(rebuilt.record.id, v.id)
    assert.equal(rebuilt.record.signature, v.signature)
  }
})

test('golden vectors: tweetnacl, node:crypto and libsodium agree on every signature', () => {
  const kp = keyPairFromSeed(fromHex(vectors.seed, 32, 'seed'))
  for (const v of vectors.records) {
    const message = fromHex(v.signingBytes, v.signingBytes.length / 2, 'signing bytes')
    const signature = fromHex(v.signature, 64, 'signature')
    assert.equal(toHex(signReference(message, kp)), v.signature)
    assert.equal(toHex(new Signer(kp).sign(message)), v.signature)
    assert.ok(verifyReference(message, signature, kp.publicKey))
    assert.ok(verifySignature(message, signature, kp.publicKey))
    assert.ok(verifyWithNodeCrypto(message, signature, kp.publicKey))
    // one flipped bit anywhere (message, signature, key) fails in all three
    for (const [m, sig, key] of [[flip(message, 7), signature, kp.publicKey], [message, flip(signature, 100), kp.publicKey], [message, signature, flip(kp.publicKey, 3)]] as const) {
      assert.equal(verifyReference(m, sig, key), false)
      assert.equal(verifySignature(m, sig, key), false)
      assert.equal(verifyWithNodeCrypto(m, sig, key), false)
    }
  }
})

function flip(bytes: Uint8Array, bit: number): Uint8Array {
  const out = Uint8Array.from(bytes)
  out[(bit >>> 3) % out.length]! ^= 1 << (bit & 7)
  return out
}

test('golden vectors: decoding the bytes verifies and yields the documented record', () => {
  for (const v of vectors.records) {
    const { record } = decodeAndVerify(fromHex(v.bytes, v.bytes.length / 2, 'bytes'))
    assert.deepEqual(record, v.record)
  }
})

/**
 * Regenerates test/vectors/records.json: fixed keys and bodies -> exact canonical bytes, id and signature.
 * Only run this when the record format version changes; test/record/vectors.test.ts guards the file.
 */
import { writeFileSync } from 'node:fs'
import { createRecord } from '../src/record/build.js'
import { keyPairFromSeed, Signer, toHex } from '../src/record/crypto.js'
import { signingBytes } from '../src/record/codec.js'

const seed = new Uint8Array(32).map((_, i) => i + 1)
const signer = new Signer(keyPairFromSeed(seed))
const t = 1_764_000_000_000
const first = createRecord(signer, { seq: 0, id: null }, 'signals', {
  signals: [
    { type: 'pdq', value: 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22', quality: 100 },
    { type: 'md5', value: 'd41d8cd98f00b204e9800998ecf8427e' },
    { type: 'sha256', value: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' },
    { type: 'vpdq', value: '', frames: [{ hash: 'dadb999c25266273529cadac89cb52c22324ad3bce99726c38668d93c799f07c', quality: 100, ms: 0 }] },
  ],
  contentType: 'photo',
  labels: ['behavior:glorification', 'entity:example-group'],
  note: 'golden vector',
}, t)
const second = createRecord(signer, { seq: 1, id: first.record.id }, 'revoke', { target: first.record.id, signal: 1, reason: 'mistake' }, t + 1)
const third = createRecord(signer, { seq: 2, id: second.record.id }, 'opinion', {
  signal: { type: 'pdq', value: 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22' },
  opinion: 'true_positive',
}, t + 2)

const vectors = {
  description: 'hashmesh record format v1 golden vectors; see docs/protocol.md',
  seed: toHex(seed),
  publicKey: signer.publicKeyHex,
  records: [first, second, third].map(({ record, bytes }) => ({
    record,
    signingBytes: toHex(signingBytes(record)),
    bytes: toHex(bytes),
    id: record.id,
    signature: record.signature,
  })),
}
writeFileSync(new URL('../test/vectors/records.json', import.meta.url), JSON.stringify(vectors, null, 2) + '\n')
console.log(`wrote ${vectors.records.length} vectors for ${signer.publicKeyHex}`)

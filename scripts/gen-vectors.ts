/**
 * Regenerates every golden vector file from fixed seeds and timestamps (one run, byte-identical output):
 *   test/vectors/records.json    fixed keys and bodies -> exact canonical bytes, id and signature
 *                                (guarded by test/record/vectors.test.ts)
 *   test/vectors/roster.json     a genesis roster signed by 2 founders and its successor -> exact bytes and ids
 *                                (guarded by test/record/roster-vectors.test.ts)
 *   test/vectors/sync-wire.json  every sync request and response type -> exact dag-cbor bytes and frame
 *                                (guarded by test/sync/wire-vectors.test.ts)
 * Only run this when a format version changes; the tests fail on any drift.
 */
import { writeFileSync } from 'node:fs'
import { isDeepStrictEqual } from 'node:util'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import * as lp from 'it-length-prefixed'
import { createRecord } from '../src/record/build.js'
import { keyPairFromSeed, Signer, toHex } from '../src/record/crypto.js'
import { signingBytes } from '../src/record/codec.js'
import { encodeSignedRoster, rosterSigningBytes, signRoster, verifyGenesis, verifySuccessor, type RosterDocument, type SignedRoster } from '../src/record/roster.js'
import { encodeRosterExtra } from '../src/sync/extras-wire.js'
import { extrasDigest } from '../src/sync/digest.js'
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse, type SyncRequest, type SyncResponse } from '../src/sync/wire.js'

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

// ---------------------------------------------------------------- roster

/** Member n's ed25519 seed: bytes n*32+1 .. n*32+32 (member 0 is the records vectors' author). */
const memberSeed = (n: number): Uint8Array => new Uint8Array(32).map((_, i) => n * 32 + i + 1)
/** Member n's libp2p peer key seed (Ed25519): 32 bytes of 0xa0 + n. */
const peerSeed = (n: number): Uint8Array => new Uint8Array(32).fill(0xa0 + n)

const people = await Promise.all(['alpha', 'bravo', 'charlie'].map(async (name, n) => {
  const seed = memberSeed(n)
  const pSeed = peerSeed(n)
  const peerId = peerIdFromPrivateKey(await generateKeyPairFromSeed('Ed25519', pSeed)).toString()
  return { name, seed, peerSeed: pSeed, peerId, signer: new Signer(keyPairFromSeed(seed)) }
}))
const [alpha, bravo, charlie] = people as [typeof people[0], typeof people[0], typeof people[0]]
const member = (p: typeof alpha) => ({ name: p.name, key: p.signer.publicKeyHex, peers: [p.peerId] })
const sign = (doc: RosterDocument, by: (typeof alpha)[]): SignedRoster =>
  by.reduce<SignedRoster>((r, p) => signRoster(r, p.signer), { document: doc, signatures: [], id: '' })

// Genesis: founders alpha and bravo, each signs (a genesis needs every listed member).
const genesisDoc: RosterDocument = { federation: 'golden', serial: 1, prev: null, members: [member(alpha), member(bravo)], createdAt: t }
const genesis = verifyGenesis(sign(genesisDoc, [alpha, bravo]))
// Version 2 adds charlie; signed by alpha and bravo (2 of genesis's 2 members: the strict majority), not by charlie.
const secondDoc: RosterDocument = { federation: 'golden', serial: 2, prev: genesis.id, members: [member(alpha), member(bravo), member(charlie)], createdAt: t + 86_400_000 }
const rosterV2 = verifySuccessor(genesis, sign(secondDoc, [alpha, bravo]))

const rosterVersions = [{ roster: genesis, signers: ['alpha', 'bravo'] }, { roster: rosterV2, signers: ['alpha', 'bravo'] }]
const rosterVectors = {
  description: 'hashmesh roster format v1 golden vectors (docs/protocol.md section 4): bytes = encodeSignedRoster, id = SHA-256(signingBytes), extra = the roster as a sync/gossip extra (section 6)',
  genesisId: genesis.id,
  members: people.map((p) => ({ name: p.name, seed: toHex(p.seed), key: p.signer.publicKeyHex, peerSeed: toHex(p.peerSeed), peerId: p.peerId })),
  versions: rosterVersions.map(({ roster, signers }) => ({
    signers,
    document: roster.document,
    signatures: roster.signatures,
    signingBytes: toHex(rosterSigningBytes(roster.document)),
    id: roster.id,
    bytes: toHex(encodeSignedRoster(roster)),
    extra: toHex(encodeRosterExtra(encodeSignedRoster(roster))),
  })),
}
writeFileSync(new URL('../test/vectors/roster.json', import.meta.url), JSON.stringify(rosterVectors, null, 2) + '\n')
console.log(`wrote ${rosterVectors.versions.length} roster vectors, genesis ${genesis.id}`)

// ---------------------------------------------------------------- sync wire

// The story: a server holds alpha's feed (the three records above) and the two roster versions as extras.
const feed = signer.publicKeyHex
const extras = [genesis, rosterV2].map((r) => encodeRosterExtra(encodeSignedRoster(r)))
const head = { feed, seq: third.record.seq, id: third.record.id }
const requests: { name: string; message: SyncRequest }[] = [
  { name: 'heads', message: { type: 'heads' } },
  { name: 'heads after', message: { type: 'heads', after: feed } },
  { name: 'range', message: { type: 'range', feed, from: 1, count: 256 } },
  { name: 'extras first page', message: { type: 'extras', offset: 0 } },
  { name: 'extras second page', message: { type: 'extras', offset: 1 } },
]
const responses: { name: string; message: SyncResponse }[] = [
  { name: 'heads without next', message: { type: 'heads', heads: [head], extrasDigest: extrasDigest(extras) } },
  { name: 'heads with next', message: { type: 'heads', heads: [head], extrasDigest: extrasDigest(extras), next: feed } },
  { name: 'records', message: { type: 'records', feed, from: 1, records: [first, second, third].map((r) => r.bytes) } },
  { name: 'extras with next', message: { type: 'extras', items: [extras[0]!], next: 1 } },
  { name: 'extras without next', message: { type: 'extras', items: [extras[1]!] } },
  { name: 'error', message: { type: 'error', code: 'RATE_LIMITED', message: 'too many sync requests' } },
]

/** JSON form of a decoded message: byte fields (extrasDigest, records[i], items[i]) as lowercase hex. */
function messageJson(message: SyncRequest | SyncResponse): unknown {
  return JSON.parse(JSON.stringify(message, (_key, value: unknown) => (value instanceof Uint8Array ? toHex(value) : value)))
}
function wireVector<M extends SyncRequest | SyncResponse>(name: string, message: M, encodeFn: (m: M) => Uint8Array, decodeFn: (b: Uint8Array) => unknown) {
  const bytes = encodeFn(message)
  if (!isDeepStrictEqual(messageJson(decodeFn(bytes) as M), messageJson(message))) throw new Error(`${name} does not round-trip`)
  return { name, message: messageJson(message), bytes: toHex(bytes), frame: toHex(lp.encode.single(bytes).subarray()) }
}
const wireVectors = {
  description: 'hashmesh sync protocol /hashmesh/sync/2.0.0 golden vectors (docs/protocol.md section 7): bytes = one dag-cbor message, frame = unsigned-varint length || bytes; in "message", feed keys and ids are hex as in the decoded form, and the byte fields extrasDigest, records[i] and items[i] are written as hex too',
  requests: requests.map(({ name, message }) => wireVector(name, message, encodeRequest, decodeRequest)),
  responses: responses.map(({ name, message }) => wireVector(name, message, encodeResponse, decodeResponse)),
}
writeFileSync(new URL('../test/vectors/sync-wire.json', import.meta.url), JSON.stringify(wireVectors, null, 2) + '\n')
console.log(`wrote ${wireVectors.requests.length} request and ${wireVectors.responses.length} response vectors`)

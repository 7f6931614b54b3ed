import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import {
  decodeSignedRoster, encodeSignedRoster, rosterId, rosterSigningBytes, signRoster, verifyGenesis, verifySuccessor,
  type RosterDocument, type RosterSignature, type SignedRoster,
} from '../../src/record/roster.js'
import { fromHex, keyPairFromSeed, sha256, Signer, toHex } from '../../src/record/crypto.js'
import { encodeRosterExtra } from '../../src/sync/extras-wire.js'
import { RosterState } from '../../src/node/roster-state.js'
import { isHashmeshError } from '../../src/errors.js'

interface Version {
  signers: string[]
  document: RosterDocument
  signatures: RosterSignature[]
  signingBytes: string
  id: string
  bytes: string
  extra: string
}
const vectors = JSON.parse(readFileSync(new URL('../vectors/roster.json', import.meta.url), 'utf8')) as {
  genesisId: string
  members: { name: string; seed: string; key: string; peerSeed: string; peerId: string }[]
  versions: Version[]
}
const unhex = (hex: string): Uint8Array => fromHex(hex, hex.length / 2, 'vector bytes')
const [genesisV, secondV] = vectors.versions as [Version, Version]
const signerOf = (name: string): Signer => {
  const m = vectors.members.find((x) => x.name === name)
  assert.ok(m, `member ${name}`)
  return new Signer(keyPairFromSeed(fromHex(m.seed, 32, 'seed')))
}

test('roster vectors: member keys and peer ids derive from their seeds', async () => {
  for (const m of vectors.members) {
    assert.equal(signerOf(m.name).publicKeyHex, m.key)
    assert.equal(peerIdFromPrivateKey(await generateKeyPairFromSeed('Ed25519', fromHex(m.peerSeed, 32, 'peer seed'))).toString(), m.peerId)
  }
})

test('roster vectors: a genesis signed by its 2 founders and a successor linking to it', () => {
  assert.equal(vectors.versions.length, 2)
  assert.equal(genesisV.document.serial, 1)
  assert.equal(genesisV.document.prev, null)
  assert.deepEqual(genesisV.signers, genesisV.document.members.map((m) => m.name))
  assert.equal(genesisV.signers.length, 2)
  assert.equal(genesisV.id, vectors.genesisId)
  assert.equal(secondV.document.serial, 2)
  assert.equal(secondV.document.prev, vectors.genesisId)
  assert.ok(secondV.signers.length > genesisV.document.members.length / 2)
})

test('roster vectors: signing bytes, ids and the decoded form match the bytes', () => {
  for (const v of vectors.versions) {
    assert.equal(toHex(rosterSigningBytes(v.document)), v.signingBytes)
    assert.equal(toHex(sha256(unhex(v.signingBytes))), v.id)
    assert.equal(rosterId(v.document), v.id)
    assert.deepEqual(decodeSignedRoster(unhex(v.bytes)), { document: v.document, signatures: v.signatures, id: v.id })
    assert.equal(toHex(encodeSignedRoster({ document: v.document, signatures: v.signatures })), v.bytes)
    assert.equal(toHex(encodeRosterExtra(unhex(v.bytes))), v.extra)
  }
})

test('roster vectors: the bytes verify (genesis, then the successor by majority) and a node pinned to the genesis id installs both', () => {
  const genesis = verifyGenesis(decodeSignedRoster(unhex(genesisV.bytes)))
  assert.equal(genesis.id, vectors.genesisId)
  const second = verifySuccessor(genesis, decodeSignedRoster(unhex(secondV.bytes)))
  assert.equal(second.id, secondV.id)

  const state = new RosterState(vectors.genesisId, vectors.members[0]!.key)
  assert.deepEqual(state.accept(unhex(genesisV.bytes)), { verdict: 'accepted', id: genesisV.id, roster: genesis })
  assert.equal(state.accept(unhex(secondV.bytes)).verdict, 'accepted')
  assert.equal(state.current?.id, secondV.id)
  for (const m of vectors.members) {
    assert.ok(state.isMember(m.key), m.name)
    assert.ok(state.isAllowedPeer(m.peerId), m.name)
  }
})

test('roster vectors: re-building from the seeds reproduces the bytes exactly', async () => {
  const members = await Promise.all(vectors.members.map(async (m) => ({
    name: m.name,
    key: signerOf(m.name).publicKeyHex,
    peers: [peerIdFromPrivateKey(await generateKeyPairFromSeed('Ed25519', fromHex(m.peerSeed, 32, 'peer seed'))).toString()],
  })))
  let prev: string | null = null
  for (const v of vectors.versions) {
    const document: RosterDocument = {
      federation: v.document.federation,
      serial: v.document.serial,
      prev,
      members: members.slice(0, v.document.members.length),
      createdAt: v.document.createdAt,
    }
    assert.deepEqual(document, v.document)
    const signed = v.signers.reduce<SignedRoster>((r, name) => signRoster(r, signerOf(name)), { document, signatures: [], id: '' })
    assert.deepEqual(signed.signatures, v.signatures)
    assert.equal(signed.id, v.id)
    assert.equal(toHex(encodeSignedRoster(signed)), v.bytes)
    prev = signed.id
  }
})

test('roster vectors: a flipped signature byte or a missing majority is ROSTER_QUORUM', () => {
  const genesisBytes = unhex(genesisV.bytes)
  const sigAt = Buffer.from(genesisBytes).indexOf(Buffer.from(genesisV.signatures[1]!.signature, 'hex'))
  genesisBytes[sigAt + 10]! ^= 0x01
  assert.throws(() => verifyGenesis(decodeSignedRoster(genesisBytes)), (err: unknown) => isHashmeshError(err, 'ROSTER_QUORUM'))

  const genesis = verifyGenesis(decodeSignedRoster(unhex(genesisV.bytes)))
  const second = decodeSignedRoster(unhex(secondV.bytes))
  const oneSignature = { document: second.document, signatures: second.signatures.slice(0, 1) }
  assert.throws(() => verifySuccessor(genesis, oneSignature), (err: unknown) => isHashmeshError(err, 'ROSTER_QUORUM'))
})

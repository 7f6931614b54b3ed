import { test } from 'node:test'
import assert from 'node:assert/strict'
import { RosterState } from '../../src/node/roster-state.js'
import { encodeSignedRoster, signRoster, rosterId, type RosterDocument } from '../../src/record/roster.js'
import { memberFromByte } from '../helpers/records.js'

const [a, b, c] = [memberFromByte(11), memberFromByte(12), memberFromByte(13)]
const peer = (n: number) => '12D3KooW' + 'A'.repeat(44).slice(0, 43) + String.fromCharCode(65 + n)
const genesisDoc: RosterDocument = {
  federation: 'test', serial: 1, prev: null, createdAt: 1,
  members: [a, b, c].map((m, i) => ({ name: `m${i}`, key: m.publicKeyHex, peers: [peer(i)] })),
}
const genesis = [a, b, c].reduce((r, m) => signRoster(r, m), { document: genesisDoc, signatures: [] } as Parameters<typeof signRoster>[0])

test('the genesis must be pinned (or installed by the operator) and signed by every founder', () => {
  const unpinned = new RosterState(null, a.publicKeyHex)
  assert.equal(unpinned.accept(encodeSignedRoster(genesis)).verdict, 'rejected')
  const partial = signRoster({ document: genesisDoc, signatures: [] }, a)
  const pinned = new RosterState(rosterId(genesisDoc), a.publicKeyHex)
  assert.equal(pinned.accept(encodeSignedRoster(partial)).code, 'ROSTER_QUORUM')
  assert.equal(pinned.accept(encodeSignedRoster(genesis)).verdict, 'accepted')
  assert.equal(pinned.accept(encodeSignedRoster(genesis)).verdict, 'duplicate')
  const otherDoc = { ...genesisDoc, federation: 'other' }
  const other = [a, b, c].reduce((r, m) => signRoster(r, m), { document: otherDoc, signatures: [] } as Parameters<typeof signRoster>[0])
  assert.equal(new RosterState(rosterId(genesisDoc), a.publicKeyHex).accept(encodeSignedRoster(other)).code, 'ROSTER_INVALID')
})

test('removing a member needs a majority; afterwards its key and peer ids are refused', () => {
  const state = new RosterState(rosterId(genesisDoc), a.publicKeyHex)
  state.accept(encodeSignedRoster(genesis))
  assert.ok(state.isMember(c.publicKeyHex))
  assert.ok(state.isAllowedPeer(peer(2)))
  const next: RosterDocument = { ...genesisDoc, serial: 2, prev: rosterId(genesisDoc), members: genesisDoc.members.slice(0, 2), createdAt: 2 }
  const byOne = signRoster({ document: next, signatures: [] }, a)
  assert.equal(state.accept(encodeSignedRoster(byOne)).code, 'ROSTER_QUORUM')
  const byRemovedOnly = signRoster({ document: next, signatures: [] }, c)
  assert.equal(state.accept(encodeSignedRoster(byRemovedOnly)).code, 'ROSTER_QUORUM')
  assert.equal(state.accept(encodeSignedRoster(signRoster(byOne, b))).verdict, 'accepted')
  assert.equal(state.isMember(c.publicKeyHex), false)
  assert.equal(state.isAllowedPeer(peer(2)), false)
  assert.ok(state.isAllowedPeer(peer(1)))
  // a version that skips ahead waits; a stale one is refused
  const skip = { ...next, serial: 4, prev: 'ab'.repeat(32) }
  assert.equal(state.accept(encodeSignedRoster(signRoster(signRoster({ document: skip, signatures: [] }, a), b))).verdict, 'pending')
  assert.equal(state.accept(encodeSignedRoster(signRoster(byOne, b))).verdict, 'duplicate')
})

test('a roster document with a missing or non-string federation is refused with a typed error, not a crash', () => {
  for (const federation of [undefined, 42, null]) {
    const bad = { ...genesisDoc, federation } as unknown as RosterDocument
    assert.throws(() => signRoster({ document: bad, signatures: [] }, a), (err: { code?: string }) => err.code === 'ROSTER_INVALID')
  }
})

import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import '../../src/shim.js'
import { createNetwork, NET_INTERNALS, generatePeerKey, type NetInternals, type Network } from '../../src/net/index.js'
import { createRecord } from '../../src/record/build.js'
import { generateMemberKeyPair, Signer } from '../../src/record/crypto.js'
import { encodeSignedRoster, signRoster, type RosterDocument } from '../../src/record/roster.js'
import { RECORD_LIMITS } from '../../src/constants.js'
import { testFederation, waitFor } from '../helpers/federation.js'
import { randomPdqHex, signalsBody } from '../helpers/records.js'

const fed = await testFederation(['Alpha', 'Bravo', 'Charlie'])
after(() => fed.close())
const [alphaM, bravoM, charlieM] = fed.members
const internals = (net: Network) => (net as unknown as Record<symbol, NetInternals>)[NET_INTERNALS]!

test('setup: three members connected', async () => {
  for (const name of ['Alpha', 'Bravo', 'Charlie']) await fed.start(name)
  for (const name of ['Alpha', 'Bravo', 'Charlie']) await waitFor(`${name} mesh`, () => fed.node(name).network!.peers().length >= 2, 15_000)
})

test('a peer not in the roster cannot connect', async () => {
  const outsider = await createNetwork({
    peerPrivateKey: await generatePeerKey(),
    listen: ['/ip4/127.0.0.1/tcp/0'],
    announce: [],
    bootstrap: [],
    allowPrivateAddresses: true,
    federationId: fed.federation,
    isAllowedPeer: () => true,
    replica: { heads: async () => [], readRange: async () => [], receive: async () => [], extras: async () => [], receiveExtra: async () => ({ verdict: 'rejected' }) },
    syncIntervalMs: 60_000,
  })
  await outsider.start()
  try {
    const refusedBefore = fed.node('Alpha').network!.metrics().connectionsRefused
    // the member closes the connection as soon as the handshake names the outsider's peer id
    await outsider.dial(alphaM!.multiaddr).catch(() => undefined)
    await waitFor('refusal counted', () => fed.node('Alpha').network!.metrics().connectionsRefused > refusedBefore)
    await waitFor('outsider dropped', () => outsider.peers().length === 0)
    assert.ok(!fed.node('Alpha').network!.peers().some((p) => p.peerId === outsider.peerId))
    // and members never dial it
    await assert.rejects(fed.node('Alpha').network!.dial(outsider.multiaddrs()[0]!), (err: { code?: string }) => err.code === 'PEER_REFUSED')
  } finally {
    await outsider.stop()
  }
})

test('forged, tampered, non-member and oversized records are rejected, never stored, and the sender is penalised', async () => {
  const bravoNet = fed.node('Bravo').network!
  const alpha = fed.node('Alpha')
  const bravoPeer = fed.node('Bravo').node.identity.peerId
  const before = alpha.network!.peers().find((p) => p.peerId === bravoPeer)?.invalid ?? 0
  const countBefore = alpha.node.counts().records

  const stranger = new Signer(generateMemberKeyPair())
  const nonMember = createRecord(stranger, { seq: 0, id: null }, 'signals', signalsBody([randomPdqHex()]))
  const valid = createRecord(new Signer(bravoM!.identity.memberKeyPair), { seq: 99, id: 'ab'.repeat(32) }, 'signals', signalsBody([randomPdqHex()]))
  const tampered = Uint8Array.from(valid.bytes)
  tampered[tampered.length - 70]! ^= 0xff
  const oversized = new Uint8Array(RECORD_LIMITS.maxRecordBytes + 10).fill(7)
  for (const bytes of [nonMember.bytes, tampered, oversized]) await internals(bravoNet).publishUnchecked('records', bytes)

  // all three: the non-member record after a sync with Bravo found no roster of Bravo's that admits its author
  await waitFor('penalties', () => (alpha.network!.peers().find((p) => p.peerId === bravoPeer)?.invalid ?? alpha.network!.metrics().hygiene.invalidByPeer[bravoPeer] ?? 0) >= before + 3, 5_000)
  assert.equal(alpha.node.counts().records, countBefore)
  assert.equal(await alpha.node.recordBytes(nonMember.record.id), undefined)
  assert.equal(await alpha.node.recordBytes(valid.record.id), undefined)
})

test('a replayed record is a no-op (stored once)', async () => {
  const alpha = fed.node('Alpha')
  const { records } = await alpha.node.contribute({ signals: [{ type: 'pdq', value: randomPdqHex(), quality: 90 }] })
  await waitFor('C has it', async () => (await fed.node('Charlie').node.recordBytes(records[0]!.id)) !== undefined)
  const bytes = (await alpha.node.recordBytes(records[0]!.id))!
  const countBefore = fed.node('Charlie').node.counts().records
  await internals(fed.node('Bravo').network!).publishUnchecked('records', bytes)
  const [again] = await fed.node('Charlie').node.receive([bytes])
  assert.equal(again!.verdict, 'duplicate')
  assert.equal(fed.node('Charlie').node.counts().records, countBefore)
})

test('an equivocating member is detected on every node', async () => {
  const alpha = fed.node('Alpha').node
  const alphaSigner = new Signer(alphaM!.identity.memberKeyPair)
  const head = alpha.head(alpha.memberKey)!
  const forkB = createRecord(alphaSigner, { seq: head.seq, id: head.id }, 'signals', signalsBody([randomPdqHex()]))
  const forkC = createRecord(alphaSigner, { seq: head.seq, id: head.id }, 'signals', signalsBody([randomPdqHex()]))
  // Two nodes are told different stories about the same seq.
  await fed.node('Bravo').node.receive([forkB.bytes])
  await fed.node('Charlie').node.receive([forkC.bytes])
  for (const name of ['Alpha', 'Bravo', 'Charlie']) {
    await waitFor(`${name} flags Alpha`, () => fed.node(name).node.forkSeq(alpha.memberKey) !== undefined, 15_000)
  }
})

test('a roster change signed by a minority is refused, by a majority accepted everywhere', async () => {
  const current = fed.node('Alpha').node.rosterView().current!
  const newcomer = new Signer(generateMemberKeyPair())
  const document: RosterDocument = {
    federation: current.document.federation,
    serial: 2,
    prev: current.id,
    members: [...current.document.members, { name: 'Delta', key: newcomer.publicKeyHex, peers: [] }],
    createdAt: Date.now(),
  }
  const minority = signRoster({ document, signatures: [] }, new Signer(alphaM!.identity.memberKeyPair))
  const refused = await fed.node('Alpha').node.installRoster(encodeSignedRoster(minority))
  assert.equal(refused.verdict, 'rejected')
  assert.equal(refused.code, 'ROSTER_QUORUM')
  const majority = signRoster(minority, new Signer(bravoM!.identity.memberKeyPair))
  const accepted = await fed.node('Alpha').node.installRoster(encodeSignedRoster(majority))
  assert.equal(accepted.verdict, 'accepted')
  for (const name of ['Bravo', 'Charlie']) {
    await waitFor(`${name} has serial 2`, () => fed.node(name).node.rosterView().current?.document.serial === 2, 15_000)
  }
  assert.ok(fed.node('Charlie').node.isMember(newcomer.publicKeyHex))
  void charlieM
})

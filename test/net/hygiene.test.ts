import '../../src/shim.js'
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { MAX_INVALID_PER_PEER } from '../../src/net/index.js'
import { isHashmeshError } from '../../src/errors.js'
import { GOSSIP_LIMITS } from '../../src/constants.js'
import { feedKey, makeBadRecord, makeRecord } from './fake-replica.js'
import { internals, startNode, stopAll, waitFor, waitForMesh, type TestNode } from './helpers.js'

const nodes: TestNode[] = []
after(() => stopAll(nodes))

test('gossiped invalid records are rejected; past the bound the sender is disconnected and banned', { timeout: 15_000 }, async () => {
  const honest = await startNode()
  const rogue = await startNode({ bootstrap: [honest.addr] })
  nodes.push(honest, rogue)
  await waitForMesh(rogue, 1)
  const banned: string[] = []
  honest.net.on('peer:banned', ({ peerId }) => banned.push(peerId))

  const feed = feedKey('forged')
  await rogue.net.publish(makeBadRecord(feed, 1, 'forged 1'))
  await waitFor('first rejection', () => honest.net.metrics().gossip.records.rejected === 1)
  assert.equal(honest.replica.count('forged'), 0)
  assert.equal(honest.net.metrics().hygiene.invalidByPeer[rogue.peerId], 1)

  for (let i = 2; i <= MAX_INVALID_PER_PEER + 5; i++) await rogue.net.publish(makeBadRecord(feed, i, `forged ${i}`))
  await waitFor('ban', () => banned.includes(rogue.peerId))
  await waitFor('disconnected', () => honest.net.peers().length === 0 && rogue.net.peers().length === 0)
  const m = honest.net.metrics()
  assert.equal(m.hygiene.bansTotal, 1)
  assert.ok(m.hygiene.bannedUntil[rogue.peerId]! > Date.now())
  assert.ok(m.gossip.records.rejected >= MAX_INVALID_PER_PEER)

  // refused while banned: in both directions
  await assert.rejects(honest.net.dial(rogue.addr), (err) => isHashmeshError(err, 'PEER_BANNED'))
  await rogue.net.dial(honest.addr).catch(() => undefined)
  await new Promise((r) => setTimeout(r, 300))
  assert.equal(honest.net.peers().length, 0)
})

test('oversized gossip messages are rejected and counted', { timeout: 15_000 }, async () => {
  const honest = await startNode()
  const rogue = await startNode({ bootstrap: [honest.addr] })
  nodes.push(honest, rogue)
  await waitForMesh(rogue, 1)
  // our own publish refuses to send it at all
  const huge = new Uint8Array(GOSSIP_LIMITS.maxRecordBytes + 1).fill(0x41)
  await assert.rejects(rogue.net.publish(huge), (err) => isHashmeshError(err, 'RECORD_TOO_LARGE'))
  // a misbehaving peer sends it anyway
  assert.equal(await internals(rogue).publishUnchecked('records', huge), true)
  await waitFor('oversize counted', () => honest.net.metrics().gossip.oversized === 1)
  assert.equal(honest.net.metrics().hygiene.invalidByPeer[rogue.peerId], 1)
  assert.equal(honest.net.metrics().gossip.records.accepted, 0)
})

test('invalid records served by sync are rejected and count against the server', { timeout: 15_000 }, async () => {
  const rogue = await startNode()
  rogue.replica.trustEverything = true
  const feed = feedKey('poisoned')
  rogue.replica.appendRaw(feed, makeRecord(feed, 1, 'fine'))
  for (let seq = 2; seq <= 40; seq++) rogue.replica.appendRaw(feed, makeBadRecord(feed, seq, `bad ${seq}`))
  nodes.push(rogue)
  const honest = await startNode()
  nodes.push(honest)
  const banned: string[] = []
  honest.net.on('peer:banned', ({ peerId }) => banned.push(peerId))
  await honest.net.dial(rogue.addr)
  const report = await honest.net.syncNow(rogue.peerId)
  assert.equal(honest.replica.count('poisoned'), 1, 'the good prefix is kept')
  const rejected = report.records.rejected
  assert.ok(rejected >= 1)
  // one bad batch: every record after the first fails; the peer crosses the bound and is banned
  assert.ok(banned.includes(rogue.peerId))
  assert.equal(report.peers[0]!.error?.code, 'PEER_BANNED')
  await waitFor('disconnected', () => honest.net.peers().length === 0)
})

test('gossiped extras go through the replica too', { timeout: 15_000 }, async () => {
  const a = await startNode()
  const b = await startNode({ bootstrap: [a.addr] })
  nodes.push(a, b)
  await waitForMesh(a, 1)
  const extra = new Uint8Array(Buffer.from('extra:roster v3'))
  a.replica.extraItems.push(extra)
  await a.net.publishExtra(extra)
  await waitFor('extra accepted on B', () => b.net.metrics().gossip.extras.accepted === 1)
  assert.equal(b.replica.extraItems.length, 1)
  await a.net.publishExtra(new Uint8Array(Buffer.from('not an extra')))
  await waitFor('bad extra rejected on B', () => b.net.metrics().gossip.extras.rejected === 1)
})

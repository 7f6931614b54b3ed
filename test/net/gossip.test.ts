import '../../src/shim.js'
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { FEDERATION, internals, startNode, stopAll, waitFor, waitForMesh, type TestNode } from './helpers.js'
import { Gossip, MAX_HELD_PER_PEER, MAX_HELD_TOTAL } from '../../src/net/gossip.js'
import { newCounters, type NetContext } from '../../src/net/context.js'
import { MAX_INVALID_PER_PEER } from '../../src/net/peer-hygiene.js'
import { recordsTopic } from '../../src/net/index.js'

const nodes: TestNode[] = []
after(() => stopAll(nodes))

test('a record published on A reaches C through B by gossip', { timeout: 15_000 }, async () => {
  const a = await startNode()
  nodes.push(a)
  const b = await startNode({ bootstrap: [a.addr] })
  nodes.push(b)
  const c = await startNode({ bootstrap: [b.addr] })
  nodes.push(c)
  await waitForMesh(b, 2)
  const record = a.replica.append('alice', 'first signal')
  await a.net.publish(record)
  // C counts it on the gossip topic (not by sync: the interval is a minute and on-connect syncs are over)
  await waitFor('record gossiped to C', () => c.net.metrics().gossip.records.accepted === 1)
  assert.equal(c.replica.count('alice'), 1)
  assert.equal(b.replica.count('alice'), 1)
})

test('publish never throws when nobody listens: the record waits for sync', { timeout: 15_000 }, async () => {
  const lonely = await startNode()
  nodes.push(lonely)
  await lonely.net.publish(lonely.replica.append('solo', 'x'))
  assert.equal(lonely.net.metrics().gossip.publishNoPeers, 1)
  const late = await startNode({ bootstrap: [lonely.addr] })
  nodes.push(late)
  await waitFor('sync delivers the unpublished record', () => late.replica.count('solo') === 1)
})

test('a node with more than ten peers on one address still accepts their gossip (no IP-colocation graylisting)', { timeout: 60_000 }, async () => {
  const SPOKES = 16
  const hub = await startNode()
  nodes.push(hub)
  const spokes: TestNode[] = []
  for (let i = 0; i < SPOKES; i++) {
    const spoke = await startNode({ bootstrap: [hub.addr] })
    nodes.push(spoke)
    spokes.push(spoke)
    await new Promise((r) => setTimeout(r, 250)) // libp2p accepts at most 5 inbound connections per second per host
  }
  await waitFor('hub connected to every spoke', () => hub.net.peers().length === SPOKES, 20_000)
  const topic = recordsTopic(FEDERATION)
  const pubsub = (node: TestNode) => internals(node).libp2p.services.pubsub
  await waitFor('every spoke sees the hub subscribed', () => spokes.every((s) => pubsub(s).getSubscribers(topic).length >= 1), 20_000)
  await new Promise((r) => setTimeout(r, 1500)) // a heartbeat, so that peer scores are computed
  // 16 peers from 127.0.0.1: gossipsub's default colocation penalty (-5 per squared peer beyond 10) would
  // put every spoke below the graylist threshold (-80) on the hub, which would then ignore their messages
  for (const [i, spoke] of spokes.entries()) await spoke.net.publish(spoke.replica.append(`spoke-${i}`, 'signal'))
  await waitFor('the hub accepted every spoke\'s record by gossip', () => hub.net.metrics().gossip.records.accepted === SPOKES, 20_000)
})

/** Two connected nodes whose on-connect sync is over, so anything after it travels by gossip (or a sync it asks for). */
async function connectedPair(): Promise<[TestNode, TestNode]> {
  const a = await startNode()
  nodes.push(a)
  const b = await startNode({ bootstrap: [a.addr] })
  nodes.push(b)
  await waitForMesh(a, 1)
  await waitForMesh(b, 1)
  await waitFor('on-connect syncs over', () => a.net.metrics().sync.sessionsSucceeded >= 1 && b.net.metrics().sync.sessionsSucceeded >= 1)
  return [a, b]
}

const invalidFrom = (node: TestNode, peer: TestNode): number => node.net.metrics().hygiene.invalidByPeer[peer.peerId] ?? 0

test('a record of an author our roster lacks is held, not penalised, and accepted once a sync brings the relay\'s newer roster', { timeout: 20_000 }, async () => {
  const [a, b] = await connectedPair()
  b.replica.extraItems.push(new Uint8Array(Buffer.from('extra:roster-2'))) // B has a roster version A lacks
  const record = b.replica.append('delta', 'needs:roster-2')
  assert.equal(await internals(b).publishUnchecked('records', record), true)
  // the periodic sync is a minute away: only the sync the held record asks for can deliver the roster
  await waitFor('A accepts the record after taking B\'s roster', () => a.replica.count('delta') === 1, 10_000)
  assert.ok(a.replica.extraItems.some((e) => Buffer.from(e).toString() === 'extra:roster-2'))
  assert.equal(a.net.metrics().gossip.heldForRoster, 1)
  assert.equal(a.net.metrics().gossip.records.rejected, 0)
  assert.equal(invalidFrom(a, b), 0)
})

test('a held record that no roster of the relay admits is rejected after the check and counted against the relay', { timeout: 20_000 }, async () => {
  const [a, b] = await connectedPair()
  const record = b.replica.append('mallory', 'needs:a-roster-nobody-has')
  assert.equal(await internals(b).publishUnchecked('records', record), true)
  await waitFor('B penalised on A', () => invalidFrom(a, b) >= 1, 10_000)
  await waitFor('the held record settled', () => a.net.metrics().gossip.records.rejected === 1, 10_000)
  assert.equal(a.net.metrics().gossip.heldForRoster, 1)
  assert.equal(a.replica.count('mallory'), 0)
})

test('a relay holds at most MAX_HELD_PER_PEER records at once; the rest are rejected at once', { timeout: 30_000 }, async () => {
  const [a, b] = await connectedPair()
  // a burst arrives within milliseconds, long before the roster check (a whole sync session) ends
  const flood = Array.from({ length: MAX_HELD_PER_PEER + 20 }, (_, i) => b.replica.append(`flood-${i}`, 'needs:nothing'))
  await Promise.all(flood.map((r) => internals(b).publishUnchecked('records', r)))
  await waitFor('every flooded record settled', () => a.net.metrics().gossip.records.rejected === flood.length, 20_000)
  assert.equal(a.net.metrics().gossip.heldForRoster, MAX_HELD_PER_PEER)
  // the 20 past the limit were counted against B at once, which is enough for a ban
  assert.ok(invalidFrom(a, b) >= MAX_INVALID_PER_PEER, `${invalidFrom(a, b)} penalties`)
  await waitFor('B banned and disconnected', () => !a.net.peers().some((p) => p.peerId === b.peerId))
  for (let i = 0; i < flood.length; i++) assert.equal(a.replica.count(`flood-${i}`), 0)
})

test('no more than MAX_HELD_TOTAL records are held over all relays', async () => {
  const penalties = new Map<string, number>()
  const ctx = {
    replica: { receive: async (items: Uint8Array[]) => items.map(() => ({ verdict: 'rejected' as const, code: 'UNKNOWN_AUTHOR' as const })) },
    counters: newCounters(),
    log: () => undefined,
    signal: new AbortController().signal,
    penalize: (peer: string, n: number) => penalties.set(peer, (penalties.get(peer) ?? 0) + n),
  } as unknown as NetContext
  const never = new Promise<never>(() => undefined) // the roster checks never end here
  const gossip = new Gossip({} as ConstructorParameters<typeof Gossip>[0], ctx, FEDERATION, () => never)
  const validate = (gossip as unknown as { validate(kind: string, peer: { toString(): string }, msg: { data: Uint8Array }): Promise<string> }).validate.bind(gossip)
  const peers = Math.ceil(MAX_HELD_TOTAL / MAX_HELD_PER_PEER) + 1
  const verdicts: string[] = [] // gossipsub's TopicValidatorResult values
  for (let p = 0; p < peers; p++) {
    for (let i = 0; i < MAX_HELD_PER_PEER; i++) verdicts.push(await validate('records', { toString: () => `peer-${p}` }, { data: new Uint8Array([p, i, 1]) }))
  }
  assert.equal(ctx.counters.gossip.heldForRoster, MAX_HELD_TOTAL)
  assert.equal(verdicts.filter((v) => v === 'ignore').length, MAX_HELD_TOTAL)
  assert.equal(verdicts.filter((v) => v === 'reject').length, peers * MAX_HELD_PER_PEER - MAX_HELD_TOTAL)
  assert.equal([...penalties.values()].reduce((a, b) => a + b, 0), peers * MAX_HELD_PER_PEER - MAX_HELD_TOTAL)
})

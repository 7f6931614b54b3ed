import '../../src/shim.js'
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { FEDERATION, internals, startNode, stopAll, waitFor, waitForMesh, type TestNode } from './helpers.js'
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

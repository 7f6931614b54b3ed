import '../../src/shim.js'
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { startNode, stopAll, waitFor, waitForMesh, type TestNode } from './helpers.js'

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

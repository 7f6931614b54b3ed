import '../../src/shim.js'
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { newKey, startNode, stopAll, waitFor, type TestNode } from './helpers.js'
import { dialMissingRosterPeers, ROSTER_DIALS_PER_ROUND } from '../../src/net/roster-dialer.js'

const nodes: TestNode[] = []
after(() => stopAll(nodes))

const connected = (a: TestNode, b: TestNode): boolean => a.net.peers().some((p) => p.peerId === b.peerId)

// (With fewer than 21 nodes the DHT alone keeps everyone connected: it keeps its 20 kad-closest peers
// connected. The roster dialer makes that hold for every roster member, whatever the federation's size.)
test('members that only know a third one connect to each other, and every roster member is dialled, again each round while unreachable', { timeout: 30_000 }, async () => {
  const keys = await Promise.all([newKey(), newKey(), newKey(), newKey()])
  // the roster also lists a member node that never comes up: dialling it fails, harmlessly
  const roster = () => keys.map((k) => k.peerId)
  const hub = await startNode({ peerPrivateKey: keys[0]!.key, rosterPeers: roster })
  nodes.push(hub)
  const b = await startNode({ peerPrivateKey: keys[1]!.key, bootstrap: [hub.addr], rosterPeers: roster })
  nodes.push(b)
  const c = await startNode({ peerPrivateKey: keys[2]!.key, bootstrap: [hub.addr], rosterPeers: roster, syncIntervalMs: 1_000 })
  nodes.push(c)
  await waitFor('B and C connected directly', () => connected(b, c) && connected(c, b), 20_000)
  // and records now flow between them without the hub
  const record = b.replica.append('bravo', 'found you')
  await b.net.publish(record)
  await waitFor('C has B\'s record', () => c.replica.count('bravo') === 1, 10_000)
  await waitFor('the missing member was tried', () => c.net.metrics().rosterDialFailures >= 1, 15_000)
  await waitFor('retried on later rounds', () => c.net.metrics().rosterDialFailures >= 2, 15_000)
})

test('a dial round skips itself, connected and banned peers, and bounds its dials', async () => {
  const dialled: string[] = []
  const round = await dialMissingRosterPeers({
    self: 'me',
    rosterPeers: () => ['me', 'up', 'banned', 'up', ...Array.from({ length: 40 }, (_, i) => `p${i}`)],
    connectedPeers: () => ['up'],
    isBanned: (p) => p === 'banned',
    dial: async (p) => {
      dialled.push(p)
      if (p.endsWith('7')) throw new Error('unreachable')
    },
  })
  assert.equal(round.missing, 40)
  assert.equal(round.attempted, ROSTER_DIALS_PER_ROUND)
  assert.equal(dialled.length, ROSTER_DIALS_PER_ROUND)
  assert.equal(new Set(dialled).size, dialled.length)
  assert.ok(dialled.every((p) => /^p\d+$/.test(p)))
  assert.equal(round.connected, dialled.filter((p) => !p.endsWith('7')).length)
})

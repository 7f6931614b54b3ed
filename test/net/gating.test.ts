import '../../src/shim.js'
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { generatePsk } from '../../src/net/index.js'
import { isHashmeshError } from '../../src/errors.js'
import { newKey, startNode, stopAll, waitFor, type TestNode } from './helpers.js'

const nodes: TestNode[] = []
after(() => stopAll(nodes))

test('a peer the roster does not allow cannot connect, in either direction', { timeout: 15_000 }, async () => {
  const outsider = await newKey()
  const roster = new Set<string>()
  const lines: Record<string, unknown>[] = []
  const member = await startNode({
    isAllowedPeer: (id) => roster.has(id),
    logger: (event, fields) => event === 'peer.refused' && lines.push(fields),
  })
  nodes.push(member)
  const stranger = await startNode({ peerPrivateKey: outsider.key }) // allows everyone
  nodes.push(stranger)

  const connects: string[] = []
  member.net.on('peer:connect', ({ peerId }) => connects.push(peerId))
  stranger.replica.append('stranger', 'should never arrive')

  // stranger -> member: the member's gater refuses once the handshake names the peer; the dialer may
  // see the connection for an instant before the member closes it
  await stranger.net.dial(member.addr).catch((err) => assert.ok(isHashmeshError(err, 'NODE_UNREACHABLE')))
  await waitFor('the stranger is dropped', () => stranger.net.peers().length === 0)
  // member -> stranger: refused before dialling
  await assert.rejects(member.net.dial(stranger.addr), (err) => isHashmeshError(err, 'PEER_REFUSED'))
  await new Promise((r) => setTimeout(r, 300))
  assert.equal(member.net.peers().length, 0)
  assert.deepEqual(connects, [])
  assert.ok(member.net.metrics().connectionsRefused >= 1)
  assert.ok(member.net.metrics().connectionsRefusedByReason.notInRoster >= 1)
  assert.equal(member.replica.count('stranger'), 0)
  // refusals are logged once per peer per minute, however often it tries
  for (let i = 0; i < 2; i++) {
    await stranger.net.dial(member.addr).catch(() => undefined)
    await waitFor('the stranger is dropped again', () => stranger.net.peers().length === 0)
  }
  await waitFor('all three refusals counted', () => member.net.metrics().connectionsRefusedByReason.notInRoster >= 3)
  const inboundLines = lines.filter((l) => l.peer === outsider.peerId && l.direction === 'inbound')
  assert.equal(inboundLines.length, 1)
  assert.equal(inboundLines[0]!.reason, 'notInRoster')

  // the roster changes at runtime: the gate consults it every time
  roster.add(outsider.peerId)
  await stranger.net.dial(member.addr)
  await waitFor('connected and synced', () => member.net.peers().length === 1 && member.replica.count('stranger') === 1)

  // and removal closes the connection on the next enforcement
  roster.delete(outsider.peerId)
  await member.net.enforceRoster()
  await waitFor('disconnected', () => member.net.peers().length === 0 && stranger.net.peers().length === 0)
})

test('with a pre-shared key, a node without the key cannot connect', { timeout: 40_000 }, async () => {
  const psk = generatePsk()
  const inside1 = await startNode({ psk })
  const inside2 = await startNode({ psk })
  const outside = await startNode()

  const wrongKey = await startNode({ psk: generatePsk() })
  nodes.push(inside1, inside2, outside, wrongKey)
  assert.equal(await inside2.net.dial(inside1.addr), inside1.peerId)
  // Each refused dial only fails at the dial timeout (~5 s): run the three at once.
  await Promise.all([
    assert.rejects(outside.net.dial(inside1.addr), (err) => isHashmeshError(err, 'NODE_UNREACHABLE')),
    assert.rejects(wrongKey.net.dial(inside1.addr), (err) => isHashmeshError(err, 'NODE_UNREACHABLE')),
    assert.rejects(inside1.net.dial(outside.addr), (err) => isHashmeshError(err, 'NODE_UNREACHABLE')),
  ])
  assert.deepEqual(inside1.net.peers().map((p) => p.peerId), [inside2.peerId])
  // both inbound attempts without our key are counted as such (neither reached the roster gate)
  await waitFor('bad-PSK handshakes counted', () => inside1.net.metrics().connectionsRefusedByReason.badPsk >= 2, 10_000)
  const refused = inside1.net.metrics().connectionsRefusedByReason
  assert.equal(refused.notInRoster + refused.banned, 0)
})

/**
 * The incidents fast path (net/priority.ts) on real libp2p nodes: messages flood-published to every
 * subscriber, open notices taken from a peer on connect, a node without the fast path (as a node from
 * before incidents) untouched and nobody penalised, garbage counted against its sender.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { PriorityAccess } from '../../src/net/index.js'
import { startNode, stopAll, waitFor, type TestNode } from './helpers.js'
import { CATCHUP_AGAIN_MS, PriorityChannel } from '../../src/net/priority.js'

function fakeAccess(openNotices: Uint8Array[] = []): PriorityAccess & { got: string[] } {
  const got: string[] = []
  return {
    got,
    async receive(message) {
      if (message[0] === 0xff) return { verdict: 'rejected', code: 'RECORD_DECODE', message: 'not an envelope' }
      const text = Buffer.from(message).toString()
      if (got.includes(text)) return { verdict: 'duplicate' }
      got.push(text)
      if (text.startsWith('gap-')) return { verdict: 'pending', code: 'SEQ_GAP' } // does not link yet
      return { verdict: 'accepted', notice: text.startsWith('notice') }
    },
    openNotices: () => openNotices,
  }
}

/**
 * Publishes a `record-…` message from `from` until `to` has one: right after connecting, a publish can go out
 * before the receiver's subscription reached the sender (gossipsub then sends it to nobody, or the receiver
 * drops it), and nothing repeats a message. Failed CI once with a single publish.
 */
async function deliver(from: TestNode, to: { got: string[] }, what: string): Promise<void> {
  await waitFor(what, async () => {
    await from.net.publishPriority!(Buffer.from(`record-${Date.now()}`))
    for (let i = 0; i < 10 && !to.got.some((m) => m.startsWith('record-')); i++) await new Promise((r) => setTimeout(r, 50))
    return to.got.some((m) => m.startsWith('record-'))
  }, 30_000)
}

test('incidents topic: every subscriber gets a message; a node without the fast path is untouched; a late joiner takes the open notices; garbage is counted', { timeout: 90_000 }, async () => {
  const nodes: TestNode[] = []
  try {
    const a = fakeAccess([Buffer.from('notice-open-1')])
    const b = fakeAccess()
    const alpha = await startNode({ priority: a })
    const bravo = await startNode({ priority: b, bootstrap: [alpha.addr] })
    const old = await startNode({ bootstrap: [alpha.addr] }) // no fast path: a node from before incidents
    nodes.push(alpha, bravo, old)
    await waitFor('connected', () => alpha.net.peers().length >= 2, 20_000)
    await waitFor('Bravo took Alpha\'s open notice on connect', () => b.got.includes('notice-open-1'), 20_000)

    await deliver(alpha, b, 'Bravo got the record envelope')
    assert.equal(old.net.publishPriority, undefined, 'a node without the fast path has no incidents topic')

    // garbage on the topic: rejected and counted against the sender
    await bravo.net.publishPriority!(Uint8Array.from([0xff, 1, 2, 3]))
    await waitFor('Alpha counted Bravo\'s garbage', () => (alpha.net.metrics().hygiene.invalidByPeer[bravo.peerId] ?? 0) >= 1, 10_000)

    // nobody penalised the node without the fast path, nor by it
    assert.equal(alpha.net.metrics().hygiene.invalidByPeer[old.peerId] ?? 0, 0)
    assert.deepEqual(old.net.metrics().hygiene.invalidByPeer, {})
    assert.equal(old.net.peers().length >= 1, true, 'still connected')
    const counters = alpha.net.priorityCounters!()
    assert.ok(counters.published >= 1 && counters.rejected >= 1, JSON.stringify(counters))
  } finally {
    await stopAll(nodes)
  }
})

test('incidents topic: a record that does not link yet starts a sync session with the peer it came from, at most one a second', { timeout: 60_000 }, async () => {
  const nodes: TestNode[] = []
  try {
    const b = fakeAccess()
    const alpha = await startNode({ priority: fakeAccess() })
    const bravo = await startNode({ priority: b, bootstrap: [alpha.addr] })
    nodes.push(alpha, bravo)
    await waitFor('connected', () => alpha.net.peers().length >= 1 && bravo.net.peers().length >= 1, 20_000)
    await deliver(alpha, b, 'Bravo got it')
    await waitFor('the connect sync sessions are over', () => bravo.net.metrics().sync.sessionsStarted >= 1, 10_000)
    await new Promise((r) => setTimeout(r, 300))
    const before = bravo.net.metrics().sync.sessionsStarted
    assert.equal(bravo.net.priorityCounters!().gapSyncs, 0, 'a record that links starts nothing')

    const gaps = ['gap-1', 'gap-2', 'gap-3', 'gap-4']
    for (const g of gaps) await alpha.net.publishPriority!(Buffer.from(g))
    await waitFor('Bravo took them all', () => gaps.every((g) => b.got.includes(g)), 10_000)
    await waitFor('Bravo synced with Alpha (the sync interval is a minute)', () => bravo.net.metrics().sync.sessionsStarted > before, 10_000)
    const { gapSyncs } = bravo.net.priorityCounters!()
    assert.ok(gapSyncs >= 1 && gapSyncs <= 2, `four records sent at once: one session a second, not one each (${gapSyncs})`)
    assert.equal(alpha.net.metrics().hygiene.invalidByPeer[bravo.peerId] ?? 0, 0, 'a pending record is no fault of the sender')
  } finally {
    await stopAll(nodes)
  }
})

test('a peer joining the incidents topic is asked for its open notices at once and twice more a little later (a notice it published before it knew our subscription reached nobody)', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] })
  const asked: string[] = []
  const pubsub = Object.assign(new EventTarget(), { topicValidators: new Map(), subscribe: () => undefined, unsubscribe: () => undefined })
  const ctx = { signal: new AbortController().signal, penalize: () => undefined } as unknown as ConstructorParameters<typeof PriorityChannel>[1]
  const channel = new PriorityChannel(pubsub as unknown as ConstructorParameters<typeof PriorityChannel>[0], ctx, 'fed', fakeAccess(), async () => undefined, async (peer) => {
    asked.push(peer)
    throw new Error('an older node: no catch-up protocol') // the channel shrugs this off
  })
  channel.start()
  const peerId = { toString: () => 'peer-b' }
  const event = (topic: string) => Object.assign(new Event('subscription-change'), { detail: { peerId, subscriptions: [{ topic, subscribe: true }] } })
  pubsub.dispatchEvent(event('another-topic'))
  await new Promise((r) => setImmediate(r))
  assert.deepEqual(asked, [], 'not our topic')
  pubsub.dispatchEvent(event(channel.topic))
  await new Promise((r) => setImmediate(r))
  assert.deepEqual(asked, ['peer-b'])
  t.mock.timers.tick(CATCHUP_AGAIN_MS[0]!)
  await new Promise((r) => setImmediate(r))
  assert.deepEqual(asked, ['peer-b', 'peer-b'])
  t.mock.timers.tick(CATCHUP_AGAIN_MS[1]! - CATCHUP_AGAIN_MS[0]!)
  await new Promise((r) => setImmediate(r))
  assert.deepEqual(asked, ['peer-b', 'peer-b', 'peer-b'])
  // a peer re-announcing its subscription (gossipsub reports it with each message carrying it) gets one set of repeats
  for (let i = 0; i < 50; i++) pubsub.dispatchEvent(event(channel.topic))
  await new Promise((r) => setImmediate(r))
  assert.equal(channel.repeatingPeers, 1)
  t.mock.timers.tick(CATCHUP_AGAIN_MS[1]!)
  await new Promise((r) => setImmediate(r))
  assert.equal(channel.repeatingPeers, 0, 'its one set of repeats ran and is gone')
  pubsub.dispatchEvent(event(channel.topic))
  channel.stop() // pending repeats are cancelled
  const stoppedAt = asked.length
  t.mock.timers.tick(10_000)
  await new Promise((r) => setImmediate(r))
  assert.equal(asked.length, stoppedAt)
})

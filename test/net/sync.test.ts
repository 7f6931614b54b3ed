import '../../src/shim.js'
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { sameHeads, startNode, stopAll, waitFor, type TestNode } from './helpers.js'
import { feedKey, makeRecord } from './fake-replica.js'
import type { PeerSyncReport } from '../../src/net/index.js'
import { SYNC_LIMITS } from '../../src/constants.js'

const nodes: TestNode[] = []
after(() => stopAll(nodes))
const boot = (n: TestNode): string => n.addr
/** More than two full range requests, so the transfer is split and pipelined. */
const AUTHORED = 2 * SYNC_LIMITS.maxRecordsPerRequest + 88

test('a node started later catches up by sync, including the feed of an author that is offline', { timeout: 15_000 }, async () => {
  const author = await startNode()
  nodes.push(author)
  const relay = await startNode({ bootstrap: [boot(author)] })
  nodes.push(relay)
  for (let i = 0; i < AUTHORED; i++) author.replica.append('author', `signal ${i}`) // > 2 batches
  relay.replica.append('relay', 'own record')
  author.replica.extraItems.push(new Uint8Array(Buffer.from('extra:roster v2')))
  await waitFor('relay synced from author', () => relay.replica.count('author') === AUTHORED)
  assert.equal(relay.replica.extraItems.length, 1)
  await author.net.stop() // the author goes offline

  const late = await startNode({ bootstrap: [boot(relay)] })
  nodes.push(late)
  await waitFor('late node caught up', () => late.replica.count('author') === AUTHORED && late.replica.count('relay') === 1)
  assert.ok(await sameHeads(late.replica, relay.replica))
  assert.equal(late.replica.extraItems.length, 1, 'extras travel with sync')
  const m = late.net.metrics()
  assert.ok(m.sync.records.accepted >= AUTHORED + 1)
  assert.ok(m.sync.requestsSent >= 4, `ranges were split into batches of at most ${SYNC_LIMITS.maxRecordsPerRequest}`)
})

test('partition heal: two groups with different records converge to identical heads', { timeout: 15_000 }, async () => {
  const a1 = await startNode()
  const a2 = await startNode({ bootstrap: [boot(a1)] })
  const b1 = await startNode()
  const b2 = await startNode({ bootstrap: [boot(b1)] })
  nodes.push(a1, a2, b1, b2)
  for (let i = 0; i < 50; i++) a1.replica.append('west', `w${i}`)
  for (let i = 0; i < 30; i++) b2.replica.append('east', `e${i}`)
  // a feed both sides hold partly (one side further along)
  const shared = feedKey('shared')
  for (let seq = 1; seq <= 20; seq++) a2.replica.appendRaw(shared, makeRecord(shared, seq, `s${seq}`))
  for (let seq = 1; seq <= 35; seq++) b1.replica.appendRaw(shared, makeRecord(shared, seq, `s${seq}`))
  await waitFor('groups formed', () => a2.net.peers().length === 1 && b2.net.peers().length === 1)
  // each puller syncs itself: a2 pulls west from a1, b1 pulls east from b2 (their on-connect sessions may
  // have run before the records were appended)
  await a2.net.syncNow()
  await b1.net.syncNow()
  await b2.net.syncNow()
  assert.equal(a2.replica.count('west'), 50)
  assert.equal(b1.replica.count('east'), 30)
  assert.equal(a1.replica.count('east'), 0)

  // heal: one link between the groups
  await a2.net.dial(boot(b1))
  const all = [a1, a2, b1, b2]
  const synced = (): Promise<PeerSyncReport[]> => Promise.all(all.map((n) => n.net.syncNow())).then((r) => r.flatMap((x) => x.peers))
  await waitFor('all four converge', async () => {
    await synced()
    const [first, ...rest] = all
    for (const n of rest) if (!(await sameHeads(first!.replica, n.replica))) return false
    return true
  }, 10_000)
  for (const n of all) {
    assert.equal(n.replica.count('west'), 50)
    assert.equal(n.replica.count('east'), 30)
    assert.equal(n.replica.feeds.get(shared)!.length, 35)
  }
})

test('syncNow reports what it did', { timeout: 15_000 }, async () => {
  const a = await startNode()
  const b = await startNode({ bootstrap: [boot(a)] })
  nodes.push(a, b)
  await waitFor('connected', () => b.net.peers().length === 1)
  await b.net.syncNow() // settle the on-connect session
  for (let i = 0; i < 10; i++) a.replica.append('reporter', `r${i}`)
  const report = await b.net.syncNow(a.peerId)
  assert.equal(report.peers.length, 1)
  assert.equal(report.failed, 0)
  assert.equal(report.records.accepted, 10)
  assert.equal(report.peers[0]!.missingAtStart, 10)
  assert.ok(b.net.peers()[0]!.lastSyncAt! > 0)
  const again = await b.net.syncNow(a.peerId)
  assert.equal(again.records.accepted, 0)
  assert.equal(again.peers[0]!.requests, 0)
})

test('large records: short answers (byte budget) are re-asked for their remainder', { timeout: 15_000 }, async () => {
  const a = await startNode()
  const b = await startNode()
  nodes.push(a, b)
  const big = 'x'.repeat(200 * 1024) // ~10 records per 2 MiB response
  for (let i = 0; i < 40; i++) a.replica.append('bulky', `${i}:${big}`)
  await b.net.dial(a.addr)
  const report = await b.net.syncNow(a.peerId)
  assert.equal(report.failed, 0)
  assert.equal(b.replica.count('bulky'), 40)
  assert.ok(report.peers[0]!.requests >= 4, `asked ${report.peers[0]!.requests} times`)
  assert.equal(report.records.pending, 0, 'remainders are asked in order, nothing waits in pending')
})

test('a caller\'s signal stops its wait (typed error), not the shared session; dial honours it too', { timeout: 15_000 }, async () => {
  const a = await startNode()
  const b = await startNode()
  nodes.push(a, b)
  await assert.rejects(b.net.dial(a.addr, { signal: AbortSignal.abort() }), { code: 'TIMEOUT' })
  assert.equal(b.net.peers().length, 0)
  const big = 'y'.repeat(200 * 1024)
  for (let i = 0; i < 40; i++) a.replica.append('slow', `${i}:${big}`)
  await b.net.dial(a.addr, { signal: AbortSignal.timeout(5_000) })
  await assert.rejects(b.net.syncNow(a.peerId, { signal: AbortSignal.timeout(1) }), { code: 'TIMEOUT' })
  const report = await b.net.syncNow(a.peerId)
  assert.equal(report.failed, 0)
  await waitFor('all 40 arrive', () => b.replica.count('slow') === 40)
})

/**
 * The sync protocol end to end without TCP: the real server handler (createSyncHandler) on one end of an
 * in-memory stream pair, the real client (runSyncSession) on the other, a FakeReplica on each side.
 * What needs real nodes (dialling, gating, the rate over real connections) stays in sync.test.ts and
 * sync-server.test.ts.
 */
import '../../src/shim.js'
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Stream } from '@libp2p/interface'
import { newCounters, type NetContext } from '../../src/net/context.js'
import { PeerHygiene, MAX_INVALID_PER_PEER } from '../../src/net/peer-hygiene.js'
import { createSyncHandler } from '../../src/net/sync-server.js'
import { runSyncSession } from '../../src/net/sync-client.js'
import {
  DEFAULT_STREAM_DEADLINES, FramedStream, SERVER_IDLE_TIMEOUT_MS, STREAM_IO_TIMEOUT_MS,
} from '../../src/net/stream-io.js'
import { SYNC_LIMITS } from '../../src/constants.js'
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from '../../src/sync/wire.js'
import { FakeReplica, feedKey, makeBadRecord } from './fake-replica.js'
import { memoryDialer, memoryStreamPair, type StreamHandler } from './memory-streams.js'

const SERVER = 'server-peer'
const CLIENT = 'client-peer'

// Stream deadlines are AbortSignal.timeout timers, which do not keep a process alive; with no socket
// open either, a test waiting only on a deadline would find its event loop empty and be cancelled.
let keepAlive: ReturnType<typeof setInterval>
before(() => (keepAlive = setInterval(() => undefined, 1_000)))
after(() => clearInterval(keepAlive))

interface Peer {
  ctx: NetContext
  replica: FakeReplica
  penalties: Array<{ peerId: string; n: number; reason: string }>
  logs: Array<{ event: string; fields: Record<string, unknown> }>
}

/** One side's NetContext as createNetwork builds it, with penalties and log lines kept for the asserts. */
function peer(replica = new FakeReplica()): Peer {
  const hygiene = new PeerHygiene()
  const p: Peer = {
    replica,
    penalties: [],
    logs: [],
    ctx: {
      replica,
      hygiene,
      counters: newCounters(),
      log: (event, fields) => p.logs.push({ event, fields }),
      signal: new AbortController().signal,
      penalize(peerId, n, reason) {
        p.penalties.push({ peerId, n, reason })
        hygiene.reportInvalid(peerId, n, reason)
      },
    },
  }
  return p
}

async function sameHeads(a: FakeReplica, b: FakeReplica): Promise<boolean> {
  const key = (heads: { feed: string }[]) => JSON.stringify([...heads].sort((x, y) => (x.feed < y.feed ? -1 : 1)))
  return key(await a.heads()) === key(await b.heads())
}

async function until(what: string, predicate: () => boolean, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/** A server that reads each request and answers with `answer(request bytes)`; undefined = no answer. */
function scriptedServer(answer: (frame: Uint8Array) => Uint8Array | undefined): StreamHandler {
  return async (stream: Stream) => {
    const io = new FramedStream(stream)
    try {
      for (;;) {
        const frame = await io.read()
        if (frame === null) break
        const reply = answer(frame)
        if (reply) await io.write(reply)
      }
    } catch {
      // the client aborts the stream when it gives up: the end of this server's conversation
    }
  }
}

test('a client catches up on a few thousand records, extras first, and a second session has nothing to do', async () => {
  const server = peer()
  const client = peer()
  for (let i = 0; i < 3000; i++) server.replica.append('author', `signal ${i}`)
  for (let i = 0; i < 700; i++) server.replica.append('relay', `relay ${i}`)
  for (let i = 0; i < 5; i++) server.replica.append('small', `small ${i}`)
  server.replica.extraItems.push(new Uint8Array(Buffer.from('extra:roster v2')))
  const author = feedKey('author')
  for (const record of server.replica.feeds.get(author)!.slice(0, 100)) client.replica.appendRaw(author, record)

  const dialer = memoryDialer(createSyncHandler(server.ctx), CLIENT)
  const report = await runSyncSession(client.ctx, SERVER, dialer.open)
  assert.equal(report.ok, true, JSON.stringify(report.error))
  const missing = 2900 + 700 + 5
  assert.equal(report.missingAtStart, missing)
  assert.equal(report.records.accepted, missing)
  assert.equal(report.records.rejected + report.records.pending + report.records.duplicate, 0)
  assert.equal(report.extras.accepted, 1)
  assert.ok(await sameHeads(client.replica, server.replica))
  assert.equal(client.replica.extraItems.length, 1)
  // 2,900 of the author's records need three requests of at most 1,024; the other feeds one each
  assert.equal(report.requests, 5)
  await Promise.all(dialer.handled) // the server saw the client close and ended its side
  assert.equal(server.ctx.counters.sync.requestsServed, 1 + 1 + 5) // heads, extras, ranges
  assert.equal(server.ctx.counters.sync.recordsServed, missing)
  assert.deepEqual([server.penalties, client.penalties], [[], []])

  const again = await runSyncSession(client.ctx, SERVER, dialer.open)
  assert.equal(again.ok, true)
  assert.equal(again.requests, 0)
  assert.equal(again.records.accepted, 0)
  assert.equal(client.ctx.counters.sync.sessionsSucceeded, 2)
})

test('the server answers pipelined requests in request order', async () => {
  const server = peer()
  for (let i = 0; i < 300; i++) server.replica.append('served', `r${i}`)
  const { outbound, inbound } = await memoryStreamPair()
  const handled = createSyncHandler(server.ctx)(inbound, { remotePeer: { toString: () => CLIENT } } as never)
  const io = new FramedStream(outbound)
  const feed = feedKey('served')
  await io.write(encodeRequest({ type: 'heads' }))
  await io.write(encodeRequest({ type: 'range', feed, from: 1, count: 256 }))
  await io.write(encodeRequest({ type: 'range', feed, from: 257, count: 256 }))
  await io.write(encodeRequest({ type: 'extras', offset: 0 }))
  const heads = decodeResponse((await io.read())!)
  assert.ok(heads.type === 'heads')
  assert.deepEqual(heads.heads, await server.replica.heads())
  const first = decodeResponse((await io.read())!)
  const second = decodeResponse((await io.read())!)
  assert.ok(first.type === 'records' && first.from === 1 && first.records.length === 256)
  assert.ok(second.type === 'records' && second.from === 257 && second.records.length === 44)
  assert.deepEqual(decodeResponse((await io.read())!), { type: 'extras', items: [] })
  await io.close()
  await handled
  assert.equal(server.ctx.counters.sync.requestsServed, 4)
})

test('a session keeps maxRequestsInFlight range requests outstanding while the server is busy, never more', async () => {
  const server = peer()
  const client = peer()
  const feeds = 10
  for (let f = 0; f < feeds; f++) for (let i = 0; i < 300; i++) server.replica.append(`wide-${f}`, `r${i}`)
  // the server's replica holds its first range answer until released
  let release!: () => void
  const gate = new Promise<void>((resolve) => (release = resolve))
  let rangesRead = 0
  const readRange = server.replica.readRange.bind(server.replica)
  server.replica.readRange = async (feed, from, limit) => {
    rangesRead++
    await gate
    return readRange(feed, from, limit)
  }
  const dialer = memoryDialer(createSyncHandler(server.ctx), CLIENT)
  const session = runSyncSession(client.ctx, SERVER, dialer.open)
  const sent = () => client.ctx.counters.sync.requestsSent
  await until('the client has filled its pipeline', () => sent() === SYNC_LIMITS.maxRequestsInFlight)
  await new Promise((resolve) => setTimeout(resolve, 50))
  assert.equal(sent(), SYNC_LIMITS.maxRequestsInFlight, 'no request beyond the pipeline while no answer came back')
  assert.equal(rangesRead, 1, 'the server is still on the first range')
  release()
  const report = await session
  assert.equal(report.ok, true, JSON.stringify(report.error))
  assert.equal(report.requests, feeds)
  assert.equal(report.records.accepted, feeds * 300)
  assert.ok(await sameHeads(client.replica, server.replica))
})

test('a response that is not a sync frame fails the session with PROTOCOL and counts against the server', async () => {
  const client = peer()
  const dialer = memoryDialer(scriptedServer(() => new Uint8Array([0xff, 0x00, 0x13, 0x37])), CLIENT)
  const report = await runSyncSession(client.ctx, SERVER, dialer.open)
  assert.equal(report.ok, false)
  assert.equal(report.error?.code, 'PROTOCOL')
  assert.deepEqual(client.penalties, [{ peerId: SERVER, n: 1, reason: 'malformed sync response' }])
  assert.equal(client.ctx.hygiene.invalidCounts()[SERVER], 1)
  assert.equal(client.ctx.counters.sync.protocolErrors, 1)
  assert.equal(client.ctx.counters.sync.sessionsFailed, 1)
  await Promise.all(dialer.handled)
  assert.equal(dialer.streams[0]!.outbound.status, 'aborted', 'the client aborts the stream, it does not leave it half open')
})

test('a well-formed answer to another request is a violation too; a server that keeps it up is banned', async () => {
  const client = peer()
  const mirror = new FakeReplica()
  for (let i = 0; i < 10; i++) mirror.append('offset', `r${i}`)
  const heads = await mirror.heads()
  // heads are honest; every range answer claims to start one record later than asked
  const server = scriptedServer((frame) => {
    const req = decodeRequest(frame)
    if (req.type === 'heads') return encodeResponse({ type: 'heads', heads, extrasDigest: new Uint8Array(32) })
    if (req.type === 'range') return encodeResponse({ type: 'records', feed: req.feed, from: req.from + 1, records: [] })
    return encodeResponse({ type: 'extras', items: [] })
  })
  const dialer = memoryDialer(server, CLIENT)
  const report = await runSyncSession(client.ctx, SERVER, dialer.open)
  assert.equal(report.error?.code, 'PROTOCOL')
  assert.equal(client.penalties[0]?.reason, 'records response does not match its request')
  // sessions are cheap in memory: repeat until the bound bans the server, after which no stream is opened
  for (let i = 1; i < MAX_INVALID_PER_PEER; i++) await runSyncSession(client.ctx, SERVER, dialer.open)
  assert.equal(client.ctx.hygiene.isBanned(SERVER), true)
  const opened = dialer.streams.length
  const refused = await runSyncSession(client.ctx, SERVER, dialer.open)
  assert.equal(refused.error?.code, 'PEER_BANNED')
  assert.equal(dialer.streams.length, opened)
  assert.equal(client.replica.count('offset'), 0)
})

test('a malformed request gets a PROTOCOL error frame, ends the stream and counts against the client', async () => {
  const server = peer()
  const { outbound, inbound } = await memoryStreamPair()
  const handled = createSyncHandler(server.ctx)(inbound, { remotePeer: { toString: () => CLIENT } } as never)
  const io = new FramedStream(outbound)
  await io.write(new Uint8Array([1, 2, 3]))
  const res = decodeResponse((await io.read())!)
  assert.ok(res.type === 'error')
  assert.equal(res.code, 'PROTOCOL')
  assert.equal(await io.read(), null, 'the server closed its side')
  await handled
  assert.deepEqual(server.penalties, [{ peerId: CLIENT, n: 1, reason: 'malformed sync request' }])
  assert.equal(server.ctx.counters.sync.protocolErrors, 1)
})

test('streams get the production deadlines unless a test sets others', async () => {
  const { outbound } = await memoryStreamPair()
  assert.deepEqual(new FramedStream(outbound).deadlines, { ioMs: STREAM_IO_TIMEOUT_MS, idleMs: SERVER_IDLE_TIMEOUT_MS })
  assert.deepEqual(DEFAULT_STREAM_DEADLINES, { ioMs: 10_000, idleMs: 30_000 })
  outbound.abort(new Error('done'))
})

test('a server that stalls hits the client read deadline: TIMEOUT, the stream aborted, no penalty', async () => {
  const client = peer()
  const ioMs = 200
  const dialer = memoryDialer(scriptedServer(() => undefined), CLIENT, { ioMs })
  const started = Date.now()
  const report = await runSyncSession(client.ctx, SERVER, dialer.open)
  const elapsed = Date.now() - started
  assert.equal(report.ok, false)
  assert.equal(report.error?.code, 'TIMEOUT')
  assert.ok(elapsed >= ioMs - 5 && elapsed < ioMs + 2_000, `gave up after ${elapsed} ms`)
  assert.equal(client.ctx.counters.sync.timeouts, 1)
  assert.deepEqual(client.penalties, [], 'a slow peer is not a malicious one')
  assert.equal(dialer.streams[0]!.outbound.status, 'aborted')
  await Promise.all(dialer.handled) // the stalled server's read ended with the abort
})

test('a client that opens a stream and goes quiet is dropped after the server idle deadline', async () => {
  const server = peer()
  const idleMs = 150
  const dialer = memoryDialer(createSyncHandler(server.ctx), CLIENT, { idleMs })
  const stream = await dialer.open(AbortSignal.timeout(1_000))
  const started = Date.now()
  await dialer.handled[0]
  const elapsed = Date.now() - started
  assert.ok(elapsed >= idleMs - 5 && elapsed < idleMs + 2_000, `dropped after ${elapsed} ms`)
  assert.equal(server.ctx.counters.sync.timeouts, 1)
  assert.equal(server.logs.find((l) => l.event === 'sync.serve.failed')?.fields.code, 'TIMEOUT')
  assert.deepEqual(server.penalties, [])
  await until('the client sees the abort', () => stream.status !== 'open')
  // and one that stops half-way through a request is dropped the same way
  const half = await dialer.open(AbortSignal.timeout(1_000))
  half.send(new Uint8Array([100, 1, 2, 3])) // a length prefix announcing 100 bytes, then 3 of them
  await dialer.handled[1]
  assert.equal(server.ctx.counters.sync.timeouts, 2)
  assert.equal(server.ctx.counters.sync.requestsServed, 0)
})

test('a record the client rejects counts against the server that sent it and is not stored', async () => {
  const server = peer()
  const client = peer()
  server.replica.trustEverything = true // a malicious server stores and serves anything
  const feed = feedKey('tampered')
  server.replica.appendRaw(feed, makeBadRecord(feed, 1, 'forged'))
  const dialer = memoryDialer(createSyncHandler(server.ctx), CLIENT)
  const report = await runSyncSession(client.ctx, SERVER, dialer.open)
  assert.equal(report.ok, true)
  assert.deepEqual([report.records.accepted, report.records.rejected], [0, 1])
  assert.deepEqual(client.penalties, [{ peerId: SERVER, n: 1, reason: 'rejected records in sync' }])
  assert.equal(client.replica.feeds.get(feed), undefined)
})

test('a feed whose records were rejected is not asked for again in a later round of the same session (one penalty)', async () => {
  const server = peer()
  const client = peer()
  server.replica.trustEverything = true
  for (let i = 0; i < 1500; i++) server.replica.append('long', `good ${i}`)
  const feed = feedKey('long')
  server.replica.appendRaw(feed, makeBadRecord(feed, 1501, 'forged'))
  const dialer = memoryDialer(createSyncHandler(server.ctx), CLIENT)
  const report = await runSyncSession(client.ctx, SERVER, dialer.open)
  assert.equal(report.ok, true)
  assert.deepEqual([report.records.accepted, report.records.rejected], [1500, 1])
  assert.deepEqual(client.penalties, [{ peerId: SERVER, n: 1, reason: 'rejected records in sync' }])
})

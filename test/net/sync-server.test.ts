import '../../src/shim.js'
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { encode } from '@ipld/dag-cbor'
import { SYNC_REQUEST_BURST, SYNC_REQUESTS_PER_SECOND } from '../../src/net/index.js'
import { FramedStream } from '../../src/net/stream-io.js'
import { decodeResponse, encodeRequest } from '../../src/sync/wire.js'
import { SYNC_LIMITS } from '../../src/constants.js'
import { internals, startNode, stopAll, type TestNode } from './helpers.js'

const nodes: TestNode[] = []
after(() => stopAll(nodes))

async function rawStream(from: TestNode, to: TestNode): Promise<FramedStream> {
  return new FramedStream(await internals(from).openSyncStream(to.peerId, AbortSignal.timeout(5_000)))
}

test('the server answers heads, ranges and extras in request order (pipelined)', { timeout: 20_000 }, async () => {
  const server = await startNode()
  const client = await startNode()
  nodes.push(server, client)
  for (let i = 0; i < 300; i++) server.replica.append('served', `r${i}`)
  await client.net.dial(server.addr)
  const io = await rawStream(client, server)
  const feed = (await server.replica.heads())[0]!.feed
  await io.write(encodeRequest({ type: 'heads' }))
  await io.write(encodeRequest({ type: 'range', feed, from: 1, count: 256 }))
  await io.write(encodeRequest({ type: 'range', feed, from: 257, count: 256 }))
  await io.write(encodeRequest({ type: 'extras', offset: 0 }))
  const heads = decodeResponse((await io.read())!)
  assert.equal(heads.type, 'heads')
  if (heads.type === 'heads') assert.deepEqual(heads.heads, await server.replica.heads())
  const first = decodeResponse((await io.read())!)
  const second = decodeResponse((await io.read())!)
  assert.ok(first.type === 'records' && first.records.length === 256 && first.from === 1)
  assert.ok(second.type === 'records' && second.records.length === 44 && second.from === 257)
  const extras = decodeResponse((await io.read())!)
  assert.deepEqual(extras, { type: 'extras', items: [] })
  await io.close()
})

test('a malformed request gets a PROTOCOL error frame and counts against the peer', { timeout: 20_000 }, async () => {
  const server = await startNode()
  const client = await startNode()
  nodes.push(server, client)
  await client.net.dial(server.addr)
  const io = await rawStream(client, server)
  await io.write(encode({ type: 'range', feed: new Uint8Array(32), from: 1, count: SYNC_LIMITS.maxRecordsPerRequest + 1 }))
  const res = decodeResponse((await io.read())!)
  assert.equal(res.type, 'error')
  if (res.type === 'error') assert.equal(res.code, 'PROTOCOL')
  assert.equal(server.net.metrics().hygiene.invalidByPeer[client.peerId], 1)
  assert.equal(server.net.metrics().sync.protocolErrors, 1)
})

test('an oversized frame is refused before it is buffered', { timeout: 20_000 }, async () => {
  const server = await startNode()
  const client = await startNode()
  nodes.push(server, client)
  await client.net.dial(server.addr)
  const io = await rawStream(client, server)
  await io.write(new Uint8Array(SYNC_LIMITS.maxMessageBytes + 1)).catch(() => undefined)
  // the server aborts the stream: the reader sees an error or the end, never a response
  assert.equal(await io.read(3_000).catch(() => null), null)
  assert.equal(server.net.metrics().sync.protocolErrors, 1)
  assert.equal(server.net.metrics().hygiene.invalidByPeer[client.peerId], 1)
})

test('incoming sync requests are held to the per-peer rate', { timeout: 20_000 }, async () => {
  const server = await startNode()
  const client = await startNode()
  nodes.push(server, client)
  await client.net.dial(server.addr)
  await new Promise((r) => setTimeout(r, 200)) // let the on-connect sessions finish
  const io = await rawStream(client, server)
  const heads = encodeRequest({ type: 'heads' })
  // two seconds over the burst: a server answering faster than the refill (any host, loaded or not) must delay
  const extra = SYNC_REQUESTS_PER_SECOND * 2
  const total = SYNC_REQUEST_BURST + extra
  const started = Date.now()
  // all requests pipelined at once: the server can answer no faster than its token bucket allows
  const reading = (async () => {
    for (let i = 0; i < total; i++) assert.equal(decodeResponse((await io.read())!).type, 'heads')
  })()
  for (let i = 0; i < total; i++) await io.write(heads)
  await reading
  const elapsed = Date.now() - started
  await io.close()
  const delayed = server.net.metrics().sync.requestsDelayed
  // burst + rate x elapsed covers every answer (minus timer slack), and the bucket is what held them back
  assert.ok(elapsed >= (extra / SYNC_REQUESTS_PER_SECOND) * 1000 - 150, `answered ${total} in ${elapsed} ms: faster than the rate`)
  assert.ok(delayed >= 1, `answered in ${elapsed} ms, delayed ${delayed}`)
  // the client's own sessions still work
  const report = await client.net.syncNow(server.peerId)
  assert.equal(report.failed, 0)
})

/**
 * Bounded decodes through the HTTP API: media requests wait for a decode slot, past the queue bound they are
 * refused with 503 BUSY and a Retry-After, and refusals that need no decoding (too many pixels) stay a 4xx.
 */
import { test, after } from 'node:test'
import { request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import assert from 'node:assert/strict'
import type { FastifyInstance, InjectOptions } from 'fastify'
import { buildApp } from '../../src/api/server.js'
import { DecodeGate } from '../../src/hash/decode-gate.js'
import { initDataDir } from '../../src/node/identity.js'
import { HashmeshNode } from '../../src/node/node.js'
import type { ConfigOverrides } from '../../src/config.js'
import { encodePng, pixelBombPng } from '../hash/images.js'
import { errorCode, expectedPdq, pdqFixture, TEST_LIMITS } from '../helpers/api.js'
import { tempDir } from '../helpers/tmp.js'

const JPEG = pdqFixture('wee.jpg')
const MEDIA_ROUTES = ['/v1/hash', '/v1/match', '/v1/contributions']
const cleanups: Array<() => Promise<void>> = []
after(async () => {
  for (const cleanup of cleanups) await cleanup()
})

type Call = ((request: InjectOptions) => ReturnType<FastifyInstance['inject']>) & { app: FastifyInstance; token: string }

async function openApp(options: { gate?: DecodeGate; overrides?: ConfigOverrides } = {}): Promise<Call> {
  const dir = tempDir('hashmesh-api-busy-')
  const identity = await initDataDir(dir.path, { name: 'busy-member' })
  const node = await HashmeshNode.open(dir.path, { env: {}, overrides: options.overrides })
  await node.enableMatching()
  const app = await buildApp(node, { token: identity.apiToken, ...TEST_LIMITS, decodeGate: options.gate })
  await app.ready()
  cleanups.push(async () => {
    await app.close()
    await node.close()
    dir.cleanup()
  })
  const call = (request: InjectOptions) => app.inject({ ...request, headers: { authorization: `Bearer ${identity.apiToken}`, ...(request.headers ?? {}) } })
  return Object.assign(call, { app, token: identity.apiToken })
}

const image = (url: string, payload: Buffer): InjectOptions => ({ method: 'POST', url, headers: { 'content-type': 'image/jpeg' }, payload })

/** Holds the gate's only slot until release() is called. */
function occupy(gate: DecodeGate): { release(): void; done: Promise<unknown> } {
  let release!: () => void
  const done = gate.run(() => new Promise<void>((resolve) => (release = resolve)))
  return { release: () => release(), done }
}

async function until(what: string, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

test('a full queue answers 503 BUSY with Retry-After on every media route; the queued request is answered once a slot frees', async () => {
  const gate = new DecodeGate({ maxActive: 1, maxQueued: 1 })
  const call = await openApp({ gate })
  const busy = occupy(gate)
  const queued = call(image('/v1/hash', JPEG))
  await until('the request to queue', () => gate.queued === 1)
  for (const url of MEDIA_ROUTES) {
    const res = await call(image(url, JPEG))
    assert.equal(res.statusCode, 503, `${url}: ${res.body}`)
    assert.equal(errorCode(res), 'BUSY')
    assert.match((res.json() as { error: { message: string } }).error.message, /retry in \d+ s/)
    const retryAfter = Number(res.headers['retry-after'])
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After ${res.headers['retry-after']}`)
  }
  // Hash queries by value never decode, so they are not held up by a busy decoder.
  const byValue = await call({ method: 'POST', url: '/v1/match', payload: { signals: [{ type: 'md5', value: 'a'.repeat(32) }] } })
  assert.equal(byValue.statusCode, 200, byValue.body)
  busy.release()
  await busy.done
  const res = await queued
  assert.equal(res.statusCode, 200, res.body)
  assert.equal((res.json() as { pdq: { hash: string } }).pdq.hash, expectedPdq('wee.jpg').hash)
  assert.equal(gate.active, 0)
})

test('a too-large image gets its 413 MEDIA_TOO_LARGE at once, even while the decoder is busy and its queue full', async () => {
  const gate = new DecodeGate({ maxActive: 1, maxQueued: 0 })
  const call = await openApp({ gate, overrides: { hash: { maxImagePixels: 1_000_000 } } })
  const busy = occupy(gate)
  for (const url of MEDIA_ROUTES) {
    for (const bomb of [pixelBombPng(50000, 50000), pixelBombPng(1001, 1000)]) {
      const res = await call({ method: 'POST', url, headers: { 'content-type': 'image/png' }, payload: bomb })
      assert.equal(res.statusCode, 413, `${url}: ${res.body}`)
      assert.equal(errorCode(res), 'MEDIA_TOO_LARGE')
      assert.equal(res.headers['retry-after'], undefined)
    }
    const garbage = await call(image(url, Buffer.from('not a picture')))
    assert.equal(garbage.statusCode, 415)
  }
  busy.release()
  await busy.done
})

test('a queued decode that fails releases its slot: its caller gets the 4xx, the next request is served', async () => {
  const gate = new DecodeGate({ maxActive: 1, maxQueued: 2 })
  const call = await openApp({ gate })
  const busy = occupy(gate)
  // A valid header (so it passes the checks before the queue) over one row of image data of a hundred.
  const truncated = pixelBombPng(100, 100)
  const failing = call({ method: 'POST', url: '/v1/hash', headers: { 'content-type': 'image/png' }, payload: truncated })
  await until('the corrupt image to queue', () => gate.queued === 1)
  const next = call(image('/v1/hash', JPEG))
  await until('the second request to queue', () => gate.queued === 2)
  busy.release()
  const [bad, good] = await Promise.all([failing, next])
  assert.equal(bad.statusCode, 422, bad.body)
  assert.equal(errorCode(bad), 'MEDIA_CORRUPT')
  assert.equal(good.statusCode, 200, good.body)
  assert.equal(gate.active, 0)
  assert.equal(gate.queued, 0)
})

test('the default gate comes from config: hash.maxConcurrentDecodes 1 and hash.maxQueuedDecodes 0 turn concurrent decodes away', async () => {
  const call = await openApp({ overrides: { hash: { maxConcurrentDecodes: 1, maxQueuedDecodes: 0 } } })
  // 9 M pixels of flat colour: small on the wire, and one decode outlasts the others' header checks.
  const big = encodePng(3000, 3000, 3, 8, (_x, _y, c) => 60 * c)
  const results = await Promise.all(Array.from({ length: 4 }, () => call({ method: 'POST', url: '/v1/hash', headers: { 'content-type': 'image/png' }, payload: big })))
  const statuses = results.map((r) => r.statusCode).sort()
  assert.ok(statuses.includes(200), `statuses ${statuses}`)
  assert.ok(statuses.includes(503), `statuses ${statuses}`)
  assert.deepEqual([...new Set(statuses)], [200, 503])
  // Once idle, a decode is served again.
  const res = await call({ method: 'POST', url: '/v1/hash', headers: { 'content-type': 'image/jpeg' }, payload: JPEG })
  assert.equal(res.statusCode, 200)
})

test('a queued request whose client disconnects leaves the queue (over a real socket)', async () => {
  const gate = new DecodeGate({ maxActive: 1, maxQueued: 4 })
  const call = await openApp({ gate })
  await call.app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = call.app.server.address() as AddressInfo
  const busy = occupy(gate)
  const request = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/v1/hash', headers: { authorization: `Bearer ${call.token}`, 'content-type': 'image/jpeg' } })
  request.on('error', () => undefined) // the socket is destroyed on purpose
  request.end(JPEG)
  await until('the request to queue', () => gate.queued === 1)
  request.destroy()
  await until('the request to leave the queue', () => gate.queued === 0)
  busy.release()
  await busy.done
  assert.equal(gate.active, 0)
})

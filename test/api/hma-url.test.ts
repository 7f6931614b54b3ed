/**
 * HMA's `?url=` forms (GET /h/hash, GET /m/lookup, POST /c/bank/<name>/content) against a local HTTP server:
 * the node reaches it only because the test trusts 127.0.0.1 (the test-only urlFetch seam) and names it
 * through a resolver of its own; a node without that trust refuses it, directly and after a redirect.
 */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/api/server.js'
import { initDataDir } from '../../src/node/identity.js'
import { HashmeshNode } from '../../src/node/node.js'
import type { LookupFunction } from '../../src/node/media-fetch.js'
import { expectedPdq, pdqFixture, TEST_LIMITS } from '../helpers/api.js'
import { tempDir } from '../helpers/tmp.js'

const IMAGE = pdqFixture('small.jpg')
const PDQ = expectedPdq('small.jpg').hash
let server: Server
let port: number
let hits = 0

const lookup: LookupFunction = (hostname, options, callback) => {
  const address = { 'media.test': '127.0.0.1', 'lan.media.test': '192.168.0.10' }[hostname]
  if (!address) return callback(Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), '')
  if (options.all) callback(null, [{ address, family: 4 }])
  else callback(null, address, 4)
}

interface Node { app: FastifyInstance; token: string; close(): Promise<void> }

async function openNode(trust: boolean): Promise<Node> {
  const dir = tempDir('hashmesh-hma-url-')
  const identity = await initDataDir(dir.path, { name: 'url-member' })
  const node = await HashmeshNode.open(dir.path, { env: {}, overrides: { hma: { urlHosts: ['media.test', '*.media.test', '127.0.0.1'], urlMaxBytes: 100_000, urlTimeoutMs: 2000 } } })
  await node.enableMatching()
  const app = await buildApp(node, { token: identity.apiToken, ...TEST_LIMITS, urlFetch: { lookup, ...(trust ? { trustAddresses: ['127.0.0.1'] } : {}) } })
  await app.ready()
  return { app, token: identity.apiToken, close: async () => { await app.close(); await node.close(); dir.cleanup() } }
}

let trusted: Node
let plain: Node
const call = (n: Node, method: 'GET' | 'POST', url: string, payload?: object) =>
  n.app.inject({ method, url, headers: { authorization: `Bearer ${n.token}` }, ...(payload ? { payload } : {}) })
const q = encodeURIComponent

before(async () => {
  server = createServer((req, res) => {
    hits++
    const url = new URL(req.url!, 'http://x')
    if (url.pathname === '/a.jpg') return res.writeHead(200, { 'content-type': 'image/jpeg' }).end(IMAGE)
    if (url.pathname === '/go') return res.writeHead(302, { location: url.searchParams.get('to')! }).end()
    if (url.pathname === '/huge.jpg') return res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': '5000000' }).end()
    res.writeHead(404).end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = (server.address() as AddressInfo).port
  trusted = await openNode(true)
  plain = await openNode(false)
})
after(async () => {
  await trusted.close()
  await plain.close()
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

test('GET /h/hash?url= hashes the fetched image (content type from the server, or content_type)', async () => {
  const res = await call(trusted, 'GET', `/h/hash?url=${q(`http://media.test:${port}/a.jpg`)}`)
  assert.equal(res.statusCode, 200, res.body)
  assert.equal(res.json().pdq, PDQ)
  const asVideo = await call(trusted, 'GET', `/h/hash?url=${q(`http://media.test:${port}/a.jpg`)}&content_type=video`)
  assert.equal(asVideo.statusCode, 400, 'an image declared as video is refused')
  assert.equal((await call(trusted, 'GET', `/h/hash?url=${q(`http://media.test:${port}/a.jpg`)}&content_type=pdf`)).statusCode, 400)
})

test('POST /c/bank/<name>/content?url= adds the fetched media; GET /m/lookup?url= finds it', async () => {
  assert.equal((await call(trusted, 'POST', '/c/banks', { name: 'URL_BANK' })).statusCode, 201)
  const added = await call(trusted, 'POST', `/c/bank/URL_BANK/content?url=${q(`http://media.test:${port}/a.jpg`)}`)
  assert.equal(added.statusCode, 200, added.body)
  assert.equal(added.json().signals.pdq, PDQ)
  const content = await call(trusted, 'GET', `/c/bank/URL_BANK/content/${added.json().id}`)
  assert.equal(content.json().original_media_uri, `http://media.test:${port}/a.jpg`)
  const found = await call(trusted, 'GET', `/m/lookup?url=${q(`http://media.test:${port}/a.jpg`)}`)
  assert.equal(found.statusCode, 200, found.body)
  assert.deepEqual(found.json().pdq, ['URL_BANK'])
  assert.equal((await call(trusted, 'POST', `/c/bank/NO_SUCH_BANK/content?url=${q(`http://media.test:${port}/a.jpg`)}`)).statusCode, 404)
})

test('refusals: loopback without the test trust, after a redirect, a name resolving to a LAN address, other hosts; 413, 502', async () => {
  const before = hits
  const direct = await call(plain, 'GET', `/h/hash?url=${q(`http://127.0.0.1:${port}/a.jpg`)}`)
  assert.equal(direct.statusCode, 403, direct.body)
  assert.match(direct.json().message, /loopback/)
  const named = await call(plain, 'GET', `/m/lookup?url=${q(`http://media.test:${port}/a.jpg`)}`)
  assert.equal(named.statusCode, 403)
  assert.match(named.json().message, /resolves to 127\.0\.0\.1/)
  assert.equal(hits, before, 'the untrusting node never connected')
  const redirected = await call(trusted, 'GET', `/h/hash?url=${q(`http://media.test:${port}/go?to=${q(`http://lan.media.test:${port}/a.jpg`)}`)}`)
  assert.equal(redirected.statusCode, 403)
  assert.match(redirected.json().message, /192\.168\.0\.10/)
  const offList = await call(trusted, 'GET', `/h/hash?url=${q('https://example.org/a.jpg')}`)
  assert.equal(offList.statusCode, 403)
  assert.equal((await call(trusted, 'GET', `/h/hash?url=${q('gopher://media.test/a')}`)).statusCode, 403)
  assert.equal((await call(trusted, 'GET', `/h/hash?url=${q(`http://media.test:${port}/huge.jpg`)}`)).statusCode, 413)
  const missing = await call(trusted, 'GET', `/h/hash?url=${q(`http://media.test:${port}/gone.jpg`)}`)
  assert.equal(missing.statusCode, 502)
  assert.match(missing.json().message, /404/)
})

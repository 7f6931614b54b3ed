/**
 * node/media-fetch.ts: the allow-list, the address guard (by default, after a redirect, after DNS), the size
 * cap and the deadline, against local HTTP servers on 127.0.0.1. The servers are reached only where a test
 * trusts 127.0.0.1 explicitly (the test-only `trustAddresses`); host names resolve through a lookup of the
 * test's own, never real DNS.
 */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fetchMedia, hostAllowed, isBlockedAddress, type LookupFunction, type MediaFetchOptions } from '../../src/node/media-fetch.js'
import { isHashmeshError } from '../../src/errors.js'

const BODY = Buffer.alloc(5000, 7)
let server: Server
let port: number
const connections: string[] = []

before(async () => {
  server = createServer((req, res) => {
    connections.push(`${req.headers.host} ${req.url}`)
    const url = new URL(req.url!, 'http://x')
    if (url.pathname === '/media') return res.writeHead(200, { 'content-type': 'image/jpeg; q=1' }).end(BODY)
    if (url.pathname === '/redirect') return res.writeHead(302, { location: url.searchParams.get('to')! }).end()
    if (url.pathname === '/big') return res.writeHead(200, { 'content-length': String(10_000_000) }).end()
    if (url.pathname === '/chunked-big') {
      res.writeHead(200)
      const chunk = Buffer.alloc(64 * 1024)
      let sent = 0
      const pump = () => {
        while (sent < 40 && res.write(chunk)) sent++
        if (sent < 40) res.once('drain', pump)
        else res.end()
      }
      return pump()
    }
    if (url.pathname === '/slow') return setTimeout(() => res.writeHead(200).end('late'), 2000).unref()
    if (url.pathname === '/missing') return res.writeHead(404).end()
    res.writeHead(500).end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = (server.address() as AddressInfo).port
})
after(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

/** A resolver for the test's own names; anything else fails as an unknown host would. */
function fakeDns(table: Record<string, string[]>, calls: string[] = []): LookupFunction {
  return (hostname, options, callback) => {
    calls.push(hostname)
    const addresses = table[hostname]
    if (!addresses) return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), '')
    const list = addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }))
    if (options.all) callback(null, list)
    else callback(null, list[0]!.address, list[0]!.family)
  }
}

const base = (extra: Partial<MediaFetchOptions> = {}): MediaFetchOptions => ({ allowHosts: ['127.0.0.1', 'media.test'], maxBytes: 1_000_000, timeoutMs: 1000, ...extra })

async function refusedWith(promise: Promise<unknown>, code: string, pattern?: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isHashmeshError(err), `expected a HashmeshError, got ${String(err)}`)
    assert.equal(err.code, code, err.message)
    if (pattern) assert.match(err.message, pattern)
    return true
  })
}

test('address classes: loopback, private, link-local, mapped and reserved are blocked; public unicast is not', () => {
  for (const a of ['127.0.0.1', '127.8.9.10', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255',
    '::1', '::', 'fe80::1', 'fc00::1', 'fd12:3456::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '64:ff9b::a00:1', 'ff02::1', 'not-an-ip']) {
    assert.equal(isBlockedAddress(a), true, a)
  }
  for (const a of ['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700::1111', '2a00:1450:4001::1']) assert.equal(isBlockedAddress(a), false, a)
})

test('allow-list: exact names (any case, trailing dot) and *.suffix subdomains only', () => {
  assert.equal(hostAllowed('Media.Test', ['media.test']), true)
  assert.equal(hostAllowed('media.test.', ['media.test']), true)
  assert.equal(hostAllowed('evil-media.test', ['media.test']), false)
  assert.equal(hostAllowed('cdn.example.org', ['*.example.org']), true)
  assert.equal(hostAllowed('example.org', ['*.example.org']), false)
  assert.equal(hostAllowed('badexample.org', ['*.example.org']), false)
})

test('a trusted local server is fetched: bytes, content type, final url', async () => {
  const got = await fetchMedia(`http://127.0.0.1:${port}/media`, base({ trustAddresses: ['127.0.0.1'] }))
  assert.deepEqual(got.bytes, BODY)
  assert.equal(got.contentType, 'image/jpeg')
  assert.equal(got.url, `http://127.0.0.1:${port}/media`)
})

test('loopback is refused by default, even when its name is on the allow-list', async () => {
  const before = connections.length
  await refusedWith(fetchMedia(`http://127.0.0.1:${port}/media`, base()), 'URL_REFUSED', /loopback/)
  await refusedWith(fetchMedia(`http://[::1]:${port}/media`, base({ allowHosts: ['::1'] })), 'URL_REFUSED', /loopback/)
  // a name for loopback (the test's resolver, as /etc/hosts would answer): refused after resolution
  const lookup = fakeDns({ localhost: ['::1', '127.0.0.1'] })
  await refusedWith(fetchMedia(`http://localhost:${port}/media`, base({ allowHosts: ['localhost'], lookup })), 'URL_REFUSED', /resolves to ::1/)
  assert.equal(connections.length, before, 'no connection reached the server')
})

test('an empty allow-list refuses every URL; other hosts, schemes and credentials are refused', async () => {
  await refusedWith(fetchMedia('https://example.org/a.jpg', base({ allowHosts: [] })), 'URL_REFUSED', /urlHosts.*empty/)
  await refusedWith(fetchMedia('https://example.org/a.jpg', base()), 'URL_REFUSED', /not in hma.urlHosts/)
  await refusedWith(fetchMedia('file:///etc/passwd', base()), 'URL_REFUSED', /only http and https/)
  await refusedWith(fetchMedia('ftp://media.test/a.jpg', base()), 'URL_REFUSED', /only http and https/)
  await refusedWith(fetchMedia('http://user:pw@media.test/a.jpg', base()), 'URL_REFUSED', /credentials/)
  await refusedWith(fetchMedia('not a url', base()), 'BAD_REQUEST', /not a URL/)
})

test('a host name that resolves to a private address is refused before any connection (every address is checked)', async () => {
  const calls: string[] = []
  const lookup = fakeDns({ 'media.test': ['93.184.216.34', '10.0.0.7'], 'intranet.media.test': ['192.168.1.20'] }, calls)
  await refusedWith(fetchMedia('http://media.test/a.jpg', base({ lookup })), 'URL_REFUSED', /10\.0\.0\.7/)
  await refusedWith(fetchMedia('http://intranet.media.test/a.jpg', base({ lookup, allowHosts: ['*.media.test'] })), 'URL_REFUSED', /192\.168\.1\.20/)
  assert.deepEqual(calls, ['media.test', 'intranet.media.test'])
})

test('the connection goes to the address the guard checked (the name is never resolved again)', async () => {
  const calls: string[] = []
  const lookup = fakeDns({ 'media.test': ['127.0.0.1'] }, calls)
  const got = await fetchMedia(`http://media.test:${port}/media`, base({ lookup, trustAddresses: ['127.0.0.1'] }))
  assert.deepEqual(got.bytes, BODY)
  assert.deepEqual(calls, ['media.test'], 'one resolution, by the guarded lookup')
  assert.equal(connections.at(-1), `media.test:${port} /media`)
})

test('redirects: followed through the same checks; to loopback, a private name, another host or scheme: refused', async () => {
  const lookup = fakeDns({ 'media.test': ['127.0.0.1'], 'private.media.test': ['10.1.1.1'], localhost: ['::1'] })
  const trusted = base({ lookup, trustAddresses: ['127.0.0.1'], allowHosts: ['media.test', 'private.media.test', '127.0.0.2', 'localhost'] })
  const via = (to: string) => `http://media.test:${port}/redirect?to=${encodeURIComponent(to)}`
  const followed = await fetchMedia(via(`http://media.test:${port}/media`), trusted)
  assert.deepEqual(followed.bytes, BODY)
  assert.equal(followed.url, `http://media.test:${port}/media`)
  const before = connections.length
  await refusedWith(fetchMedia(via(`http://127.0.0.2:${port}/media`), trusted), 'URL_REFUSED', /127\.0\.0\.2 is a loopback/)
  await refusedWith(fetchMedia(via(`http://localhost:${port}/media`), trusted), 'URL_REFUSED', /resolves to/)
  await refusedWith(fetchMedia(via(`http://private.media.test:${port}/media`), trusted), 'URL_REFUSED', /10\.1\.1\.1/)
  await refusedWith(fetchMedia(via('http://elsewhere.example/media'), trusted), 'URL_REFUSED', /not in hma.urlHosts/)
  await refusedWith(fetchMedia(via('file:///etc/passwd'), trusted), 'URL_REFUSED', /only http/)
  assert.equal(connections.length - before, 5, 'only the five redirecting requests reached a server')
  const loop = `http://media.test:${port}/redirect?to=${encodeURIComponent(via(via(via(`http://media.test:${port}/media`))))}`
  await refusedWith(fetchMedia(loop, trusted), 'URL_FETCH_FAILED', /more than 3 redirects/)
})

test('size cap: a declared or streamed body over maxBytes is 413; a slow server times out; a 404 is a fetch failure', async () => {
  const trusted = base({ trustAddresses: ['127.0.0.1'], maxBytes: 1_000_000 })
  await refusedWith(fetchMedia(`http://127.0.0.1:${port}/big`, trusted), 'PAYLOAD_TOO_LARGE', /10000000 bytes/)
  await refusedWith(fetchMedia(`http://127.0.0.1:${port}/chunked-big`, trusted), 'PAYLOAD_TOO_LARGE')
  await refusedWith(fetchMedia(`http://127.0.0.1:${port}/media`, { ...trusted, maxBytes: 4999 }), 'PAYLOAD_TOO_LARGE')
  const started = Date.now()
  await refusedWith(fetchMedia(`http://127.0.0.1:${port}/slow`, { ...trusted, timeoutMs: 300 }), 'TIMEOUT')
  assert.ok(Date.now() - started < 1500, 'the deadline ended the fetch')
  await refusedWith(fetchMedia(`http://127.0.0.1:${port}/missing`, trusted), 'URL_FETCH_FAILED', /404/)
})

/** The API's edges through app.inject (no port): bearer token on every route but /v1/health and /docs, status, hash, metrics, docs. */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { buildApp } from '../../src/api/server.js'
import { fail } from '../../src/errors.js'
import { apiFixture, errorCode, expectedPdq, openApiHarness, pdqFixture, TEST_LIMITS, type ApiHarness } from '../helpers/api.js'

const ID = 'a'.repeat(64)
/** Every data route (all but /v1/health and the OpenAPI document), with a body that would be accepted if the token were right. */
const PROTECTED: Array<{ method: 'GET' | 'POST'; url: string; payload?: object }> = [
  { method: 'GET', url: '/v1/status' },
  { method: 'GET', url: '/v1/peers' },
  { method: 'GET', url: '/metrics' },
  { method: 'POST', url: '/v1/hash' },
  { method: 'POST', url: '/v1/match', payload: { signals: [{ type: 'md5', value: 'b'.repeat(32) }] } },
  { method: 'POST', url: '/v1/contributions', payload: { signals: [{ type: 'md5', value: 'b'.repeat(32) }] } },
  { method: 'POST', url: `/v1/contributions/${ID}/revoke`, payload: {} },
  { method: 'POST', url: '/v1/opinions', payload: { signal: { type: 'md5', value: 'b'.repeat(32) }, opinion: 'seen' } },
  { method: 'GET', url: `/v1/records/${ID}` },
  { method: 'POST', url: '/v1/records', payload: { records: [] } },
  { method: 'GET', url: '/v1/feeds' },
  { method: 'GET', url: `/v1/feeds/${ID}` },
  { method: 'GET', url: '/v1/roster' },
  { method: 'POST', url: '/v1/roster', payload: { document: {}, signatures: [] } },
  { method: 'GET', url: '/v1/equivocations' },
  { method: 'GET', url: '/v1/no-such-route' },
  { method: 'GET', url: '/docsx' },
]

let h: ApiHarness
before(async () => {
  h = await openApiHarness('routes-member')
})
after(async () => {
  await h.close()
})

test('GET /v1/health needs no token', async () => {
  const res = await h.app.inject({ method: 'GET', url: '/v1/health' })
  assert.equal(res.statusCode, 200)
  assert.deepEqual(res.json(), { ok: true })
  assert.equal((await h.app.inject({ method: 'GET', url: '/v1/health?probe=1' })).statusCode, 200)
  assert.equal((await h.app.inject({ method: 'HEAD', url: '/v1/health' })).statusCode, 200)
  assert.equal((await h.app.inject({ method: 'POST', url: '/v1/health' })).statusCode, 401, 'only GET/HEAD /v1/health is open')
})

test('every other route answers 401 UNAUTHORIZED without a token, with a wrong one, or a non-Bearer scheme', async () => {
  const wrong = h.token.slice(0, -1) + (h.token.endsWith('a') ? 'b' : 'a')
  const variants: Array<Record<string, string>> = [{}, { authorization: `Bearer ${wrong}` }, { authorization: `Bearer ${h.token}x` }, { authorization: h.token }, { authorization: `Basic ${h.token}` }]
  for (const route of PROTECTED) {
    for (const headers of variants) {
      const res = await h.app.inject({ method: route.method, url: route.url, headers, ...(route.payload ? { payload: route.payload } : {}) })
      assert.equal(res.statusCode, 401, `${route.method} ${route.url} with ${JSON.stringify(headers)}`)
      assert.equal(errorCode(res), 'UNAUTHORIZED')
    }
  }
})

test('with the token, none of those routes answers 401 (and a right token on /v1/health is fine too)', async () => {
  for (const route of [...PROTECTED, { method: 'GET' as const, url: '/v1/health' }]) {
    const res = await h.call({ method: route.method, url: route.url, ...('payload' in route && route.payload ? { payload: route.payload } : {}) })
    assert.notEqual(res.statusCode, 401, `${route.method} ${route.url}: ${res.body}`)
    assert.ok(res.statusCode < 500, `${route.method} ${route.url}: ${res.statusCode}`)
  }
})

test('a token given as a function is read on every request; an empty one admits nobody; an unreadable one is a 500', async () => {
  let current = 'first-token'
  const app = await buildApp(h.node, { token: () => (current === 'unreadable' ? fail('KEY_INVALID', '/secret/path/api.token is readable by others') : current), ...TEST_LIMITS })
  try {
    const status = (token: string) => app.inject({ method: 'GET', url: '/v1/status', headers: { authorization: `Bearer ${token}` } })
    assert.equal((await status('first-token')).statusCode, 200)
    current = 'second-token'
    assert.equal((await status('first-token')).statusCode, 401)
    assert.equal((await status('second-token')).statusCode, 200)
    current = ''
    const empty = await status('')
    assert.equal(empty.statusCode, 401)
    assert.equal(errorCode(empty), 'UNAUTHORIZED')
    current = 'unreadable'
    const broken = await status('second-token')
    assert.equal(broken.statusCode, 500)
    assert.deepEqual(broken.json(), { error: { code: 'INTERNAL', message: 'internal error' } })
    assert.equal((await app.inject({ method: 'GET', url: '/v1/health' })).statusCode, 200)
  } finally {
    await app.close()
  }
})

test('GET /v1/status describes the member, the replica and the index', async () => {
  const res = await h.call({ method: 'GET', url: '/v1/status' })
  assert.equal(res.statusCode, 200)
  const status = res.json()
  assert.deepEqual(status.member, { name: 'routes-member', key: h.node.memberKey })
  assert.match(status.peerId, /^12D3Koo/)
  for (const field of ['records', 'signals', 'feeds', 'pending', 'equivocations']) assert.equal(typeof status[field], 'number', field)
  assert.equal(typeof status.recordsByKind, 'object')
  assert.equal(status.index.ready, true)
  assert.equal(typeof status.index.pdqHashes, 'number')
  assert.equal(typeof status.index.memoryBytes, 'number')
  assert.equal(status.roster, null)
  assert.equal(status.network, null)
})

test('GET /v1/peers and /v1/roster without a network or roster', async () => {
  assert.deepEqual((await h.call({ method: 'GET', url: '/v1/peers' })).json(), { peers: [] })
  const roster = await h.call({ method: 'GET', url: '/v1/roster' })
  assert.equal(roster.statusCode, 200)
  assert.deepEqual(roster.json().versions, [])
})

test('POST /v1/hash gives the reference PDQ hash and quality, MD5, SHA-256 and size of a JPEG', async () => {
  for (const name of ['square-128x128.jpg', 'wee.jpg']) {
    const bytes = pdqFixture(name)
    const res = await h.call({ method: 'POST', url: '/v1/hash', headers: { 'content-type': 'image/jpeg' }, payload: bytes })
    assert.equal(res.statusCode, 200, res.body)
    const fp = res.json()
    const expected = expectedPdq(name)
    assert.equal(fp.pdq.hash, expected.hash, name)
    assert.equal(fp.pdq.quality, expected.quality, name)
    assert.equal(fp.pdq.lowQuality, false)
    assert.equal(fp.pdq.dihedral, undefined)
    assert.equal(fp.kind, 'image')
    assert.equal(fp.format, 'jpeg')
    assert.match(fp.md5, /^[0-9a-f]{32}$/)
    assert.match(fp.sha256, /^[0-9a-f]{64}$/)
    assert.ok(fp.width > 0 && fp.height > 0)
  }
})

test('POST /v1/hash takes raw bytes under any image/*, video/* or octet-stream type, parameters and case aside', async () => {
  for (const type of ['application/octet-stream; x=y', 'IMAGE/JPEG', 'image/jpeg; charset=binary', 'image/png', 'video/mp4 ; a=b']) {
    const res = await h.call({ method: 'POST', url: '/v1/hash', headers: { 'content-type': type }, payload: pdqFixture('wee.jpg') })
    assert.equal(res.statusCode, 200, `${type}: ${res.body}`)
    assert.equal(res.json().pdq.hash, expectedPdq('wee.jpg').hash)
  }
})

test('POST /v1/hash accepts application/octet-stream and marks a featureless image lowQuality', async () => {
  const res = await h.call({ method: 'POST', url: '/v1/hash', headers: { 'content-type': 'application/octet-stream' }, payload: pdqFixture('small.jpg') })
  assert.equal(res.statusCode, 200, res.body)
  assert.equal(res.json().pdq.hash, expectedPdq('small.jpg').hash)
  assert.equal(res.json().pdq.lowQuality, true)
})

test('POST /v1/hash?dihedral=true adds the eight rotation/flip hashes; orig is the plain hash', async () => {
  const res = await h.call({ method: 'POST', url: '/v1/hash?dihedral=true', headers: { 'content-type': 'image/jpeg' }, payload: pdqFixture('square-128x128.jpg') })
  assert.equal(res.statusCode, 200, res.body)
  const { dihedral, hash } = res.json().pdq
  assert.deepEqual(Object.keys(dihedral).sort(), ['flipm', 'flipp', 'flipx', 'flipy', 'orig', 'rot180', 'rot270', 'rot90'])
  assert.equal(dihedral.orig, hash)
  // The committed rotated copy (test/fixtures/api) hashes, upright, close to one of the variants of the original.
  const rotated = (await h.call({ method: 'POST', url: '/v1/hash', headers: { 'content-type': 'image/jpeg' }, payload: apiFixture('square-rotated-90.jpg') })).json()
  const distances = Object.values(dihedral as Record<string, string>).map((v) => hamming(v, rotated.pdq.hash))
  assert.ok(Math.min(...distances) <= 31, `closest variant is ${Math.min(...distances)} bits away`)
  assert.ok(hamming(hash, rotated.pdq.hash) > 31)
})

test('GET /metrics is Prometheus text with request counters and the index size', async () => {
  await h.call({ method: 'GET', url: '/v1/status' })
  const res = await h.call({ method: 'GET', url: '/metrics' })
  assert.equal(res.statusCode, 200)
  assert.match(String(res.headers['content-type']), /^text\/plain/)
  assert.match(res.body, /^# TYPE hashmesh_http_requests_total counter$/m)
  assert.match(res.body, /^hashmesh_http_requests_total\{route="\/v1\/status",method="GET",status="200"\} [1-9]/m)
  assert.match(res.body, /^hashmesh_index_pdq_hashes \d+$/m)
  assert.match(res.body, /^hashmesh_http_request_duration_seconds_bucket\{/m)
})

test('GET /docs serves the UI and /docs/json an OpenAPI document listing the v1 routes', async () => {
  const ui = await h.call({ method: 'GET', url: '/docs' })
  assert.ok(ui.statusCode === 200 || ui.statusCode === 302, String(ui.statusCode))
  const res = await h.call({ method: 'GET', url: '/docs/json' })
  assert.equal(res.statusCode, 200)
  const doc = res.json()
  assert.match(doc.openapi, /^3\./)
  assert.equal(doc.info.title, 'hashmesh node API')
  assert.deepEqual(doc.components.securitySchemes.bearer, { type: 'http', scheme: 'bearer' })
  for (const path of ['/v1/match', '/v1/contributions', '/v1/contributions/{id}/revoke', '/v1/opinions', '/v1/records/{id}', '/v1/feeds/{feed}']) {
    assert.ok(doc.paths[path], `OpenAPI lists ${path}`)
  }
})

test('the OpenAPI document and its UI open without a token (a browser can read them); every route has a summary, responses with schemas and examples', async () => {
  const ui = await h.app.inject({ method: 'GET', url: '/docs' })
  assert.ok(ui.statusCode === 200 || ui.statusCode === 302, String(ui.statusCode))
  const page = await h.app.inject({ method: 'GET', url: ui.statusCode === 302 ? String(ui.headers.location).replace(/^\.\//, '/docs/') : '/docs' })
  assert.equal(page.statusCode, 200, String(ui.headers.location))
  assert.match(page.body, /swagger/i)
  const res = await h.app.inject({ method: 'GET', url: '/docs/json' })
  assert.equal(res.statusCode, 200)
  const doc = res.json()
  const operations = Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ name: `${method.toUpperCase()} ${path}`, op })))
  assert.ok(operations.length >= 16, `${operations.length} operations`)
  for (const { name, op } of operations) {
    assert.ok(op.summary, `${name} has a summary`)
    const statuses = Object.keys(op.responses)
    assert.ok(statuses.some((s) => s.startsWith('2')), `${name} documents a success status`)
    for (const status of statuses) {
      const media = Object.values(op.responses[status].content ?? {})[0] as { schema?: object; example?: unknown } | undefined
      assert.ok(media?.schema, `${name} ${status} has a schema`)
      assert.ok(media.example !== undefined, `${name} ${status} has an example`)
      assert.notEqual(op.responses[status].description, 'Default Response', `${name} ${status} is described`)
    }
    if (name !== 'GET /v1/health') assert.ok(statuses.includes('401'), `${name} documents 401`)
  }
  const paths = doc.paths as Record<string, Record<string, any>>
  assert.deepEqual(Object.keys(paths['/v1/contributions']!.post.responses).filter((s) => s.startsWith('2')), ['201'])
  for (const path of ['/v1/match', '/v1/contributions', '/v1/hash']) {
    const types = Object.keys(paths[path]!.post.requestBody.content)
    assert.ok(types.includes('application/octet-stream') && types.includes('image/*'), `${path} accepts raw bytes: ${types}`)
    if (path !== '/v1/hash') assert.ok(types.includes('application/json'), `${path} accepts JSON`)
  }
  assert.deepEqual(paths['/v1/health']!.get.security, [])
  // the data routes still need the token
  assert.equal((await h.app.inject({ method: 'GET', url: '/v1/status' })).statusCode, 401)
})

test('an unknown route is a JSON 404 NOT_FOUND', async () => {
  const res = await h.call({ method: 'GET', url: '/v1/nothing-here?x=1' })
  assert.equal(res.statusCode, 404)
  assert.equal(errorCode(res), 'NOT_FOUND')
  assert.match(res.json().error.message, /GET \/v1\/nothing-here$/)
  assert.equal(errorCode(await h.call({ method: 'DELETE', url: '/v1/status' })), 'NOT_FOUND')
})

function hamming(a: string, b: string): number {
  let d = 0
  const x = Buffer.from(a, 'hex')
  const y = Buffer.from(b, 'hex')
  for (let i = 0; i < x.length; i++) for (let v = x[i]! ^ y[i]!; v; v &= v - 1) d++
  return d
}

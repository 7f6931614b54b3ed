/** Bad input to every route gets a precise 4xx with an error code, never a 500. */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import type { InjectOptions } from 'fastify'
import { pixelBombPng } from '../hash/images.js'
import { errorCode, openApiHarness, pdqFixture, TEST_LIMITS, type ApiHarness } from '../helpers/api.js'

interface BadInput { name: string; request: InjectOptions; status?: number; code?: string }

const JPEG = pdqFixture('wee.jpg')
const ID = 'a'.repeat(64)
const raw = (url: string, contentType: string, payload: Buffer | string): InjectOptions => ({ method: 'POST', url, headers: { 'content-type': contentType }, payload })
const json = (url: string, payload: string): InjectOptions => raw(url, 'application/json', payload)
const MEDIA_ROUTES = ['/v1/hash', '/v1/match', '/v1/contributions']
const JSON_ROUTES = ['/v1/match', '/v1/contributions', `/v1/contributions/${ID}/revoke`, '/v1/opinions', '/v1/records', '/v1/roster']

/** Each with the status and code a client can rely on. */
const EXPECTED: BadInput[] = [
  ...JSON_ROUTES.flatMap((url) => [
    { name: `invalid JSON to ${url}`, request: json(url, '{"signals": [}'), status: 400, code: 'BAD_REQUEST' },
    { name: `empty JSON body to ${url}`, request: json(url, ''), status: 400, code: 'BAD_REQUEST' },
    { name: `JSON over the JSON limit to ${url}`, request: json(url, JSON.stringify({ pad: 'x'.repeat(TEST_LIMITS.jsonBodyLimitBytes) })), status: 413, code: 'PAYLOAD_TOO_LARGE' },
    { name: `text/plain to ${url}`, request: raw(url, 'text/plain', 'hello'), status: 415, code: 'MEDIA_UNSUPPORTED' },
    { name: `application/xml to ${url}`, request: raw(url, 'application/xml', '<signals/>'), status: 415, code: 'MEDIA_UNSUPPORTED' },
    { name: `a JSON array to ${url}`, request: json(url, '[1,2,3]'), status: 400, code: 'BAD_REQUEST' },
  ]),
  ...MEDIA_ROUTES.flatMap((url) => [
    { name: `raw body over the body limit to ${url}`, request: raw(url, 'image/jpeg', Buffer.alloc(TEST_LIMITS.bodyLimitBytes + 1, 0xff)), status: 413, code: 'PAYLOAD_TOO_LARGE' },
    { name: `random bytes as image/jpeg to ${url}`, request: raw(url, 'image/jpeg', Buffer.from('this is not a picture, honest')), status: 415, code: 'MEDIA_UNSUPPORTED' },
    { name: `random bytes as video/mp4 to ${url}`, request: raw(url, 'video/mp4', Buffer.alloc(64, 7)), status: 415, code: 'MEDIA_UNSUPPORTED' },
    { name: `truncated JPEG to ${url}`, request: raw(url, 'image/jpeg', JPEG.subarray(0, Math.floor(JPEG.length / 3))), status: 422, code: 'MEDIA_CORRUPT' },
    { name: `a JPEG signature alone to ${url}`, request: raw(url, 'image/jpeg', Buffer.from([0xff, 0xd8, 0xff])), status: 422, code: 'MEDIA_CORRUPT' },
    { name: `empty raw body to ${url}`, request: raw(url, 'application/octet-stream', Buffer.alloc(0)), status: 422, code: 'MEDIA_EMPTY' },
    { name: `PNG claiming 50000x50000 to ${url}`, request: raw(url, 'image/png', pixelBombPng(50000, 50000)), status: 413, code: 'MEDIA_TOO_LARGE' },
    { name: `multipart form to ${url}`, request: raw(url, 'multipart/form-data; boundary=x', '--x\r\n\r\n--x--'), status: 415, code: 'MEDIA_UNSUPPORTED' },
    { name: `labels over 2048 characters to ${url}`, request: raw(`${url}?labels=${'a'.repeat(2049)}`, 'image/jpeg', JPEG), status: 400, code: 'BAD_REQUEST' },
    { name: `?dihedral=maybe to ${url}`, request: raw(`${url}?dihedral=maybe`, 'image/jpeg', JPEG), status: 400, code: 'BAD_REQUEST' },
  ]),
  { name: 'JSON to /v1/hash (raw bytes only)', request: json('/v1/hash', '{"signals":[]}'), status: 415, code: 'MEDIA_UNSUPPORTED' },
  { name: 'no body to /v1/match', request: { method: 'POST', url: '/v1/match' }, status: 400, code: 'BAD_REQUEST' },
  { name: 'a JSON string to /v1/match', request: json('/v1/match', '"pdq"'), status: 400, code: 'BAD_REQUEST' },
  { name: '?threshold=-1', request: json('/v1/match?threshold=-1', '{"signals":[{"type":"md5","value":"' + 'a'.repeat(32) + '"}]}'), status: 400, code: 'BAD_REQUEST' },
  { name: '1,001 match signals', request: json('/v1/match', JSON.stringify({ signals: Array.from({ length: 1001 }, () => ({ type: 'md5', value: 'a'.repeat(32) })) })), status: 400, code: 'BAD_REQUEST' },
  { name: 'a 200-character signal value', request: json('/v1/match', JSON.stringify({ signals: [{ type: 'pdq', value: 'a'.repeat(200) }] })), status: 400, code: 'BAD_REQUEST' },
  { name: 'a null signal', request: json('/v1/contributions', '{"signals":[null]}'), status: 400, code: 'BAD_REQUEST' },
  { name: 'a vpdq contribution without frames', request: json('/v1/contributions', JSON.stringify({ signals: [{ type: 'vpdq' }] })), status: 400, code: 'SIGNAL_INVALID' },
  { name: 'an opinion with a raw image body', request: raw('/v1/opinions', 'image/jpeg', JPEG), status: 400, code: 'BAD_REQUEST' },
  { name: 'records that are objects', request: json('/v1/records', '{"records":[{"hex":"00"}]}'), status: 400, code: 'BAD_REQUEST' },
  { name: 'a roster that is not a roster', request: json('/v1/roster', '{"document":"x","signatures":[]}'), status: 400, code: 'ROSTER_INVALID' },
  { name: 'a JSON body with __proto__', request: json('/v1/match', '{"__proto__":{"x":1},"signals":[{"type":"md5","value":"' + 'a'.repeat(32) + '"}]}'), status: 400, code: 'BAD_REQUEST' },
  { name: 'unknown route', request: { method: 'GET', url: '/v2/match' }, status: 404, code: 'NOT_FOUND' },
  { name: 'unknown method', request: { method: 'PUT', url: '/v1/match', payload: {} }, status: 404, code: 'NOT_FOUND' },
]

/** More odd requests: whatever the answer, it is a 4xx with an error code. */
const ODD: BadInput[] = [
  ...MEDIA_ROUTES.flatMap((url) => [
    { name: `GIF signature with garbage to ${url}`, request: raw(url, 'image/gif', Buffer.concat([Buffer.from('GIF89a'), Buffer.alloc(40, 0xee)])) },
    { name: `WebP signature with garbage to ${url}`, request: raw(url, 'image/webp', Buffer.concat([Buffer.from('RIFF\x10\0\0\0WEBPVP8 '), Buffer.alloc(40, 1)])) },
    { name: `TIFF header only to ${url}`, request: raw(url, 'image/tiff', Buffer.from('II*\0\x08\0\0\0')) },
    { name: `HEIC brand to ${url}`, request: raw(url, 'image/heic', Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypheicmif1heic'), Buffer.alloc(16)])) },
    { name: `AVIF brand with garbage to ${url}`, request: raw(url, 'image/avif', Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypavifmif1avif'), Buffer.alloc(64, 3)])) },
    { name: `PNG signature with a broken IHDR to ${url}`, request: raw(url, 'image/png', Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(30, 0xab)])) },
    { name: `image/svg+xml to ${url}`, request: raw(url, 'image/svg+xml', '<svg xmlns="http://www.w3.org/2000/svg"/>') },
    { name: `content-type with parameters to ${url}`, request: raw(url, 'image/jpeg; charset=binary', Buffer.from('nope')) },
    { name: `a bogus content-type to ${url}`, request: raw(url, 'not a type', 'x') },
  ]),
  { name: 'threshold as a float', request: json('/v1/match', JSON.stringify({ signals: [{ type: 'md5', value: 'a'.repeat(32) }], threshold: 1.5 })) },
  { name: 'feed paging with from=1e99', request: { method: 'GET', url: `/v1/feeds/${ID}?from=1e99` } },
  { name: 'deeply nested JSON', request: json('/v1/contributions', '{"signals":' + '['.repeat(5000) + ']'.repeat(5000) + '}') },
  { name: 'an opinion about a malformed vpdq value', request: json('/v1/opinions', JSON.stringify({ signal: { type: 'vpdq', value: 'video-1' }, opinion: 'seen' })) },
  { name: 'a revoke with a negative signal index', request: json(`/v1/contributions/${ID}/revoke`, '{"signal":-1}') },
  { name: 'a label without a value', request: raw('/v1/contributions?labels=behavior:,entity:x', 'image/jpeg', JPEG) },
  { name: 'a contentType the taxonomy lacks', request: json('/v1/contributions', JSON.stringify({ signals: [{ type: 'md5', value: 'a'.repeat(32) }], contentType: 'hologram' })) },
  { name: 'a note over the limit', request: json('/v1/contributions', JSON.stringify({ signals: [{ type: 'md5', value: 'a'.repeat(32) }], note: 'n'.repeat(1025) })) },
]

let h: ApiHarness
before(async () => {
  h = await openApiHarness('bad-input-member')
})
after(async () => {
  await h.close()
})

for (const bad of EXPECTED) {
  test(`${bad.name}: ${bad.status} ${bad.code}`, async () => {
    const res = await h.call(bad.request)
    assert.equal(res.statusCode, bad.status, res.body.slice(0, 300))
    assert.equal(errorCode(res), bad.code, res.body.slice(0, 300))
    assert.match(String(res.headers['content-type']), /^application\/json/)
  })
}

test('no bad input, of all of the above and more, is answered with a 5xx; each 4xx carries a code and a message', async (t) => {
  const seen: string[] = []
  for (const bad of [...EXPECTED, ...ODD]) {
    const res = await h.call(bad.request)
    seen.push(`${res.statusCode} ${errorCode(res)} ${bad.name}`)
    assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${bad.name}: ${res.statusCode} ${res.body.slice(0, 300)}`)
    const body = res.json()
    assert.match(body.error.code, /^[A-Z_]+$/, bad.name)
    assert.ok(body.error.message.length > 0, bad.name)
  }
  t.diagnostic(seen.join('\n'))
  const metrics = await h.call({ method: 'GET', url: '/metrics' })
  assert.doesNotMatch(metrics.body, /status="5\d\d"/, 'no 5xx was counted')
})

/** POST /v1/match through app.inject: exact hashes, PDQ near matches at the threshold edge, raw image bytes, dihedral. */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { apiFixture, errorCode, expectedPdq, flipBits, openApiHarness, pdqFixture, type ApiHarness } from '../helpers/api.js'
import { randomPdqHex } from '../helpers/records.js'

let h: ApiHarness
const pdq = randomPdqHex()
const md5 = 'c0ffee'.padEnd(32, '0')
let recordId: string
let square: { id: string; md5: string; sha256: string; pdq: string }

before(async () => {
  h = await openApiHarness('match-member')
  const json = await h.call({
    method: 'POST', url: '/v1/contributions',
    payload: { signals: [{ type: 'pdq', value: pdq.toUpperCase(), quality: 90 }, { type: 'md5', value: md5 }], labels: ['behavior:propaganda', 'entity:test-group'] },
  })
  assert.equal(json.statusCode, 201, json.body)
  recordId = json.json().records[0].id
  const raw = await h.call({ method: 'POST', url: '/v1/contributions?labels=behavior:recruitment', headers: { 'content-type': 'image/jpeg' }, payload: pdqFixture('square-128x128.jpg') })
  assert.equal(raw.statusCode, 201, raw.body)
  const fp = raw.json().fingerprint
  square = { id: raw.json().records[0].id, md5: fp.md5, sha256: fp.sha256, pdq: fp.pdq.hash }
})
after(async () => {
  await h.close()
})

const match = (payload: object, query = '') => h.call({ method: 'POST', url: `/v1/match${query}`, payload })

test('an exact PDQ hash matches at distance 0 with the record, member, labels, verified signature, status and opinions', async () => {
  const res = await match({ signals: [{ type: 'pdq', value: pdq }] })
  assert.equal(res.statusCode, 200, res.body)
  const { matches } = res.json()
  assert.equal(matches.length, 1)
  const [m] = matches
  assert.equal(m.type, 'pdq')
  assert.equal(m.value, pdq, 'the contributed value was lowercased')
  assert.equal(m.distance, 0)
  assert.equal(m.status, 'actionable')
  assert.deepEqual(m.reasons, [])
  assert.equal(m.agreeingMembers, 1)
  assert.deepEqual(m.opinions.summary, { seen: 0, true_positive: 0, false_positive: 0, disputed: 0 })
  assert.deepEqual(m.opinions.members, [])
  assert.equal(m.records.length, 1)
  const [r] = m.records
  assert.equal(r.id, recordId)
  assert.deepEqual(r.member, { key: h.node.memberKey, name: 'match-member' })
  assert.deepEqual(r.labels, ['behavior:propaganda', 'entity:test-group'])
  assert.equal(r.contentType, 'photo')
  assert.equal(r.signalIndex, 0)
  assert.equal(r.quality, 90)
  assert.equal(r.signatureVerified, true)
})

test('a PDQ hash exactly 31 bits away matches (distance 31); 32 bits away does not', async () => {
  const at31 = (await match({ signals: [{ type: 'pdq', value: flipBits(pdq, 31) }] })).json().matches
  assert.equal(at31.length, 1)
  assert.equal(at31[0].value, pdq)
  assert.equal(at31[0].distance, 31)
  assert.equal(at31[0].query.value, flipBits(pdq, 31))
  assert.deepEqual((await match({ signals: [{ type: 'pdq', value: flipBits(pdq, 32) }] })).json().matches, [])
})

test('the threshold can be lowered per query (body or ?threshold=) but stays an integer 0..128', async () => {
  assert.deepEqual((await match({ signals: [{ type: 'pdq', value: flipBits(pdq, 10) }], threshold: 9 })).json().matches, [])
  assert.equal((await match({ signals: [{ type: 'pdq', value: flipBits(pdq, 10) }] }, '?threshold=10')).json().matches.length, 1)
  const bad = await match({ signals: [{ type: 'pdq', value: pdq }], threshold: 129 })
  assert.equal(bad.statusCode, 400)
  assert.equal(errorCode(bad), 'BAD_REQUEST')
})

test('MD5 and SHA-256 match exactly, case-insensitively; several signals give several matches sorted by distance', async () => {
  const res = await match({ signals: [{ type: 'md5', value: md5.toUpperCase() }, { type: 'sha256', value: square.sha256 }, { type: 'pdq', value: flipBits(pdq, 5) }] })
  assert.equal(res.statusCode, 200, res.body)
  const matches = res.json().matches as Array<{ type: string; value: string; distance: number; records: Array<{ id: string }> }>
  assert.deepEqual(matches.map((m) => [m.type, m.distance]).sort(), [['md5', 0], ['pdq', 5], ['sha256', 0]])
  assert.deepEqual(matches.map((m) => m.distance), [...matches.map((m) => m.distance)].sort((a, b) => a - b))
  assert.equal(matches.find((m) => m.type === 'md5')!.records[0]!.id, recordId)
  assert.equal(matches.find((m) => m.type === 'sha256')!.records[0]!.id, square.id)
})

test('an unknown hash is an empty match list, not an error', async () => {
  const res = await match({ signals: [{ type: 'pdq', value: randomPdqHex() }, { type: 'md5', value: 'f'.repeat(32) }] })
  assert.equal(res.statusCode, 200)
  assert.deepEqual(res.json(), { matches: [] })
})

test('malformed query hashes are 400 HASH_INVALID (never a silent "no match")', async () => {
  for (const signal of [
    { type: 'pdq', value: 'zz' },
    { type: 'pdq', value: pdq.slice(1) },
    { type: 'md5', value: 'not-an-md5' },
    { type: 'md5', value: md5 + 'a' },
    { type: 'sha256', value: square.sha256.slice(2) },
  ]) {
    const res = await match({ signals: [signal] })
    assert.equal(res.statusCode, 400, `${JSON.stringify(signal)}: ${res.body}`)
    assert.equal(errorCode(res), 'HASH_INVALID')
  }
})

test('a single-value vpdq query is 400 SIGNAL_INVALID; an unknown type or an empty list is 400 BAD_REQUEST', async () => {
  assert.equal(errorCode(await match({ signals: [{ type: 'vpdq', value: pdq }] })), 'SIGNAL_INVALID')
  for (const payload of [{ signals: [{ type: 'tlsh', value: pdq }] }, { signals: [] }, { signals: [{ type: 'pdq', value: pdq }], extra: 1 }]) {
    const res = await match(payload)
    assert.equal(res.statusCode, 400, res.body)
    assert.equal(errorCode(res), 'BAD_REQUEST')
  }
})

test('raw image bytes: the contributed image matches by MD5, SHA-256 and PDQ; the response carries the query fingerprint', async () => {
  const res = await h.call({ method: 'POST', url: '/v1/match', headers: { 'content-type': 'image/jpeg' }, payload: pdqFixture('square-128x128.jpg') })
  assert.equal(res.statusCode, 200, res.body)
  const body = res.json()
  assert.equal(body.query.pdq.hash, expectedPdq('square-128x128.jpg').hash)
  assert.deepEqual(body.matches.map((m: { type: string }) => m.type).sort(), ['md5', 'pdq', 'sha256'])
  for (const m of body.matches) assert.equal(m.records[0].id, square.id)
})

test('raw image bytes: a resized, recompressed copy matches the contributed image by PDQ only', async () => {
  const res = await h.call({ method: 'POST', url: '/v1/match', headers: { 'content-type': 'image/jpeg' }, payload: apiFixture('square-resized-96.jpg') })
  assert.equal(res.statusCode, 200, res.body)
  const { matches } = res.json()
  assert.equal(matches.length, 1)
  assert.equal(matches[0].type, 'pdq')
  assert.equal(matches[0].value, square.pdq)
  assert.ok(matches[0].distance > 0 && matches[0].distance <= 31, String(matches[0].distance))
  assert.deepEqual(matches[0].records[0].labels, ['behavior:recruitment'])
})

test('raw image bytes: a rotated copy matches only with ?dihedral=true, through a rotation variant', async () => {
  const rotated = apiFixture('square-rotated-90.jpg')
  const plain = await h.call({ method: 'POST', url: '/v1/match', headers: { 'content-type': 'image/jpeg' }, payload: rotated })
  assert.equal(plain.statusCode, 200, plain.body)
  assert.deepEqual(plain.json().matches, [])
  const res = await h.call({ method: 'POST', url: '/v1/match?dihedral=true', headers: { 'content-type': 'image/jpeg' }, payload: rotated })
  assert.equal(res.statusCode, 200, res.body)
  const { matches, query } = res.json()
  assert.equal(Object.keys(query.pdq.dihedral).length, 8)
  assert.equal(matches.length, 1)
  assert.equal(matches[0].value, square.pdq)
  assert.notEqual(matches[0].query.variant, 'original')
  assert.ok(matches[0].distance <= 31)
})

test('raw image bytes: a featureless (low-quality) image is matched by exact hashes only', async () => {
  const res = await h.call({ method: 'POST', url: '/v1/match', headers: { 'content-type': 'image/jpeg' }, payload: pdqFixture('small.jpg') })
  assert.equal(res.statusCode, 200, res.body)
  assert.equal(res.json().query.pdq.lowQuality, true)
  assert.deepEqual(res.json().matches, [])
})

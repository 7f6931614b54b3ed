/** Contributing (JSON and raw bytes), revoking and giving opinions through app.inject; matches reflect each at once. */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { errorCode, expectedPdq, openApiHarness, pdqFixture, type ApiHarness } from '../helpers/api.js'
import { chain, memberFromByte, randomPdqHex } from '../helpers/records.js'
import { NODE_INTERNALS } from '../../src/node/node.js'

let h: ApiHarness
before(async () => {
  h = await openApiHarness('contrib-member')
})
after(async () => {
  await h.close()
})

const contribute = (payload: object) => h.call({ method: 'POST', url: '/v1/contributions', payload })
const matchPdq = async (value: string) => (await h.call({ method: 'POST', url: '/v1/match', payload: { signals: [{ type: 'pdq', value }] } })).json().matches as Array<Record<string, any>>

test('POST /v1/contributions (JSON) is 201 with the new records; 1,001 signals make two records', async () => {
  const signals = Array.from({ length: 1001 }, () => ({ type: 'pdq', value: randomPdqHex(), quality: 80 }))
  const res = await contribute({ signals, labels: ['behavior:glorification'], contentType: 'photo', note: 'batch' })
  assert.equal(res.statusCode, 201, res.body)
  const { records, skipped } = res.json()
  assert.deepEqual(skipped, [])
  assert.deepEqual(records.map((r: { signals: number }) => r.signals), [1000, 1])
  for (const r of records) assert.match(r.id, /^[0-9a-f]{64}$/)
  assert.equal(records[1].seq, records[0].seq + 1)
  assert.equal((await matchPdq(signals[1000]!.value)).length, 1)
})

test('labels are checked against the taxonomy: behavior:dancing is 400 LABEL_INVALID', async () => {
  const res = await contribute({ signals: [{ type: 'pdq', value: randomPdqHex(), quality: 90 }], labels: ['behavior:dancing'] })
  assert.equal(res.statusCode, 400)
  assert.equal(errorCode(res), 'LABEL_INVALID')
  assert.equal(errorCode(await contribute({ signals: [{ type: 'md5', value: 'a'.repeat(32) }], labels: ['nonsense'] })), 'LABEL_INVALID')
})

test('a malformed hash is 400 HASH_INVALID; an unknown signal type is 400 BAD_REQUEST', async () => {
  for (const signal of [{ type: 'pdq', value: 'abc' }, { type: 'md5', value: 'g'.repeat(32) }, { type: 'sha256', value: 'a'.repeat(63) }]) {
    const res = await contribute({ signals: [signal] })
    assert.equal(res.statusCode, 400, res.body)
    assert.equal(errorCode(res), 'HASH_INVALID')
  }
  const res = await contribute({ signals: [{ type: 'tlsh', value: 'a'.repeat(64) }] })
  assert.equal(res.statusCode, 400)
  assert.equal(errorCode(res), 'BAD_REQUEST')
})

test('low-quality PDQ hashes are skipped; when every signal is skipped it is 422 QUALITY_TOO_LOW', async () => {
  const low = randomPdqHex()
  const mixed = await contribute({ signals: [{ type: 'pdq', value: low, quality: 10 }, { type: 'pdq', value: randomPdqHex(), quality: 90 }] })
  assert.equal(mixed.statusCode, 201, mixed.body)
  assert.equal(mixed.json().records[0].signals, 1)
  assert.deepEqual(mixed.json().skipped.map((s: { value: string; quality: number }) => [s.value, s.quality]), [[low, 10]])
  assert.deepEqual(await matchPdq(low), [])
  const all = await contribute({ signals: [{ type: 'pdq', value: low, quality: 49 }] })
  assert.equal(all.statusCode, 422)
  assert.equal(errorCode(all), 'QUALITY_TOO_LOW')
})

test('raw image bytes with ?labels= are 201 with the fingerprint; PDQ, MD5 and SHA-256 are all contributed', async () => {
  const res = await h.call({
    method: 'POST', url: '/v1/contributions?labels=behavior:recruitment,entity:some-group&note=from%20upload',
    headers: { 'content-type': 'image/jpeg' }, payload: pdqFixture('wee.jpg'),
  })
  assert.equal(res.statusCode, 201, res.body)
  const { records, fingerprint, skipped } = res.json()
  assert.equal(fingerprint.pdq.hash, expectedPdq('wee.jpg').hash)
  assert.deepEqual(skipped, [])
  assert.equal(records.length, 1)
  assert.equal(records[0].signals, 3)
  const stored = (await h.call({ method: 'GET', url: `/v1/records/${records[0].id}` })).json().record
  assert.deepEqual(stored.body.labels, ['behavior:recruitment', 'entity:some-group'])
  assert.equal(stored.body.note, 'from upload')
  assert.deepEqual(stored.body.signals.map((s: { type: string; value: string }) => [s.type, s.value]), [['pdq', fingerprint.pdq.hash], ['md5', fingerprint.md5], ['sha256', fingerprint.sha256]])
  const [m] = await matchPdq(fingerprint.pdq.hash)
  assert.deepEqual(m!.records[0].labels, ['behavior:recruitment', 'entity:some-group'])
})

test('raw bytes: a bad label is 400 LABEL_INVALID; a featureless image contributes its exact hashes and skips the PDQ', async () => {
  const bad = await h.call({ method: 'POST', url: '/v1/contributions?labels=behavior:dancing', headers: { 'content-type': 'image/jpeg' }, payload: pdqFixture('wee.jpg') })
  assert.equal(bad.statusCode, 400)
  assert.equal(errorCode(bad), 'LABEL_INVALID')
  const res = await h.call({ method: 'POST', url: '/v1/contributions', headers: { 'content-type': 'image/jpeg' }, payload: pdqFixture('small.jpg') })
  assert.equal(res.statusCode, 201, res.body)
  assert.equal(res.json().records[0].signals, 2)
  assert.deepEqual(res.json().skipped.map((s: { type: string }) => s.type), ['pdq'])
})

test('POST /v1/contributions/{id}/revoke is 201 with the revoke record and the match disappears at once', async () => {
  const pdq = randomPdqHex()
  const { records } = (await contribute({ signals: [{ type: 'pdq', value: pdq, quality: 90 }] })).json()
  assert.equal((await matchPdq(pdq)).length, 1)
  const res = await h.call({ method: 'POST', url: `/v1/contributions/${records[0].id.toUpperCase()}/revoke`, payload: { reason: 'false_positive' } })
  assert.equal(res.statusCode, 201, res.body)
  const { record, bytes } = res.json()
  assert.equal(record.kind, 'revoke')
  assert.deepEqual(record.body, { target: records[0].id, reason: 'false_positive' })
  assert.match(bytes, /^[0-9a-f]+$/)
  assert.deepEqual(await matchPdq(pdq), [])
})

test('revoke without a body (reason defaults to mistake) and revoke of one signal by index', async () => {
  const [a, b] = [randomPdqHex(), randomPdqHex()]
  const { records } = (await contribute({ signals: [{ type: 'pdq', value: a, quality: 90 }, { type: 'pdq', value: b, quality: 90 }] })).json()
  const one = await h.call({ method: 'POST', url: `/v1/contributions/${records[0].id}/revoke`, payload: { signal: 1 } })
  assert.equal(one.statusCode, 201, one.body)
  assert.equal((await matchPdq(a)).length, 1)
  assert.deepEqual(await matchPdq(b), [])
  const outOfRange = await h.call({ method: 'POST', url: `/v1/contributions/${records[0].id}/revoke`, payload: { signal: 2 } })
  assert.equal(outOfRange.statusCode, 404)
  assert.equal(errorCode(outOfRange), 'NOT_FOUND')
  const bare = await h.call({ method: 'POST', url: `/v1/contributions/${records[0].id}/revoke` })
  assert.equal(bare.statusCode, 201, bare.body)
  assert.equal(bare.json().record.body.reason, 'mistake')
  assert.deepEqual(await matchPdq(a), [])
})

test('revoke errors: another member\'s record 403 REVOKE_NOT_AUTHOR, unknown id 404, malformed id 400, a revoke record 400', async () => {
  // Another member's record, stored directly (this node has no roster, so import would refuse its author).
  const [foreign] = chain(memberFromByte(7), 1)
  await h.node[NODE_INTERNALS].store.appendVerified([foreign!])
  const notAuthor = await h.call({ method: 'POST', url: `/v1/contributions/${foreign!.record.id}/revoke`, payload: {} })
  assert.equal(notAuthor.statusCode, 403, notAuthor.body)
  assert.equal(errorCode(notAuthor), 'REVOKE_NOT_AUTHOR')
  const unknown = await h.call({ method: 'POST', url: `/v1/contributions/${'0'.repeat(64)}/revoke`, payload: {} })
  assert.equal(unknown.statusCode, 404)
  assert.equal(errorCode(unknown), 'NOT_FOUND')
  for (const id of ['xyz', 'a'.repeat(63), 'g'.repeat(64)]) {
    const res = await h.call({ method: 'POST', url: `/v1/contributions/${id}/revoke`, payload: {} })
    assert.equal(res.statusCode, 400, id)
    assert.equal(errorCode(res), 'BAD_REQUEST')
  }
  const { records } = (await contribute({ signals: [{ type: 'md5', value: 'd'.repeat(32) }] })).json()
  const revoke = (await h.call({ method: 'POST', url: `/v1/contributions/${records[0].id}/revoke`, payload: {} })).json()
  const again = await h.call({ method: 'POST', url: `/v1/contributions/${revoke.record.id}/revoke`, payload: {} })
  assert.equal(again.statusCode, 400)
  assert.equal(errorCode(again), 'RECORD_INVALID')
  const badReason = await h.call({ method: 'POST', url: `/v1/contributions/${records[0].id}/revoke`, payload: { reason: 'bored' } })
  assert.equal(errorCode(badReason), 'BAD_REQUEST')
})

test('POST /v1/opinions is 201; the match\'s opinions summary reflects it and the member\'s latest opinion wins', async () => {
  const pdq = randomPdqHex()
  const { records } = (await contribute({ signals: [{ type: 'pdq', value: pdq, quality: 90 }] })).json()
  const opine = (opinion: string, value = pdq) => h.call({ method: 'POST', url: '/v1/opinions', payload: { signal: { type: 'pdq', value }, opinion, record: records[0].id, note: 'checked' } })
  const first = await opine('true_positive', pdq.toUpperCase())
  assert.equal(first.statusCode, 201, first.body)
  assert.equal(first.json().record.kind, 'opinion')
  assert.equal(first.json().record.body.signal.value, pdq)
  let [m] = await matchPdq(pdq)
  assert.deepEqual(m!.opinions.summary, { seen: 0, true_positive: 1, false_positive: 0, disputed: 0 })
  assert.deepEqual(m!.opinions.members.map((o: { name: string; opinion: string }) => [o.name, o.opinion]), [['contrib-member', 'true_positive']])
  await new Promise((r) => setTimeout(r, 5)) // distinct timestamps
  assert.equal((await opine('false_positive')).statusCode, 201)
  ;[m] = await matchPdq(pdq)
  assert.deepEqual(m!.opinions.summary, { seen: 0, true_positive: 0, false_positive: 1, disputed: 0 })
  const bad = await h.call({ method: 'POST', url: '/v1/opinions', payload: { signal: { type: 'pdq', value: pdq }, opinion: 'meh' } })
  assert.equal(bad.statusCode, 400)
  assert.equal(errorCode(bad), 'BAD_REQUEST')
  const badHash = await opine('seen', 'zz')
  assert.equal(badHash.statusCode, 400)
  assert.equal(errorCode(badHash), 'HASH_INVALID')
})

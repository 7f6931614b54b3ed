/** Reading records and feeds, and importing records, through app.inject. */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { decodeAndVerify } from '../../src/record/codec.js'
import { errorCode, openApiHarness, type ApiHarness } from '../helpers/api.js'
import { chain, memberFromByte, randomPdqHex } from '../helpers/records.js'

let h: ApiHarness
const ids: string[] = []
before(async () => {
  h = await openApiHarness('records-member')
  for (let i = 0; i < 5; i++) {
    const res = await h.call({ method: 'POST', url: '/v1/contributions', payload: { signals: [{ type: 'pdq', value: randomPdqHex(), quality: 90 }], labels: ['behavior:threat'] } })
    assert.equal(res.statusCode, 201, res.body)
    ids.push(res.json().records[0].id)
  }
})
after(async () => {
  await h.close()
})

test('GET /v1/records/{id} gives the record and its canonical bytes, which decode and verify to the same record', async () => {
  const res = await h.call({ method: 'GET', url: `/v1/records/${ids[2]!.toUpperCase()}` })
  assert.equal(res.statusCode, 200, res.body)
  const { record, bytes } = res.json()
  assert.equal(record.id, ids[2])
  assert.equal(record.author, h.node.memberKey)
  assert.equal(record.seq, 3)
  assert.equal(record.prev, ids[1])
  assert.equal(record.kind, 'signals')
  const verified = decodeAndVerify(Uint8Array.from(Buffer.from(bytes, 'hex')))
  assert.equal(verified.record.id, ids[2])
  assert.deepEqual(JSON.parse(JSON.stringify(verified.record)), record)
})

test('GET /v1/records/{id}: unknown id 404 NOT_FOUND, malformed id 400 BAD_REQUEST', async () => {
  const unknown = await h.call({ method: 'GET', url: `/v1/records/${'1'.repeat(64)}` })
  assert.equal(unknown.statusCode, 404)
  assert.equal(errorCode(unknown), 'NOT_FOUND')
  for (const id of ['abc', 'z'.repeat(64), '1'.repeat(65)]) {
    const res = await h.call({ method: 'GET', url: `/v1/records/${id}` })
    assert.equal(res.statusCode, 400, id)
    assert.equal(errorCode(res), 'BAD_REQUEST')
  }
})

test('GET /v1/feeds lists each feed head', async () => {
  const res = await h.call({ method: 'GET', url: '/v1/feeds' })
  assert.equal(res.statusCode, 200)
  assert.deepEqual(res.json().feeds, [{ feed: h.node.memberKey, seq: 5, id: ids[4] }])
})

test('GET /v1/feeds/{feed}?from=&limit= pages through a feed in seq order', async () => {
  const page = async (query: string) => {
    const res = await h.call({ method: 'GET', url: `/v1/feeds/${h.node.memberKey}${query}` })
    assert.equal(res.statusCode, 200, res.body)
    return res.json()
  }
  const all = await page('')
  assert.equal(all.feed, h.node.memberKey)
  assert.deepEqual(all.head, { seq: 5, id: ids[4] })
  assert.deepEqual(all.records.map((r: { record: { id: string } }) => r.record.id), ids)
  const seen: string[] = []
  for (let from = 1; ; from += 2) {
    const { records } = await page(`?from=${from}&limit=2`)
    if (records.length === 0) break
    assert.ok(records.length <= 2)
    seen.push(...records.map((r: { record: { id: string; seq: number } }) => r.record.id))
  }
  assert.deepEqual(seen, ids)
  assert.deepEqual((await page('?from=4')).records.map((r: { record: { seq: number } }) => r.record.seq), [4, 5])
  assert.deepEqual((await page('?from=99')).records, [])
  const upper = await h.call({ method: 'GET', url: `/v1/feeds/${h.node.memberKey.toUpperCase()}?limit=1` })
  assert.equal(upper.json().records.length, 1)
})

test('GET /v1/feeds/{feed}: unknown feed 404, malformed feed or paging 400', async () => {
  const unknown = await h.call({ method: 'GET', url: `/v1/feeds/${'2'.repeat(64)}` })
  assert.equal(unknown.statusCode, 404)
  assert.equal(errorCode(unknown), 'NOT_FOUND')
  for (const url of ['/v1/feeds/abc', `/v1/feeds/${h.node.memberKey}?from=0`, `/v1/feeds/${h.node.memberKey}?limit=1001`, `/v1/feeds/${h.node.memberKey}?limit=x`]) {
    const res = await h.call({ method: 'GET', url })
    assert.equal(res.statusCode, 400, url)
    assert.equal(errorCode(res), 'BAD_REQUEST')
  }
})

test('POST /v1/records: another member\'s records are rejected UNKNOWN_AUTHOR (no roster); own exported bytes are duplicates', async () => {
  const foreign = chain(memberFromByte(9), 2).map((r) => Buffer.from(r.bytes).toString('hex'))
  const own = (await h.call({ method: 'GET', url: `/v1/records/${ids[0]}` })).json().bytes as string
  const res = await h.call({ method: 'POST', url: '/v1/records', payload: { records: [...foreign, own] } })
  assert.equal(res.statusCode, 200, res.body)
  const { results } = res.json()
  assert.equal(results.length, 3)
  for (const r of results.slice(0, 2)) {
    assert.equal(r.verdict, 'rejected')
    assert.equal(r.code, 'UNKNOWN_AUTHOR')
    assert.match(r.id, /^[0-9a-f]{64}$/)
  }
  assert.equal(results[2].verdict, 'duplicate')
  assert.equal(results[2].id, ids[0])
  assert.equal((await h.call({ method: 'GET', url: `/v1/records/${foreign.length && results[0].id}` })).statusCode, 404)
})

test('POST /v1/records: non-hex, truncated and tampered records are rejected one by one, with a reason', async () => {
  const own = (await h.call({ method: 'GET', url: `/v1/records/${ids[1]}` })).json().bytes as string
  const tampered = own.slice(0, -2) + (own.endsWith('00') ? '01' : '00')
  const res = await h.call({ method: 'POST', url: '/v1/records', payload: { records: ['zz', 'abc', '', own.slice(0, 40), tampered] } })
  assert.equal(res.statusCode, 200, res.body)
  const results = res.json().results as Array<{ verdict: string; code: string; message: string }>
  assert.deepEqual(results.map((r) => r.verdict), ['rejected', 'rejected', 'rejected', 'rejected', 'rejected'])
  assert.deepEqual(results.slice(0, 2).map((r) => [r.code, /hex/.test(r.message)]), [['RECORD_DECODE', true], ['RECORD_DECODE', true]])
  assert.equal(results[3]!.code, 'RECORD_DECODE')
  assert.ok(['SIGNATURE_INVALID', 'RECORD_DECODE'].includes(results[4]!.code), results[4]!.code)
  const tooMany = await h.call({ method: 'POST', url: '/v1/records', payload: { records: Array.from({ length: 1001 }, () => '') } })
  assert.equal(tooMany.statusCode, 400)
  assert.equal(errorCode(tooMany), 'BAD_REQUEST')
})

/**
 * /v1/banks: create, list, get, update, delete banks; add, list (paged), get, disable and delete content;
 * bad input answered with typed errors; the OpenAPI document lists every route with its statuses; the
 * content is matched through the HMA lookup as it is disabled and enabled.
 */
import { test, before, after, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import { errorCode, flipBits, openApiHarness, type ApiHarness } from '../helpers/api.js'
import { createHash } from 'node:crypto'
import { pdqHex } from '../helpers/records.js'

/** Far apart PDQ hashes (about 128 bits from each other). */
const spread = (i: number) => createHash('sha256').update(`banks-v1 ${i}`).digest('hex')

let h: ApiHarness
before(async () => {
  h = await openApiHarness('banks-v1-member')
})
after(async () => {
  await h.close()
})
beforeEach(async () => {
  for (const bank of (await h.call({ method: 'GET', url: '/v1/banks' })).json().banks as Array<{ name: string; kind: string }>) {
    if (bank.kind !== 'member') assert.equal((await h.call({ method: 'DELETE', url: `/v1/banks/${bank.name}` })).statusCode, 200)
  }
})

const json = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) => h.call({ method, url, ...(payload ? { payload } : {}) })

test('bank lifecycle: create (201), list, get with content count, rename and ratio (PATCH), delete (200, then 404)', async () => {
  const created = await json('POST', '/v1/banks', { name: 'TERROR_PHOTOS', kind: 'negative', matchingEnabledRatio: 0.5 })
  assert.equal(created.statusCode, 201, created.body)
  assert.equal(created.json().name, 'TERROR_PHOTOS')
  assert.equal(created.json().kind, 'negative')
  assert.equal(created.json().matchingEnabledRatio, 0.5)
  assert.equal(created.json().contentCount, 0)
  const list = (await json('GET', '/v1/banks')).json().banks as Array<{ name: string }>
  assert.deepEqual(list.map((b) => b.name), ['TERROR_PHOTOS'])
  const renamed = await json('PATCH', '/v1/banks/TERROR_PHOTOS', { name: 'ALLOWED_PHOTOS', matchingEnabledRatio: 1 })
  assert.equal(renamed.statusCode, 200, renamed.body)
  assert.equal(renamed.json().name, 'ALLOWED_PHOTOS')
  assert.equal((await json('GET', '/v1/banks/TERROR_PHOTOS')).statusCode, 404)
  assert.equal((await json('GET', '/v1/banks/ALLOWED_PHOTOS')).json().matchingEnabledRatio, 1)
  const deleted = await json('DELETE', '/v1/banks/ALLOWED_PHOTOS')
  assert.equal(deleted.statusCode, 200)
  assert.deepEqual(deleted.json(), { bank: 'ALLOWED_PHOTOS', deleted: true })
  const gone = await json('DELETE', '/v1/banks/ALLOWED_PHOTOS')
  assert.equal(gone.statusCode, 404)
  assert.equal(errorCode(gone), 'NOT_FOUND')
})

test('content: add with signals, note and metadata (201), page through, get, disable until a time, enable, delete', async () => {
  assert.equal((await json('POST', '/v1/banks', { name: 'CURATED' })).statusCode, 201)
  const ids: number[] = []
  for (let i = 0; i < 5; i++) {
    const res = await json('POST', '/v1/banks/CURATED/content', { signals: { pdq: spread(i), md5: 'A'.repeat(31) + i }, note: `item ${i}`, metadata: { content_id: `c${i}` } })
    assert.equal(res.statusCode, 201, res.body)
    assert.equal(res.json().signals.md5, 'a'.repeat(31) + i, 'hex is lower-cased')
    assert.equal(res.json().enabled, true)
    ids.push(res.json().id)
  }
  const page1 = (await json('GET', '/v1/banks/CURATED/content?limit=2')).json()
  assert.deepEqual(page1.content.map((c: { id: number }) => c.id), ids.slice(0, 2))
  assert.equal(page1.next, ids[1])
  const page3 = (await json('GET', `/v1/banks/CURATED/content?after=${ids[3]}&limit=2`)).json()
  assert.deepEqual(page3.content.map((c: { id: number }) => c.id), [ids[4]])
  assert.equal(page3.next, null)
  const one = await json('GET', `/v1/banks/CURATED/content/${ids[0]}`)
  assert.equal(one.json().note, 'item 0')
  assert.deepEqual(one.json().metadata, { content_id: 'c0' })

  // matched (HMA lookup) until disabled; a time in the past is enabled again
  const lookup = async () => (await h.call({ method: 'GET', url: `/m/lookup?signal=${flipBits(spread(0), 3)}&signal_type=pdq&bypass_coinflip=true` })).json()
  assert.deepEqual(await lookup(), ['CURATED'])
  const future = Math.floor(Date.now() / 1000) + 3600
  const disabled = await json('PATCH', `/v1/banks/CURATED/content/${ids[0]}`, { disableUntilTs: future })
  assert.equal(disabled.statusCode, 200, disabled.body)
  assert.equal(disabled.json().enabled, false)
  assert.equal(disabled.json().disableUntilTs, future)
  assert.deepEqual(await lookup(), [])
  assert.equal((await json('PATCH', `/v1/banks/CURATED/content/${ids[0]}`, { disableUntilTs: 1000 })).json().enabled, true)
  assert.deepEqual(await lookup(), ['CURATED'])

  assert.deepEqual((await json('DELETE', `/v1/banks/CURATED/content/${ids[0]}`)).json(), { bank: 'CURATED', id: ids[0], deleted: true })
  assert.equal((await json('DELETE', `/v1/banks/CURATED/content/${ids[0]}`)).statusCode, 404)
  assert.equal((await json('GET', `/v1/banks/CURATED/content/${ids[0]}`)).statusCode, 404)
  assert.equal((await json('GET', '/v1/banks/CURATED')).json().contentCount, 4)
})

test('bad input: each case a 4xx with a typed error', async () => {
  assert.equal((await json('POST', '/v1/banks', { name: 'GOOD' })).statusCode, 201)
  const cases: Array<[string, 'GET' | 'POST' | 'PATCH' | 'DELETE', string, object | undefined, number, string]> = [
    ['lower-case name', 'POST', '/v1/banks', { name: 'bad_name' }, 400, 'BAD_REQUEST'],
    ['name starting with a digit', 'POST', '/v1/banks', { name: '1BANK' }, 400, 'BAD_REQUEST'],
    ['unknown kind', 'POST', '/v1/banks', { name: 'X', kind: 'secret' }, 400, 'BAD_REQUEST'],
    ['ratio above 1', 'POST', '/v1/banks', { name: 'X', matchingEnabledRatio: 2 }, 400, 'BAD_REQUEST'],
    ['unknown field', 'POST', '/v1/banks', { name: 'X', colour: 'red' }, 400, 'BAD_REQUEST'],
    ['existing bank', 'POST', '/v1/banks', { name: 'GOOD' }, 400, 'BAD_REQUEST'],
    ['empty update', 'PATCH', '/v1/banks/GOOD', {}, 400, 'BAD_REQUEST'],
    ['becoming shared', 'PATCH', '/v1/banks/GOOD', { kind: 'shared' }, 400, 'BAD_REQUEST'],
    ['unknown bank', 'GET', '/v1/banks/NOPE', undefined, 404, 'NOT_FOUND'],
    ['content of an unknown bank', 'POST', '/v1/banks/NOPE/content', { signals: { pdq: pdqHex(1) } }, 404, 'NOT_FOUND'],
    ['no signals', 'POST', '/v1/banks/GOOD/content', { signals: {} }, 400, 'BAD_REQUEST'],
    ['unknown signal type', 'POST', '/v1/banks/GOOD/content', { signals: { tlsh: 'abc' } }, 400, 'BAD_REQUEST'],
    ['short pdq', 'POST', '/v1/banks/GOOD/content', { signals: { pdq: 'abc' } }, 400, 'HASH_INVALID'],
    ['metadata key HMA refuses', 'POST', '/v1/banks/GOOD/content', { signals: { pdq: pdqHex(1) }, metadata: { secret: 1 } }, 400, 'BAD_REQUEST'],
    ['content id 0', 'GET', '/v1/banks/GOOD/content/0', undefined, 400, 'BAD_REQUEST'],
    ['content id not a number', 'GET', '/v1/banks/GOOD/content/abc', undefined, 400, 'BAD_REQUEST'],
    ['disable past 2100', 'PATCH', '/v1/banks/GOOD/content/1', { disableUntilTs: 99_999_999_999 }, 400, 'BAD_REQUEST'],
    ['negative disable', 'PATCH', '/v1/banks/GOOD/content/1', { disableUntilTs: -1 }, 400, 'BAD_REQUEST'],
    ['page limit 0', 'GET', '/v1/banks/GOOD/content?limit=0', undefined, 400, 'BAD_REQUEST'],
    ['missing content', 'GET', '/v1/banks/GOOD/content/999999', undefined, 404, 'NOT_FOUND'],
  ]
  for (const [what, method, url, payload, status, code] of cases) {
    const res = await json(method, url, payload)
    assert.equal(res.statusCode, status, `${what}: ${res.body}`)
    assert.equal(errorCode(res), code, what)
  }
  assert.equal((await h.call({ method: 'GET', url: '/v1/banks', headers: { authorization: 'Bearer wrong' } })).statusCode, 401)
})

test('a member\'s feed is listed as a read-only member bank', async () => {
  await h.node.contribute({ signals: [{ type: 'pdq', value: pdqHex(9) }] })
  const member = ((await json('GET', '/v1/banks')).json().banks as Array<{ name: string; kind: string; member?: string }>).find((b) => b.kind === 'member')
  assert.ok(member, 'this member\'s own feed is a bank')
  assert.equal(member.member?.length, 64)
  const write = await json('POST', `/v1/banks/${member.name}/content`, { signals: { pdq: pdqHex(2) } })
  assert.equal(write.statusCode, 400)
  assert.match(write.json().error.message, /read-only/)
  assert.equal((await json('DELETE', `/v1/banks/${member.name}`)).statusCode, 400)
})

test('OpenAPI: every /v1/banks route has a summary and documented statuses with schemas', async () => {
  const doc = (await h.call({ method: 'GET', url: '/docs/json' })).json() as { paths: Record<string, Record<string, { summary?: string; responses: Record<string, { content?: unknown }> }>> }
  const routes = [['/v1/banks', 'get'], ['/v1/banks', 'post'], ['/v1/banks/{name}', 'get'], ['/v1/banks/{name}', 'patch'], ['/v1/banks/{name}', 'delete'],
    ['/v1/banks/{name}/content', 'post'], ['/v1/banks/{name}/content', 'get'], ['/v1/banks/{name}/content/{id}', 'get'], ['/v1/banks/{name}/content/{id}', 'patch'], ['/v1/banks/{name}/content/{id}', 'delete']]
  for (const [path, method] of routes) {
    const op = doc.paths[path!]?.[method!]
    assert.ok(op?.summary, `${method} ${path} has a summary`)
    assert.ok(op.responses['401'], `${method} ${path} documents 401`)
    assert.ok(Object.keys(op.responses).some((s) => s.startsWith('2')), `${method} ${path} documents its success`)
  }
})

/**
 * HMA compatibility: the requests of HMA 1.1.7's own API tests (OpenMediaMatch tests test_api.py,
 * test_api_banks.py, test_match_api.py), replayed against the app with the same expected status codes and
 * shapes, then hashmesh's own additions (negative banks, members' feeds as banks). HMA's tests add content by
 * `?url=` from the internet: here those requests add the same hash with POST /c/bank/<name>/signal, which
 * answers the same shape (`?url=` itself, from a local server, is test/api/hma-url.test.ts).
 */
import { test, before, after, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import { expectedPdq, flipBits, openApiHarness, pdqFixture, type ApiHarness } from '../helpers/api.js'
import { chain, memberFromByte, pdqHex } from '../helpers/records.js'
import { NODE_INTERNALS } from '../../src/node/node.js'
import { checkHmaAuth } from '../../src/api/hma-routes.js'
import { encodeSignedRoster, signRoster, type RosterDocument } from '../../src/record/roster.js'
import { loadConfig } from '../../src/config.js'

// HMA's test image (pdq/data/bridge-mods/aaa-orig.jpg) and its PDQ, as its tests expect them.
const AAA_ORIG_PDQ = 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22'
const C_PNG_PDQ = '6ba6b1dd74c35cd3b5b7ac9e6a9e4e4b1c6d9b6c6d4b1dd8e3e2c3a6b4e9d1c2'

let h: ApiHarness
before(async () => {
  h = await openApiHarness('hma-member')
})
after(async () => {
  await h.close()
})
/** HMA's tests start each case from an empty database: delete every local bank. */
beforeEach(async () => {
  for (const bank of (await h.call({ method: 'GET', url: '/c/banks' })).json() as Array<{ name: string; kind?: string }>) {
    if (bank.kind !== 'member') await h.call({ method: 'DELETE', url: `/c/bank/${bank.name}` })
  }
})

const get = (url: string) => h.call({ method: 'GET', url })
const post = (url: string, payload?: object) => h.call({ method: 'POST', url, ...(payload ? { payload } : {}) })
const put = (url: string, payload: object) => h.call({ method: 'PUT', url, payload })
const del = (url: string) => h.call({ method: 'DELETE', url })
const createBank = async (name: string, extra: object = {}) => assert.equal((await post('/c/banks', { name, ...extra })).statusCode, 201)
const addPdq = async (bank: string, pdq: string) => {
  const res = await post(`/c/bank/${bank}/signal`, { pdq })
  assert.equal(res.statusCode, 200, res.body)
  return res.json() as { id: number; signals: Record<string, string> }
}

function multipart(field: string, bytes: Buffer, filename = 'upload.jpg'): { payload: Buffer; headers: Record<string, string> } {
  const boundary = '----hashmesh' + Date.now()
  const head = `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`
  return { payload: Buffer.concat([Buffer.from(head), bytes, Buffer.from(`\r\n--${boundary}--\r\n`)]), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } }
}

// ---- test_api.py ----

test('test_status_response: GET /status is 200 I-AM-ALIVE once the index is built', async () => {
  const res = await get('/status')
  assert.equal(res.statusCode, 200)
  assert.equal(res.body, 'I-AM-ALIVE')
  assert.equal((await get('/status/live')).statusCode, 200)
})

test('test_banks_empty_index: GET /c/banks is []', async () => {
  const res = await get('/c/banks')
  assert.equal(res.statusCode, 200)
  assert.deepEqual(res.json(), [])
})

test('test_banks_create: bad names are 400, a good one 201 with {matching_enabled_ratio, name}, then listed', async () => {
  assert.equal((await post('/c/banks', { name: '01_TEST_BANK' })).statusCode, 400)
  assert.equal((await post('/c/banks', { name: 'my_test_bank' })).statusCode, 400)
  const created = await post('/c/banks', { name: 'MY_TEST_BANK_01' })
  assert.equal(created.statusCode, 201)
  assert.deepEqual(created.json(), { matching_enabled_ratio: 1.0, name: 'MY_TEST_BANK_01' })
  const list = await get('/c/banks')
  assert.equal(list.statusCode, 200)
  assert.deepEqual(list.json(), [created.json()])
  assert.equal((await post('/c/banks', { name: 'MY_TEST_BANK_01' })).statusCode, 403, 'a bank that exists is 403, as HMA')
})

test('test_banks_update: rename, enabled false -> ratio 0, enabled_ratio 0.5', async () => {
  await createBank('MY_TEST_BANK')
  assert.equal((await put('/c/bank/MY_TEST_BANK', { name: '1_invalid_name' })).statusCode, 400)
  let res = await put('/c/bank/MY_TEST_BANK', { name: 'MY_TEST_BANK_RENAMED' })
  assert.equal(res.statusCode, 200)
  assert.equal(res.json().name, 'MY_TEST_BANK_RENAMED')
  res = await put('/c/bank/MY_TEST_BANK_RENAMED', { enabled: false })
  assert.equal(res.statusCode, 200)
  assert.equal(res.json().matching_enabled_ratio, 0)
  res = await put('/c/bank/MY_TEST_BANK_RENAMED', { enabled_ratio: 0.5 })
  assert.equal(res.statusCode, 200)
  assert.equal(res.json().matching_enabled_ratio, 0.5)
  const list = await get('/c/banks')
  assert.deepEqual(list.json(), [{ name: 'MY_TEST_BANK_RENAMED', matching_enabled_ratio: 0.5 }])
  assert.equal((await put('/c/bank/NO_SUCH_BANK', { enabled: true })).statusCode, 404)
})

test('test_banks_delete: 200, and again 200 for a bank that is gone', async () => {
  await createBank('MY_TEST_BANK')
  assert.equal((await del('/c/bank/MY_TEST_BANK')).statusCode, 200)
  assert.equal((await del('/c/bank/MY_TEST_BANK')).statusCode, 200)
})

test('test_banks_add_hash: {id, signals: {pdq}}', async () => {
  await createBank('NEW_BANK')
  const added = await addPdq('NEW_BANK', AAA_ORIG_PDQ)
  assert.equal(typeof added.id, 'number')
  assert.deepEqual(added.signals, { pdq: AAA_ORIG_PDQ })
})

test('test_banks_delete_hash: {deleted: 1}, then raw_lookup finds nothing', async () => {
  await createBank('NEW_BANK')
  const { id } = await addPdq('NEW_BANK', AAA_ORIG_PDQ)
  const res = await del(`/c/bank/NEW_BANK/content/${id}`)
  assert.equal(res.statusCode, 200)
  assert.deepEqual(res.json(), { deleted: 1 })
  const lookup = await get(`/m/raw_lookup?signal_type=pdq&signal=${AAA_ORIG_PDQ}`)
  assert.equal(lookup.statusCode, 200)
  assert.deepEqual(lookup.json(), { matches: [] })
})

test('test_banks_add_metadata: unexpected metadata keys are 400; content_id and json are accepted', async () => {
  await createBank('NEW_BANK')
  const bad = await post('/c/bank/NEW_BANK/content', { signals: { pdq: AAA_ORIG_PDQ }, metadata: { invalid_metadata: 5 } })
  assert.equal(bad.statusCode, 400)
  assert.match(bad.json().message, /unexpected keys: invalid_metadata/)
  const good = await post('/c/bank/NEW_BANK/content', { signals: { pdq: AAA_ORIG_PDQ }, metadata: { content_id: '1197433091', json: { asdf: {} } } })
  assert.equal(good.statusCode, 200, good.body)
})

test('test_banks_add_hash_index: raw_lookup of each image names its own content id', async () => {
  await createBank('NEW_BANK')
  const first = await addPdq('NEW_BANK', AAA_ORIG_PDQ)
  await createBank('NEW_BANK_2')
  const second = await addPdq('NEW_BANK', C_PNG_PDQ)
  let res = await get(`/m/raw_lookup?signal_type=pdq&signal=${AAA_ORIG_PDQ}`)
  assert.equal(res.statusCode, 200)
  assert.deepEqual(res.json(), { matches: [first.id] })
  res = await get(`/m/raw_lookup?signal_type=pdq&signal=${C_PNG_PDQ}`)
  assert.deepEqual(res.json(), { matches: [second.id] })
})

// ---- test_api_banks.py (the cases test_api.py does not already cover) ----

test('test_bank_get_content / _with_signals: GET content by id; include_signals adds its signals', async () => {
  await createBank('TEST_BANK_GET')
  const { id } = await addPdq('TEST_BANK_GET', AAA_ORIG_PDQ)
  let res = await get(`/c/bank/TEST_BANK_GET/content/${id}`)
  assert.equal(res.statusCode, 200)
  assert.equal(res.json().id, id)
  assert.equal(res.json().disable_until_ts, 0)
  assert.equal(res.json().signals, undefined)
  res = await get(`/c/bank/TEST_BANK_GET/content/${id}?include_signals=true`)
  assert.deepEqual(res.json().signals, { pdq: AAA_ORIG_PDQ })
})

test('test_bank_get_content_404: no bank, then no content, are 404', async () => {
  assert.equal((await get('/c/bank/TEST_BANK_GET/content/1')).statusCode, 404)
  await createBank('TEST_BANK_GET')
  assert.equal((await get('/c/bank/TEST_BANK_GET/content/1')).statusCode, 404)
})

test('test_bank_update_content / _400: disable_until_ts a year ahead is 200 and echoed; 9999999999 is 400', async () => {
  await createBank('TEST_BANK_UPDATE')
  const { id } = await addPdq('TEST_BANK_UPDATE', AAA_ORIG_PDQ)
  const inAYear = Math.floor(Date.now() / 1000) + 365 * 86400
  const res = await put(`/c/bank/TEST_BANK_UPDATE/content/${id}`, { disable_until_ts: inAYear })
  assert.equal(res.statusCode, 200)
  assert.equal(res.json().disable_until_ts, inAYear)
  assert.equal((await put(`/c/bank/TEST_BANK_UPDATE/content/${id}`, { disable_until_ts: 9999999999 })).statusCode, 400)
})

// ---- test_match_api.py ----

test('test_raw_lookups: every signal type finds its example; include_distance gives {content_id, distance}', async () => {
  await createBank('SAMPLE')
  const examples: Record<string, string> = { pdq: AAA_ORIG_PDQ, video_md5: 'd41d8cd98f00b204e9800998ecf8427e', md5: '0cc175b9c0f1b6a831c399e269772661', sha256: 'a'.repeat(64) }
  for (const [type, value] of Object.entries(examples)) await post('/c/bank/SAMPLE/signal', { [type]: value })
  for (const [type, value] of Object.entries(examples)) {
    let res = await h.call({ method: 'GET', url: '/m/raw_lookup', query: { signal: value, signal_type: type } })
    assert.equal(res.statusCode, 200)
    const count = res.json().matches.length
    assert.ok(count >= 1, type)
    res = await h.call({ method: 'GET', url: '/m/raw_lookup', query: { signal: value, signal_type: type, include_distance: 'true' } })
    assert.equal(res.statusCode, 200)
    assert.equal(res.json().matches.length, count)
    for (const m of res.json().matches) assert.ok('content_id' in m && 'distance' in m)
  }
  assert.equal((await get('/m/raw_lookup?signal_type=nope&signal=x')).statusCode, 400)
  assert.equal((await get('/m/raw_lookup?signal_type=pdq')).statusCode, 400)
})

// ---- the client flow, and hashmesh's additions ----

test('end to end: create bank -> add signal -> lookup matches -> disable -> no match -> delete', async () => {
  await createBank('FLOW_BANK')
  const { id } = await addPdq('FLOW_BANK', AAA_ORIG_PDQ)
  const near = flipBits(AAA_ORIG_PDQ, 10)
  let res = await get(`/m/lookup?signal_type=pdq&signal=${near}`)
  assert.equal(res.statusCode, 200)
  assert.deepEqual(res.json(), ['FLOW_BANK'])
  assert.deepEqual((await get(`/m/lookup?signal_type=pdq&signal=${flipBits(AAA_ORIG_PDQ, 60)}`)).json(), [])
  assert.equal((await put(`/c/bank/FLOW_BANK/content/${id}`, { disable_until_ts: 1 })).statusCode, 200)
  assert.deepEqual((await get(`/m/lookup?signal_type=pdq&signal=${near}`)).json(), [])
  assert.equal((await put(`/c/bank/FLOW_BANK/content/${id}`, { disable_until_ts: 0 })).statusCode, 200)
  assert.deepEqual((await get(`/m/lookup?signal_type=pdq&signal=${near}`)).json(), ['FLOW_BANK'])
  assert.deepEqual((await del(`/c/bank/FLOW_BANK/content/${id}`)).json(), { deleted: 1 })
  assert.deepEqual((await get(`/m/lookup?signal_type=pdq&signal=${near}`)).json(), [])
  assert.equal((await del('/c/bank/FLOW_BANK')).statusCode, 200)
})

test('matching_enabled_ratio: 0 never matches; a seed makes the coin flip repeatable; bypass_coinflip skips it', async () => {
  await createBank('HALF_BANK', { enabled_ratio: 0.5 })
  await addPdq('HALF_BANK', AAA_ORIG_PDQ)
  const results = new Set<number>()
  for (let seed = 0; seed < 40; seed++) {
    const once = (await get(`/m/lookup?signal_type=pdq&signal=${AAA_ORIG_PDQ}&seed=${seed}`)).json().length
    assert.equal((await get(`/m/lookup?signal_type=pdq&signal=${AAA_ORIG_PDQ}&seed=${seed}`)).json().length, once)
    results.add(once)
  }
  assert.deepEqual([...results].sort(), [0, 1], 'a 0.5 ratio matches for some seeds and not others')
  assert.deepEqual((await get(`/m/lookup?signal_type=pdq&signal=${AAA_ORIG_PDQ}&bypass_coinflip=true`)).json(), ['HALF_BANK'])
  await put('/c/bank/HALF_BANK', { enabled: false })
  assert.deepEqual((await get(`/m/lookup?signal_type=pdq&signal=${AAA_ORIG_PDQ}&bypass_coinflip=true`)).json(), [])
})

test('a negative bank withholds every positive match, and says why', async () => {
  await createBank('TERROR_BANK')
  await createBank('ALLOW_LIST', { kind: 'negative' })
  await addPdq('TERROR_BANK', AAA_ORIG_PDQ)
  assert.deepEqual((await get(`/m/lookup?signal_type=pdq&signal=${AAA_ORIG_PDQ}`)).json(), ['TERROR_BANK'])
  await addPdq('ALLOW_LIST', flipBits(AAA_ORIG_PDQ, 4))
  const res = await get(`/m/lookup?signal_type=pdq&signal=${AAA_ORIG_PDQ}`)
  assert.deepEqual(res.json(), [])
  assert.equal(res.headers['x-hashmesh-negative-match'], 'ALLOW_LIST')
  const explained = (await get(`/m/lookup?signal_type=pdq&signal=${AAA_ORIG_PDQ}&explain=true`)).json()
  assert.deepEqual(explained.banks, [])
  assert.deepEqual(explained.suppressed_by, ['ALLOW_LIST'])
  assert.deepEqual(explained.matches.map((m: { bank: string }) => m.bank).sort(), ['ALLOW_LIST', 'TERROR_BANK'])
  assert.deepEqual((await get('/c/bank/ALLOW_LIST')).json(), { name: 'ALLOW_LIST', matching_enabled_ratio: 1, kind: 'negative' })
})

test("federation members' feeds appear as read-only banks and answer lookups", async () => {
  // A roster of this node and "Member Bravo" (installed by the operator), then one of Bravo's records received.
  const bravo = memberFromByte(9)
  const peer = (n: number) => '12D3KooW' + 'A'.repeat(43) + String.fromCharCode(65 + n)
  const doc: RosterDocument = {
    federation: 'hma-test', serial: 1, prev: null, createdAt: 1,
    members: [{ name: 'hma-member', key: h.node.memberKey, peers: [peer(0)] }, { name: 'Member Bravo', key: bravo.publicKeyHex, peers: [peer(1)] }],
  }
  const genesis = [h.node.signer, bravo].reduce((r, m) => signRoster(r, m), { document: doc, signatures: [] } as Parameters<typeof signRoster>[0])
  assert.equal((await h.node.installRoster(encodeSignedRoster(genesis), true)).verdict, 'accepted')
  const [record] = chain(bravo, 1)
  assert.equal((await h.node.receive([record!.bytes]))[0]!.verdict, 'accepted')
  const banks = (await get('/c/banks')).json() as Array<{ name: string; kind?: string }>
  assert.deepEqual(banks.filter((b) => b.kind === 'member').map((b) => b.name), ['MEMBER_MEMBER_BRAVO'])
  const value = pdqHex(0) // the chain's first signal
  assert.deepEqual((await get(`/m/lookup?signal_type=pdq&signal=${flipBits(value, 3)}`)).json(), ['MEMBER_MEMBER_BRAVO'])
  const explained = (await get(`/m/lookup?signal_type=pdq&signal=${value}&explain=1`)).json()
  assert.deepEqual(explained.matches[0].records, [record!.record.id])
  assert.equal((await post('/c/bank/MEMBER_MEMBER_BRAVO/signal', { pdq: value })).statusCode, 403)
  assert.equal((await del('/c/bank/MEMBER_MEMBER_BRAVO')).statusCode, 403)
  assert.equal((await post('/c/banks', { name: 'MEMBER_MEMBER_BRAVO' })).statusCode, 403)
  // a negative bank withholds a member's match too
  await createBank('ALLOW', { kind: 'negative' })
  await addPdq('ALLOW', value)
  assert.deepEqual((await get(`/m/lookup?signal_type=pdq&signal=${value}`)).json(), [])
  // the node's own contributions are its own member bank, named from its name; video_md5 looks up md5
  await h.call({ method: 'POST', url: '/v1/contributions', payload: { signals: [{ type: 'md5', value: 'b'.repeat(32) }] } })
  assert.deepEqual((await get(`/m/lookup?signal_type=video_md5&signal=${'b'.repeat(32)}`)).json(), ['MEMBER_HMA_MEMBER'])
})

test('a shared bank signs its content into this member\'s feed and revokes it on delete (after the roster test: this node is a member)', async () => {
  await createBank('SHARED_BANK', { kind: 'shared' })
  const pdq = flipBits(AAA_ORIG_PDQ, 40)
  const added = await addPdq('SHARED_BANK', pdq)
  const content = (await get(`/c/bank/SHARED_BANK/content/${added.id}`)).json()
  assert.deepEqual((await get(`/m/lookup?signal_type=pdq&signal=${pdq}`)).json(), ['SHARED_BANK', 'MEMBER_HMA_MEMBER'])
  assert.equal(content.records.length, 1)
  const record = await h.call({ method: 'GET', url: `/v1/records/${content.records[0]}` })
  assert.equal(record.statusCode, 200)
  assert.ok(record.body.includes(pdq), 'the signal is in this member\'s feed')
  assert.equal(content.bank.kind, 'shared')
  assert.equal((await put('/c/bank/SHARED_BANK', { kind: 'local' })).statusCode, 400)
  assert.deepEqual((await del(`/c/bank/SHARED_BANK/content/${added.id}`)).json(), { deleted: 1 })
  assert.deepEqual((await get(`/m/lookup?signal_type=pdq&signal=${pdq}`)).json(), [], 'revoked in the feed too')
  assert.equal((await post('/c/bank/SHARED_BANK/signal', { pdq: 'zz' })).statusCode, 400)
})

test('one PDQ catalog: a hash in a local bank and in a member feed is one entry; /m/lookup finds both, /v1/match only the feed', async () => {
  await createBank('LOCAL_ONE')
  const shared = pdqHex(0) // the first signal of Member Bravo's record (the roster test above)
  const bankOnly = flipBits(AAA_ORIG_PDQ, 60)
  const before = (await get('/m/index/status')).json().pdq.size
  await addPdq('LOCAL_ONE', shared)
  await addPdq('LOCAL_ONE', bankOnly)
  assert.equal((await get('/m/index/status')).json().pdq.size, before + 1, 'the shared hash is stored once')
  assert.deepEqual((await get(`/m/lookup?signal_type=pdq&signal=${flipBits(shared, 2)}`)).json(), ['LOCAL_ONE', 'MEMBER_MEMBER_BRAVO'])
  const match = async (value: string) => (await h.call({ method: 'POST', url: '/v1/match', payload: { signals: [{ type: 'pdq', value }] } })).json().matches as Array<{ value: string }>
  assert.deepEqual((await match(shared)).map((m) => m.value), [shared])
  assert.deepEqual(await match(bankOnly), [], 'bank content is not a federation match')
  assert.deepEqual((await get(`/m/lookup?signal_type=pdq&signal=${bankOnly}`)).json(), ['LOCAL_ONE'])
  await del('/c/bank/LOCAL_ONE') // the bank goes; the member's signal stays
  assert.deepEqual((await get(`/m/lookup?signal_type=pdq&signal=${shared}`)).json(), ['MEMBER_MEMBER_BRAVO'])
  assert.deepEqual((await get(`/m/lookup?signal_type=pdq&signal=${bankOnly}`)).json(), [])
  assert.equal((await get('/m/index/status')).json().pdq.size, before)
})

test('POST /h/hash and /m/lookup take a multipart upload whose field is the content type', async () => {
  const { hash } = expectedPdq('small.jpg')
  const form = multipart('photo', pdqFixture('small.jpg'))
  let res = await h.call({ method: 'POST', url: '/h/hash', ...form })
  assert.equal(res.statusCode, 200, res.body)
  assert.equal(res.json().pdq, hash)
  await createBank('UPLOADS')
  res = await h.call({ method: 'POST', url: '/c/bank/UPLOADS/content', ...multipart('photo', pdqFixture('small.jpg')) })
  assert.equal(res.statusCode, 200, res.body)
  assert.equal(res.json().signals.pdq, hash)
  res = await h.call({ method: 'POST', url: '/m/lookup', ...multipart('photo', pdqFixture('small.jpg')) })
  assert.equal(res.statusCode, 200, res.body)
  assert.deepEqual(res.json().pdq, ['UPLOADS'])
  assert.equal((await h.call({ method: 'POST', url: '/h/hash', ...multipart('document', pdqFixture('small.jpg')) })).statusCode, 400)
  const byUrl = await get('/h/hash?url=https://example.com/a.jpg')
  assert.equal(byUrl.statusCode, 403, 'hma.urlHosts is empty by default: every url refused (hma-url.test.ts fetches)')
  assert.match(byUrl.json().message, /urlHosts/)
  assert.equal((await get('/h/hash')).statusCode, 400)
})

test('/m/compare, /m/index/status, /c/signal_type, /c/content_type, /site-map', async () => {
  const res = await post('/m/compare', { pdq: [AAA_ORIG_PDQ, flipBits(AAA_ORIG_PDQ, 9)] })
  assert.equal(res.statusCode, 200)
  assert.deepEqual(res.json(), { pdq: [true, { distance: 9 }] })
  assert.equal((await post('/m/compare', { pdq: [AAA_ORIG_PDQ] })).statusCode, 400)
  const status = (await get('/m/index/status')).json()
  assert.deepEqual(Object.keys(status.pdq).sort(), ['built_to', 'present', 'size'])
  assert.equal(status.pdq.present, true)
  assert.equal((await get('/m/index/status?signal_type=nope')).statusCode, 400)
  const types = (await get('/c/signal_type')).json() as Array<{ name: string; enabled_ratio: number }>
  assert.deepEqual(types.map((t) => t.name), ['pdq', 'video_md5', 'md5', 'sha256', 'vpdq'])
  assert.deepEqual((await get('/c/content_type')).json().map((c: { name: string }) => c.name), ['photo', 'video'])
  assert.ok((await get('/site-map')).json().includes('/m/lookup'))
})

test('HMA routes need the bearer token by default; errors are {message}', async () => {
  const res = await h.app.inject({ method: 'GET', url: '/c/banks' })
  assert.equal(res.statusCode, 401)
  assert.equal(typeof res.json().message, 'string')
})

test('hma.auth "none" is refused at start unless api.host is loopback', () => {
  const base = loadConfig({ env: {} })
  assert.doesNotThrow(() => checkHmaAuth({ ...base, hma: { auth: 'none' } }))
  assert.throws(() => checkHmaAuth({ ...base, api: { ...base.api, host: '0.0.0.0' }, hma: { auth: 'none' } }), /loopback/)
  assert.doesNotThrow(() => checkHmaAuth({ ...base, api: { ...base.api, host: '0.0.0.0' }, hma: { auth: { header: 'x-hma-token' } } }))
})

/**
 * The fb_threatexchange exchange against a 127.0.0.1 mock of the Graph API's /threat_updates (the shapes
 * python-threatexchange reads): access_token, start_time, limit and fields sent; paging.next followed;
 * should_delete and updates without descriptors delete; HASH_* types mapped; Graph errors (OAuthException
 * 190, rate-limit code 4) typed; the access token never in a status or log line.
 */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { THREAT_UPDATES_FIELDS } from '../../src/exchange/adapters/threatexchange.js'
import { mockServer, type MockServer, type MockAnswer } from './mock-server.js'
import { md5, openExchangeHarness, pdq, type ExchangeHarness } from './harness.js'

const TOKEN = '123456789|abcdefghijklmnopqrstuvwxyz_secret'
const GROUP = 1012185296055235

let h: ExchangeHarness
let server: MockServer
let updates: Array<Record<string, unknown>> = []
let special: MockAnswer | undefined

function update(id: number, type: string, indicator: string, time: number, options: { deleted?: boolean; noDescriptors?: boolean; tags?: string[] } = {}) {
  return {
    id: String(id), indicator, type, last_updated: time, should_delete: options.deleted ?? false,
    ...(options.noDescriptors ? {} : { descriptors: { data: [{ id: String(id * 10), owner: { id: '494491891138576' }, status: 'MALICIOUS', tags: options.tags ?? ['terrorism'], reactions: [] }] } }),
  }
}

before(async () => {
  h = await openExchangeHarness()
  server = await mockServer((req) => {
    const url = new URL(req.url, server.url)
    if (url.pathname !== `/v21.0/${GROUP}/threat_updates/`) return { status: 404, body: { error: { message: 'Unknown path', type: 'GraphMethodException', code: 100 } } }
    if (special) return special
    if (url.searchParams.get('access_token') !== TOKEN) return { status: 400, body: { error: { message: 'Invalid OAuth access token.', type: 'OAuthException', code: 190 } } }
    const start = Number(url.searchParams.get('start_time') ?? 0)
    const limit = Number(url.searchParams.get('limit'))
    const after = Number(url.searchParams.get('after') ?? 0)
    const selected = updates.filter((u) => (u.last_updated as number) >= start)
    const page = selected.slice(after, after + 2)
    const nextUrl = new URL(url)
    nextUrl.searchParams.set('after', String(after + 2))
    return { body: { data: page, paging: after + 2 < selected.length ? { cursors: {}, next: nextUrl.toString() } : { cursors: {} } }, headers: { 'x-limit-seen': String(limit) } }
  })
})
after(async () => {
  await server.close()
  await h.close()
})

test('threat_updates: first fetch with the fields python-threatexchange asks for, pages followed, types mapped, deletions skipped', async () => {
  h.exchanges.setCredentials('fb_threatexchange', { api_token: TOKEN })
  updates = [
    update(1, 'HASH_PDQ', pdq(1), 1700000001),
    update(2, 'HASH_MD5', md5(2), 1700000002, { tags: ['media_type_video'] }),
    update(3, 'HASH_MD5', md5(3), 1700000003),
    update(4, 'URI', 'https://example.org', 1700000004),
    update(5, 'HASH_PDQ', pdq(5), 1700000005),
  ]
  await h.exchanges.create({ name: 'TX_GROUP', api: 'fb_threatexchange', settings: { privacy_group: GROUP, base_url: `${server.url}/v21.0` }, enabled: false })
  const first = await h.exchanges.fetchNow('TX_GROUP')
  assert.equal(first.lastResult, 'succeeded', JSON.stringify(first.error))
  assert.deepEqual(first.counts, { added: 4, removed: 0, unchanged: 0, skipped: 1, pages: 3 })
  assert.deepEqual(await h.bankSignals('TX_GROUP'), [`pdq:${pdq(1)}`, `pdq:${pdq(5)}`, `video_md5:${md5(2)}`, `md5:${md5(3)}`].sort())
  const firstCall = new URL(server.requests[0]!.url, server.url)
  assert.equal(firstCall.searchParams.get('fields'), THREAT_UPDATES_FIELDS)
  assert.equal(firstCall.searchParams.get('limit'), '100')
  assert.equal(firstCall.searchParams.get('start_time'), null, 'a first fetch starts from the beginning')
  assert.equal(first.checkpoint?.update_time, 1700000005)
  assert.equal(first.checkpointTime, 1700000005000)
})

test('threat_updates: the next fetch starts at the checkpoint; should_delete and an update without descriptors remove the signal', async () => {
  updates.push(update(1, 'HASH_PDQ', pdq(1), 1700000010, { deleted: true }), update(3, 'HASH_MD5', md5(3), 1700000011, { noDescriptors: true }), update(6, 'HASH_SHA256', 'c'.repeat(64), 1700000012))
  const before = server.requests.length
  const second = await h.exchanges.fetchNow('TX_GROUP')
  assert.equal(new URL(server.requests[before]!.url, server.url).searchParams.get('start_time'), '1700000005')
  assert.equal(second.counts.removed, 2)
  assert.deepEqual(await h.bankSignals('TX_GROUP'), [`pdq:${pdq(5)}`, `sha256:${'c'.repeat(64)}`, `video_md5:${md5(2)}`].sort())
})

test('Graph errors: OAuthException 190 -> UNAUTHORIZED, code 4 -> RATE_LIMITED, a page that is not Graph JSON -> EXCHANGE_PAYLOAD; the bank stays; the token is nowhere', async () => {
  h.exchanges.setCredentials('fb_threatexchange', { api_token: TOKEN + 'x' })
  const denied = await h.exchanges.fetchNow('TX_GROUP')
  assert.equal(denied.error?.code, 'UNAUTHORIZED')
  h.exchanges.setCredentials('fb_threatexchange', { api_token: TOKEN })
  special = { status: 400, body: { error: { message: '(#4) Application request limit reached', type: 'OAuthException', code: 4 } } }
  const limited = await h.exchanges.fetchNow('TX_GROUP')
  assert.equal(limited.error?.code, 'RATE_LIMITED')
  assert.equal(limited.lastResult, 'rate_limited')
  special = { body: { data: 'nope' } }
  assert.equal((await h.exchanges.fetchNow('TX_GROUP')).error?.code, 'EXCHANGE_PAYLOAD')
  special = { body: { data: [{ id: '9', type: 'HASH_PDQ' }] } }
  assert.equal((await h.exchanges.fetchNow('TX_GROUP')).error?.code, 'EXCHANGE_PAYLOAD')
  special = undefined
  assert.equal((await h.bankSignals('TX_GROUP')).length, 3)
  const seen = [...h.logs, JSON.stringify(await h.exchanges.status('TX_GROUP')), JSON.stringify(await h.exchanges.get('TX_GROUP'))].join('\n')
  assert.doesNotMatch(seen, /abcdefghijklmnopqrstuvwxyz_secret/)
  assert.doesNotMatch(seen, /access_token/)
})

test('a stale checkpoint (older than the 85 days updates are kept) refetches everything as a snapshot and removes what is gone', async () => {
  await h.exchanges.create({ name: 'TX_STALE', api: 'fb_threatexchange', settings: { privacy_group: GROUP, base_url: `${server.url}/v21.0` }, enabled: false })
  updates = [update(1, 'HASH_PDQ', pdq(41), 1700000001), update(2, 'HASH_PDQ', pdq(42), 1700000002)]
  assert.equal((await h.exchanges.fetchNow('TX_STALE')).signals, 2)
  // age the checkpoint: the manager's status is the one the next fetch starts from
  const status = (h.exchanges as unknown as { exchanges: Map<string, { status: { checkpoint: Record<string, number> } }> }).exchanges.get('TX_STALE')!.status
  status.checkpoint = { update_time: 1700000002, last_fetch_time: Math.floor(Date.now() / 1000) - 86 * 24 * 3600 }
  updates = [update(2, 'HASH_PDQ', pdq(42), 1700000002), update(3, 'HASH_PDQ', pdq(43), 1700000003)] // 41's deletion was never seen
  const before = server.requests.length
  const refetched = await h.exchanges.fetchNow('TX_STALE')
  assert.equal(new URL(server.requests[before]!.url, server.url).searchParams.get('start_time'), null)
  assert.deepEqual({ added: refetched.counts.added, removed: refetched.counts.removed }, { added: 1, removed: 1 })
  assert.deepEqual(await h.bankSignals('TX_STALE'), [pdq(42), pdq(43)].map((v) => `pdq:${v}`).sort())
})

/**
 * The tat (Tech Against Terrorism TCAP) exchange against a 127.0.0.1 mock serving python-threatexchange's
 * recorded shapes: token-auth with the form, Bearer on the hash list, `next` followed, `deleted` flags
 * applied, the checkpoint sent back as `after`; full-list mode diffed against the previous fetch; 429 with
 * Retry-After backs off (status says so); 401 is a credential error retried only at the next run.
 */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { statSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { mockServer, type MockServer, type SeenRequest, type MockAnswer } from './mock-server.js'
import { md5, openExchangeHarness, pdq, type ExchangeHarness } from './harness.js'

const SECRET = 'tcap-pass-Zq81'

let h: ExchangeHarness
let server: MockServer
/** Entries the mock's hash list holds, in order. */
let entries: Array<Record<string, unknown>> = []
let listAnswer: ((req: SeenRequest) => MockAnswer | undefined) | undefined
const PAGE = 2

function entry(id: number, hash: string, algorithm: string, fileType: string, deleted = false) {
  return { hash_digest: hash, algorithm, ideology: 'islamist', file_type: fileType, deleted, updated_on: 1704901040 + id, created_on: '2025-03-03T23:05:22.587000', id }
}

before(async () => {
  h = await openExchangeHarness({ timerMs: 20 })
  server = await mockServer((req) => {
    if (req.url === '/token-auth/tcap/' && req.method === 'POST') {
      const form = new URLSearchParams(req.body)
      if (form.get('username') === 'valid_user' && form.get('password') === SECRET) return { body: { token: 'jwt-abc', user: { id: 1 } } }
      return { status: 400, body: { non_field_errors: ['Unable to log in with provided credentials.'] } }
    }
    if (req.url.startsWith('/api/hash-list/v2/all')) {
      const special = listAnswer?.(req)
      if (special) return special
      if (req.headers.authorization !== 'Bearer jwt-abc') return { status: 401, body: { detail: 'Invalid token.' } }
      const url = new URL(req.url, server.url)
      const after = url.searchParams.get('after') ?? ''
      const afterId = after ? Number(after.split(',')[1]) : 0
      const offset = Number(url.searchParams.get('offset') ?? 0)
      const remaining = entries.filter((e) => (e.id as number) > afterId)
      const page = remaining.slice(offset, offset + PAGE)
      const last = page.at(-1)
      const next = offset + PAGE < remaining.length ? `${server.url}/api/hash-list/v2/all?order=asc&after=${encodeURIComponent(after)}&limit=${PAGE}&offset=${offset + PAGE}` : null
      return { body: { count: remaining.length, next, previous: null, checkpoint: last ? `${last.updated_on},${last.id}` : after, results: page } }
    }
    return { status: 404, body: {} }
  })
})
after(async () => {
  await server.close()
  await h.close()
})

test('credentials are stored 0600 in the data directory and never shown', async () => {
  h.exchanges.setCredentials('tat', { username: 'valid_user', password: SECRET })
  const path = join(h.dataDir, 'exchange-credentials.json')
  assert.equal(statSync(path).mode & 0o777, 0o600)
  assert.match(readFileSync(path, 'utf8'), new RegExp(SECRET))
  assert.deepEqual(h.exchanges.apiInfo('tat'), { supportsAuthentication: true, hasAuthentication: true, credentialFields: ['username', 'password'] })
})

test('delta mode: pages followed, deleted flags applied, the checkpoint sent back as after; unsupported algorithms skipped', async () => {
  entries = [entry(1, pdq(1), 'PDQ', 'jpg'), entry(2, md5(2), 'MD5', 'mp4'), entry(3, md5(3), 'MD5', 'png'), entry(4, 'ab'.repeat(20), 'SHA1', 'jpg'), entry(5, pdq(5), 'PDQ', 'gif')]
  await h.exchanges.create({ name: 'TCAP', api: 'tat', settings: { base_url: server.url }, enabled: false })
  const first = await h.exchanges.fetchNow('TCAP')
  assert.equal(first.lastResult, 'succeeded', JSON.stringify(first.error))
  assert.deepEqual(first.counts, { added: 4, removed: 0, unchanged: 0, skipped: 1, pages: 3 })
  assert.deepEqual(await h.bankSignals('TCAP'), [`pdq:${pdq(1)}`, `pdq:${pdq(5)}`, `video_md5:${md5(2)}`, `md5:${md5(3)}`].sort())
  assert.equal(first.checkpoint?.checkpoint, '1704901045,5')
  assert.equal(first.checkpointTime, 1704901045000)
  const auth = server.requests.find((r) => r.url === '/token-auth/tcap/')!
  assert.equal(new URLSearchParams(auth.body).get('resend'), 'False')
  // a later fetch asks only for what came after, and applies deletions
  entries.push(entry(6, pdq(1), 'PDQ', 'jpg', true), entry(7, pdq(7), 'PDQ', 'jpg'))
  const before = server.requests.length
  const second = await h.exchanges.fetchNow('TCAP')
  const listCall = server.requests.slice(before).find((r) => r.url.startsWith('/api/hash-list'))!
  assert.equal(new URL(listCall.url, server.url).searchParams.get('after'), '1704901045,5')
  assert.deepEqual({ added: second.counts.added, removed: second.counts.removed }, { added: 1, removed: 1 })
  assert.deepEqual(await h.bankSignals('TCAP'), [`pdq:${pdq(5)}`, `pdq:${pdq(7)}`, `video_md5:${md5(2)}`, `md5:${md5(3)}`].sort())
})

test('full mode: the whole list every time, diffed: hashes that disappeared are removed from the bank', async () => {
  entries = [entry(1, pdq(11), 'PDQ', 'jpg'), entry(2, pdq(12), 'PDQ', 'jpg'), entry(3, pdq(13), 'PDQ', 'jpg')]
  await h.exchanges.create({ name: 'TCAP_FULL', api: 'tat', settings: { base_url: server.url, mode: 'full' }, enabled: false })
  assert.equal((await h.exchanges.fetchNow('TCAP_FULL')).signals, 3)
  entries = [entry(1, pdq(11), 'PDQ', 'jpg'), entry(3, pdq(13), 'PDQ', 'jpg'), entry(4, pdq(14), 'PDQ', 'jpg')]
  const second = await h.exchanges.fetchNow('TCAP_FULL')
  assert.deepEqual({ added: second.counts.added, removed: second.counts.removed, unchanged: second.counts.unchanged }, { added: 1, removed: 1, unchanged: 2 })
  assert.deepEqual(await h.bankSignals('TCAP_FULL'), [pdq(11), pdq(13), pdq(14)].map((v) => `pdq:${v}`).sort())
  for (const r of server.requests.filter((r) => r.url.startsWith('/api/hash-list')).slice(-2)) assert.equal(new URL(r.url, server.url).searchParams.get('after'), '')
})

test('garbage pages are EXCHANGE_PAYLOAD; a next page on another host is not followed (the token stays home)', async () => {
  listAnswer = () => ({ body: '<html>maintenance</html>' })
  assert.equal((await h.exchanges.fetchNow('TCAP_FULL')).error?.code, 'EXCHANGE_PAYLOAD')
  listAnswer = () => ({ body: { count: 1, next: null, checkpoint: '1,1', results: [{ nothing: true }] } })
  assert.equal((await h.exchanges.fetchNow('TCAP_FULL')).error?.code, 'EXCHANGE_PAYLOAD')
  listAnswer = () => ({ body: { count: 9, next: 'http://198.51.100.7/api/hash-list/v2/all?offset=2', checkpoint: '1,1', results: [] } })
  const away = await h.exchanges.fetchNow('TCAP_FULL')
  assert.equal(away.error?.code, 'EXCHANGE_PAYLOAD')
  assert.match(away.error!.message, /another host/)
  assert.equal((await h.bankSignals('TCAP_FULL')).length, 3, 'the bank is untouched by failed fetches')
  listAnswer = undefined
})

test('429 with Retry-After: status rate_limited, the next run waits that long; the node goes on answering lookups', async () => {
  listAnswer = () => ({ status: 429, headers: { 'retry-after': '120' }, body: { detail: 'Request was throttled.' } })
  const started = Date.now()
  const limited = await h.exchanges.fetchNow('TCAP')
  assert.equal(limited.lastResult, 'rate_limited')
  assert.equal(limited.error?.code, 'RATE_LIMITED')
  assert.equal(limited.error?.httpStatus, 429)
  assert.ok(limited.nextRunAt === null, 'a disabled exchange is not scheduled')
  await h.exchanges.update('TCAP', { enabled: true })
  const enabled = await h.exchanges.fetchNow('TCAP')
  assert.ok(enabled.nextRunAt! >= started + 119_000 && enabled.nextRunAt! <= Date.now() + 121_000, `next run in ~120 s: ${enabled.nextRunAt! - Date.now()} ms`)
  assert.deepEqual((await h.banks.lookup('pdq', pdq(5), { bypassCoinflip: true })).banks, ['TCAP'])
  listAnswer = undefined
  await h.exchanges.update('TCAP', { enabled: false })
})

test('401 and wrong credentials: UNAUTHORIZED in the status, no retry storm while the scheduler runs; the secret is in no log line or status', async () => {
  h.exchanges.setCredentials('tat', { username: 'valid_user', password: 'wrong-' + SECRET })
  await h.exchanges.create({ name: 'TCAP_DENIED', api: 'tat', settings: { base_url: server.url }, intervalSeconds: 600 }) // enabled: the scheduler runs it
  const deadline = Date.now() + 5000
  while ((await h.exchanges.status('TCAP_DENIED')).lastResult === 'never' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  const denied = await h.exchanges.status('TCAP_DENIED')
  assert.equal(denied.error?.code, 'UNAUTHORIZED')
  assert.ok(denied.nextRunAt! - Date.now() > 590_000, 'the next try waits the interval')
  const auths = server.requests.filter((r) => r.url === '/token-auth/tcap/').length
  await new Promise((r) => setTimeout(r, 300)) // the timer fires every 20 ms at most
  assert.equal(server.requests.filter((r) => r.url === '/token-auth/tcap/').length, auths, 'no retry before the next run')
  // a token the API stops accepting mid-run is the same error
  h.exchanges.setCredentials('tat', { username: 'valid_user', password: SECRET })
  listAnswer = () => ({ status: 401, body: { detail: 'Invalid token.' } })
  assert.equal((await h.exchanges.fetchNow('TCAP')).error?.code, 'UNAUTHORIZED')
  listAnswer = undefined
  const everything = [...h.logs, JSON.stringify(await h.exchanges.status('TCAP_DENIED')), JSON.stringify(await h.exchanges.list())].join('\n')
  assert.ok(h.logs.some((l) => l.includes('exchange.fetch.failed')), 'failures are logged')
  assert.doesNotMatch(everything, new RegExp(SECRET))
  assert.doesNotMatch(everything, /jwt-abc/)
  await h.exchanges.remove('TCAP_DENIED')
})

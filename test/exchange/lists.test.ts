/**
 * The url and local_file exchanges: a list fetched with ETag / If-Modified-Since (304: unchanged), diffed
 * against the previous fetch (disappeared hashes leave the bank), size cap, time-out, garbage refused with
 * a typed error in the status (the bank untouched, the node still answering); destinations on loopback or
 * private addresses refused unless the test-only option allows 127.0.0.1.
 */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync, utimesSync } from 'node:fs'
import { join } from 'node:path'
import { createExchangeHttp } from '../../src/node/exchange-http.js'
import { isHashmeshError } from '../../src/errors.js'
import { mockServer, type MockServer } from './mock-server.js'
import { md5, openExchangeHarness, pdq, type ExchangeHarness } from './harness.js'

let h: ExchangeHarness
let server: MockServer
let list = ''
let etag = '"v1"'
before(async () => {
  h = await openExchangeHarness()
  server = await mockServer((req) => {
    if (req.url === '/list.txt') {
      if (req.headers['if-none-match'] === etag) return { status: 304 }
      return { body: list, headers: { etag, 'last-modified': 'Mon, 30 Nov 2026 01:00:00 GMT' } }
    }
    if (req.url === '/big.txt') return { body: `pdq ${pdq(1)}\n`.repeat(1000) }
    if (req.url === '/slow.txt') return { body: `pdq ${pdq(1)}\n`, delayMs: 1500 }
    if (req.url === '/html') return { body: '<!doctype html>\n<html><body>Login required</body></html>\n' }
    if (req.url === '/redirect') return { status: 302, headers: { location: '/list.txt' } }
    return { status: 404, body: 'no' }
  })
})
after(async () => {
  await server.close()
  await h.close()
})

test('url exchange: fills its bank, sends If-None-Match (304 = unchanged), removes what disappeared from the list, adds what appeared', async () => {
  list = `# a python-threatexchange local_file list\npdq ${pdq(1)}\npdq ${pdq(2)}\nvideo_md5 ${md5(3)}\nurl https://example.org/x\n`
  await h.exchanges.create({ name: 'URL_LIST', api: 'url', settings: { url: `${server.url}/list.txt` }, enabled: false })
  const first = await h.exchanges.fetchNow('URL_LIST')
  assert.equal(first.lastResult, 'succeeded', JSON.stringify(first.error))
  assert.deepEqual(first.counts, { added: 3, removed: 0, unchanged: 0, skipped: 1, pages: 1 }) // the url line: a type hashmesh lacks
  assert.deepEqual(await h.bankSignals('URL_LIST'), [`pdq:${pdq(1)}`, `pdq:${pdq(2)}`, `video_md5:${md5(3)}`].sort())
  assert.equal(first.checkpoint?.etag, '"v1"')

  const second = await h.exchanges.fetchNow('URL_LIST')
  assert.equal(server.requests.at(-1)!.headers['if-none-match'], '"v1"')
  assert.equal(server.requests.at(-1)!.headers['if-modified-since'], 'Mon, 30 Nov 2026 01:00:00 GMT')
  assert.equal(second.lastResult, 'unchanged')
  assert.equal(second.signals, 3)

  list = `pdq ${pdq(1)}\nvideo_md5 ${md5(3)}\npdq ${pdq(4)}\n`
  etag = '"v2"'
  const third = await h.exchanges.fetchNow('URL_LIST')
  assert.equal(third.lastResult, 'succeeded')
  assert.deepEqual({ added: third.counts.added, removed: third.counts.removed, unchanged: third.counts.unchanged }, { added: 1, removed: 1, unchanged: 2 })
  assert.deepEqual(await h.bankSignals('URL_LIST'), [`pdq:${pdq(1)}`, `pdq:${pdq(4)}`, `video_md5:${md5(3)}`].sort())
  // the bank answers lookups: the removed hash no longer matches, the new one does
  assert.deepEqual((await h.banks.lookup('pdq', pdq(4), { bypassCoinflip: true })).banks, ['URL_LIST'])
  assert.deepEqual((await h.banks.lookup('pdq', pdq(2), { bypassCoinflip: true, threshold: 0 })).banks, [])
})

test('url exchange: garbage (an HTML page) is EXCHANGE_PAYLOAD in the status; the bank keeps its signals; the next good fetch succeeds', async () => {
  await h.exchanges.create({ name: 'URL_GARBAGE', api: 'url', settings: { url: `${server.url}/list.txt` }, enabled: false })
  list = `pdq ${pdq(10)}\npdq ${pdq(11)}\n`
  etag = '"g1"'
  assert.equal((await h.exchanges.fetchNow('URL_GARBAGE')).signals, 2)
  await h.exchanges.update('URL_GARBAGE', {}) // no-op
  const cfg = await h.exchanges.get('URL_GARBAGE')
  ;(cfg.settings as { url: string }).url = `${server.url}/html` // the same config object the manager holds
  const bad = await h.exchanges.fetchNow('URL_GARBAGE')
  assert.equal(bad.lastResult, 'failed')
  assert.equal(bad.error?.code, 'EXCHANGE_PAYLOAD')
  assert.doesNotMatch(bad.error!.message, /Login required/, 'the message names lines, not their text')
  assert.equal(bad.consecutiveFailures, 1)
  assert.equal((await h.bankSignals('URL_GARBAGE')).length, 2, 'a garbage fetch never empties the bank')
  ;(cfg.settings as { url: string }).url = `${server.url}/list.txt`
  etag = '"g2"'
  const good = await h.exchanges.fetchNow('URL_GARBAGE')
  assert.equal(good.lastResult, 'succeeded')
  assert.equal(good.error, null)
  assert.equal(good.consecutiveFailures, 0)
})

test('url exchange: size cap (PAYLOAD_TOO_LARGE), time-out (TIMEOUT), HTTP 404 (EXCHANGE_FETCH), redirects followed on the same host', async () => {
  await h.exchanges.create({ name: 'URL_BIG', api: 'url', settings: { url: `${server.url}/big.txt`, max_bytes: 1000 }, enabled: false })
  assert.equal((await h.exchanges.fetchNow('URL_BIG')).error?.code, 'PAYLOAD_TOO_LARGE')
  await h.exchanges.create({ name: 'URL_SLOW', api: 'url', settings: { url: `${server.url}/slow.txt`, timeout_ms: 200 }, enabled: false })
  const started = Date.now()
  assert.equal((await h.exchanges.fetchNow('URL_SLOW')).error?.code, 'TIMEOUT')
  assert.ok(Date.now() - started < 1400, 'the time-out ended the fetch')
  await h.exchanges.create({ name: 'URL_MISSING', api: 'url', settings: { url: `${server.url}/nothing` }, enabled: false })
  const missing = await h.exchanges.fetchNow('URL_MISSING')
  assert.equal(missing.error?.code, 'EXCHANGE_FETCH')
  assert.equal(missing.error?.httpStatus, 404)
  etag = '"r1"'
  list = `pdq ${pdq(20)}\n`
  await h.exchanges.create({ name: 'URL_REDIRECT', api: 'url', settings: { url: `${server.url}/redirect` }, enabled: false })
  assert.equal((await h.exchanges.fetchNow('URL_REDIRECT')).signals, 1)
})

test('the lists are read by the project\'s one list reader: a CSV with a header (sniffed) fills a bank like a local_file list', async () => {
  etag = '"csv1"'
  list = `hash,type,tags\n${pdq(50)},pdq,terrorism\n${md5(51)},md5,terrorism\n`
  await h.exchanges.create({ name: 'URL_CSV', api: 'url', settings: { url: `${server.url}/list.txt` }, enabled: false })
  const fetched = await h.exchanges.fetchNow('URL_CSV')
  assert.equal(fetched.lastResult, 'succeeded', JSON.stringify(fetched.error))
  assert.deepEqual(await h.bankSignals('URL_CSV'), [`md5:${md5(51)}`, `pdq:${pdq(50)}`])
  await assert.rejects(h.exchanges.create({ name: 'URL_FMT', api: 'url', settings: { url: 'https://example.org/x', format: 'docx' } }), (err: unknown) => isHashmeshError(err, 'BAD_REQUEST'))
})

test('bad settings are typed 400s: unknown api, bad name, no url, ftp url, relative path, unknown signal_type, duplicate exchange', async () => {
  const code = async (input: Parameters<typeof h.exchanges.create>[0]) => {
    try {
      await h.exchanges.create(input)
      return 'created'
    } catch (err) {
      assert.ok(isHashmeshError(err), String(err))
      return err.code
    }
  }
  assert.equal(await code({ name: 'X', api: 'gopher' }), 'BAD_REQUEST')
  assert.equal(await code({ name: 'lower', api: 'url', settings: { url: 'https://example.org/x' } }), 'BAD_REQUEST')
  assert.equal(await code({ name: 'NO_URL', api: 'url', settings: {} }), 'BAD_REQUEST')
  assert.equal(await code({ name: 'FTP', api: 'url', settings: { url: 'ftp://example.org/x' } }), 'BAD_REQUEST')
  assert.equal(await code({ name: 'REL', api: 'local_file', settings: { path: 'lists/x.txt' } }), 'BAD_REQUEST')
  assert.equal(await code({ name: 'TYPE', api: 'local_file', settings: { path: '/x.txt', signal_type: 'url' } }), 'BAD_REQUEST')
  assert.equal(await code({ name: 'URL_LIST', api: 'url', settings: { url: 'https://example.org/x' } }), 'BAD_REQUEST')
  assert.equal(await code({ name: 'IV', api: 'url', settings: { url: 'https://example.org/x' }, intervalSeconds: 1 }), 'BAD_REQUEST')
})

test('local_file exchange: re-read when it changes, diffed (deleted lines leave the bank), unchanged when not; a missing file is EXCHANGE_FETCH', async () => {
  const path = join(h.dataDir, 'list.txt')
  writeFileSync(path, `${pdq(30)}\n${pdq(31)}\n${pdq(32)}\n`)
  await h.exchanges.create({ name: 'FILE_LIST', api: 'local_file', settings: { path, signal_type: 'pdq' }, enabled: false })
  assert.equal((await h.exchanges.fetchNow('FILE_LIST')).counts.added, 3)
  assert.equal((await h.exchanges.fetchNow('FILE_LIST')).lastResult, 'unchanged')
  writeFileSync(path, `${pdq(30)}\n${pdq(33)}\n`)
  utimesSync(path, new Date(), new Date(Date.now() + 5000))
  const changed = await h.exchanges.fetchNow('FILE_LIST')
  assert.deepEqual({ added: changed.counts.added, removed: changed.counts.removed }, { added: 1, removed: 2 })
  assert.deepEqual(await h.bankSignals('FILE_LIST'), [`pdq:${pdq(30)}`, `pdq:${pdq(33)}`])
  writeFileSync(path, `${pdq(30)}\nnot-a-hash\n${pdq(33)}\n`)
  utimesSync(path, new Date(), new Date(Date.now() + 10_000))
  const oneBad = await h.exchanges.fetchNow('FILE_LIST')
  assert.equal(oneBad.lastResult, 'succeeded', 'a bad line among good ones is skipped and counted')
  assert.equal(oneBad.counts.skipped, 1)
  writeFileSync(path, `%PDF-1.7 binary junk\n${pdq(30)}\n`)
  utimesSync(path, new Date(), new Date(Date.now() + 15_000))
  const bad = await h.exchanges.fetchNow('FILE_LIST')
  assert.equal(bad.error?.code, 'EXCHANGE_PAYLOAD', 'a list whose first line is not a signal is refused')
  assert.equal((await h.bankSignals('FILE_LIST')).length, 2)
  await h.exchanges.create({ name: 'FILE_MISSING', api: 'local_file', settings: { path: join(h.dataDir, 'nope.txt') }, enabled: false })
  assert.equal((await h.exchanges.fetchNow('FILE_MISSING')).error?.code, 'EXCHANGE_FETCH')
})

test('a bank deleted by hand is made anew and refilled by the next fetch; removing an exchange mid-fetch stops it quietly', async () => {
  const path = join(h.dataDir, 'refill.txt')
  writeFileSync(path, `${pdq(60)}\n${pdq(61)}\n`)
  await h.exchanges.create({ name: 'REFILL', api: 'local_file', settings: { path, signal_type: 'pdq' }, enabled: false })
  assert.equal((await h.exchanges.fetchNow('REFILL')).signals, 2)
  await h.banks.deleteBank('REFILL')
  utimesSync(path, new Date(), new Date(Date.now() + 5000))
  const refilled = await h.exchanges.fetchNow('REFILL')
  assert.equal(refilled.counts.added, 2)
  assert.equal((await h.bankSignals('REFILL')).length, 2)
  await h.exchanges.create({ name: 'URL_REMOVED', api: 'url', settings: { url: `${server.url}/slow.txt` }, enabled: false })
  const running = h.exchanges.fetchNow('URL_REMOVED')
  await new Promise((r) => setTimeout(r, 100))
  await h.exchanges.remove('URL_REMOVED')
  assert.equal((await running).error, null, 'an aborted fetch is not a failure')
  assert.ok(!h.logs.some((l) => l.includes('exchange.fetch.bug')), 'no error logged')
  await assert.rejects(h.banks.getBank('URL_REMOVED'), (err: unknown) => isHashmeshError(err, 'NOT_FOUND'))
})

test('removing an exchange removes its bank; removing one that is not there is not an error', async () => {
  await h.exchanges.remove('FILE_LIST')
  await assert.rejects(h.banks.getBank('FILE_LIST'), (err: unknown) => isHashmeshError(err, 'NOT_FOUND'))
  await assert.rejects(h.exchanges.get('FILE_LIST'), (err: unknown) => isHashmeshError(err, 'NOT_FOUND'))
  await h.exchanges.remove('FILE_LIST')
})

test('the default HTTP client refuses loopback, private and link-local destinations (literals and names); the test option lets 127.0.0.1 only', async () => {
  const strict = createExchangeHttp()
  for (const url of [`${server.url}/list.txt`, 'http://10.1.2.3/x', 'http://169.254.169.254/latest/meta-data/', 'http://[::1]/x', 'http://192.168.1.1/x', 'file:///etc/passwd']) {
    await assert.rejects(strict({ url }), (err: unknown) => isHashmeshError(err, 'URL_REFUSED'), url)
  }
  // a name that resolves to a private address is refused after resolution
  const rebinding = createExchangeHttp({ lookup: (_host, _o, cb) => cb(null, [{ address: '10.0.0.7', family: 4 }]) })
  await assert.rejects(rebinding({ url: 'http://lists.example/x' }), (err: unknown) => isHashmeshError(err, 'URL_REFUSED'))
  const testOnly = createExchangeHttp({ allowLoopbackForTests: true })
  assert.equal((await testOnly({ url: `${server.url}/list.txt` })).status, 200)
  await assert.rejects(testOnly({ url: 'http://10.1.2.3/x' }), (err: unknown) => isHashmeshError(err, 'URL_REFUSED'))
  const requests = server.requests.length
  const viaName = createExchangeHttp({ allowLoopbackForTests: true, lookup: (_host, _o, cb) => cb(null, [{ address: '127.0.0.1', family: 4 }]) })
  assert.equal((await viaName({ url: server.url.replace('127.0.0.1', 'lists.example') + '/list.txt' })).status, 200)
  assert.equal(server.requests.length, requests + 1)
})

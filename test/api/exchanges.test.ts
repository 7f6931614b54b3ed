/**
 * The exchange routes over a real node: HMA's /c/exchanges… (the requests and expectations of HMA 1.1.7's
 * test_api.py exchange tests, with hashmesh's APIs in place of HMA's "sample") and /v1/exchanges (typed
 * errors, the bearer token, a fetch from a 127.0.0.1 mock that fills the bank the HMA lookup answers from).
 */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyInstance, InjectOptions } from 'fastify'
import { buildApp } from '../../src/api/server.js'
import { initDataDir } from '../../src/node/identity.js'
import { HashmeshNode } from '../../src/node/node.js'
import { exchangesOf } from '../../src/node/exchanges.js'
import { TEST_LIMITS } from '../helpers/api.js'
import { tempDir } from '../helpers/tmp.js'
import { mockServer, type MockServer } from '../exchange/mock-server.js'

const pdq = (i: number) => createHash('sha256').update(`api exchange ${i}`).digest('hex')

let app: FastifyInstance
let node: HashmeshNode
let token: string
let dir: { path: string; cleanup: () => void }
let server: MockServer
let list = ''
/** Every line the API's logger writes (trace level: requests, bodies' sizes, errors). */
const apiLog: string[] = []
const call = (options: InjectOptions) => app.inject({ ...options, headers: { authorization: `Bearer ${token}`, ...(options.headers ?? {}) } })

before(async () => {
  dir = tempDir('hashmesh-api-exchanges-')
  token = (await initDataDir(dir.path, { name: 'api-exchanges' })).apiToken
  node = await HashmeshNode.open(dir.path, { env: {} })
  await node.enableMatching()
  exchangesOf(node, { allowLoopbackForTests: true, minTimerMs: 3_600_000 }) // before buildApp: the routes use this one
  app = await buildApp(node, { token, ...TEST_LIMITS, logger: { level: 'trace', stream: { write: (line: string) => apiLog.push(line) } } })
  await app.ready()
  server = await mockServer((req) => (req.url === '/list' ? { body: list } : { status: 404 }))
})
after(async () => {
  await server.close()
  await app.close()
  await node.close()
  dir.cleanup()
})

test('HMA test_exchange_api_set_auth: apis listed; auth support and whether it is set, set and unset by credential_json; the secret never comes back', async () => {
  const apis = await call({ method: 'GET', url: '/c/exchanges/apis' })
  assert.equal(apis.statusCode, 200)
  assert.deepEqual(new Set(apis.json()), new Set(['local_file', 'url', 'hashmesh', 'tat', 'fb_threatexchange', 'sample']))
  assert.deepEqual((await call({ method: 'GET', url: '/c/exchanges/api/sample' })).json(), { supports_authentification: false, has_set_authentification: false })
  assert.deepEqual((await call({ method: 'GET', url: '/c/exchanges/api/local_file' })).json(), { supports_authentification: false, has_set_authentification: false })
  assert.deepEqual((await call({ method: 'GET', url: '/c/exchanges/api/fb_threatexchange' })).json(), { supports_authentification: true, has_set_authentification: false })
  const set = await call({ method: 'POST', url: '/c/exchanges/api/fb_threatexchange', payload: { credential_json: { api_token: '12345789|000000000000-secret' } } })
  assert.equal(set.statusCode, 200)
  assert.deepEqual(set.json(), { supports_authentification: true, has_set_authentification: true })
  assert.doesNotMatch(set.body, /secret/)
  assert.deepEqual((await call({ method: 'GET', url: '/c/exchanges/api/fb_threatexchange' })).json(), { supports_authentification: true, has_set_authentification: true })
  const unset = await call({ method: 'POST', url: '/c/exchanges/api/fb_threatexchange', payload: { credential_json: {} } })
  assert.deepEqual(unset.json(), { supports_authentification: true, has_set_authentification: false })
  // bad input: unknown api (400, as HMA), a body that is not an object, credentials with unknown fields
  assert.equal((await call({ method: 'GET', url: '/c/exchanges/api/nope' })).statusCode, 400)
  assert.equal((await call({ method: 'POST', url: '/c/exchanges/api/tat', payload: [1] })).statusCode, 400)
  const wrong = await call({ method: 'POST', url: '/c/exchanges/api/tat', payload: { credential_json: { user: 'x' } } })
  assert.equal(wrong.statusCode, 400)
  assert.ok(typeof wrong.json().message === 'string', 'HMA error bodies are {message}')
})

test('HMA test_exchange_api_schema: config and credential field descriptors; null credentials for an API without auth; 404 for an unknown API', async () => {
  const file = (await call({ method: 'GET', url: '/c/exchanges/api/local_file/schema' })).json()
  assert.ok(Array.isArray(file.config_schema.fields))
  assert.equal(file.credentials_schema, null)
  const tx = (await call({ method: 'GET', url: '/c/exchanges/api/fb_threatexchange/schema' })).json()
  const fields = Object.fromEntries(tx.config_schema.fields.map((f: { name: string }) => [f.name, f]))
  assert.equal(fields.privacy_group.type, 'number')
  assert.equal(fields.privacy_group.required, true)
  const creds = Object.fromEntries(tx.credentials_schema.fields.map((f: { name: string }) => [f.name, f]))
  assert.equal(creds.api_token.type, 'string')
  assert.equal((await call({ method: 'GET', url: '/c/exchanges/api/nope/schema' })).statusCode, 404)
})

test('HMA test_exchange_delete and test_exchange_get_fetch_status: delete of a missing exchange is 200; create 201; status fields; show, list, update, delete', async () => {
  assert.equal((await call({ method: 'DELETE', url: '/c/exchange/TEST_EXCHANGE' })).statusCode, 200)
  const path = join(dir.path, 'foo.txt')
  writeFileSync(path, `pdq ${pdq(1)}\n`)
  const created = await call({ method: 'POST', url: '/c/exchanges', payload: { api: 'local_file', bank: 'FOO_EXCHANGE', api_json: { path } } })
  assert.equal(created.statusCode, 201, created.body)
  assert.deepEqual(created.json(), { message: 'Created successfully' })
  const deleted = await call({ method: 'DELETE', url: '/c/exchange/FOO_EXCHANGE' })
  assert.equal(deleted.statusCode, 200)
  assert.equal(deleted.json().message, 'Exchange deleted')

  assert.equal((await call({ method: 'GET', url: '/c/exchange/NONEXISTENT_EXCHANGE/status' })).statusCode, 404)
  assert.equal((await call({ method: 'POST', url: '/c/exchanges', payload: { api: 'local_file', bank: 'BAR_EXCHANGE', api_json: { path, enabled: false } } })).statusCode, 201)
  const status = await call({ method: 'GET', url: '/c/exchange/BAR_EXCHANGE/status' })
  assert.equal(status.statusCode, 200)
  for (const key of ['checkpoint_ts', 'running_fetch_start_ts', 'last_fetch_complete_ts', 'last_fetch_succeeded', 'up_to_date', 'fetched_items']) assert.ok(key in status.json(), key)
  assert.equal(status.json().last_fetch_succeeded, null)
  const shown = (await call({ method: 'GET', url: '/c/exchange/BAR_EXCHANGE' })).json()
  assert.deepEqual({ name: shown.name, api: shown.api, enabled: shown.enabled, path: shown.path }, { name: 'BAR_EXCHANGE', api: 'local_file', enabled: false, path })
  assert.deepEqual((await call({ method: 'GET', url: '/c/exchanges' })).json(), ['BAR_EXCHANGE'])
  const updated = await call({ method: 'PUT', url: '/c/exchange/BAR_EXCHANGE', payload: { enabled: true } })
  assert.equal(updated.statusCode, 200)
  assert.equal(updated.json().enabled, true)
  assert.equal((await call({ method: 'PUT', url: '/c/exchange/NOPE', payload: { enabled: true } })).statusCode, 404)
  // the exchange's bank is an HMA bank
  assert.equal((await call({ method: 'GET', url: '/c/bank/BAR_EXCHANGE' })).statusCode, 200)
  assert.equal((await call({ method: 'DELETE', url: '/c/exchange/BAR_EXCHANGE' })).statusCode, 200)
  assert.equal((await call({ method: 'GET', url: '/c/bank/BAR_EXCHANGE' })).statusCode, 404)
})

test('HMA test_exchange_delete and test_exchange_get_fetch_status verbatim, with the sample API; a fetch of it fills the bank with the python-threatexchange examples', async () => {
  assert.equal((await call({ method: 'POST', url: '/c/exchanges', payload: { api: 'sample', bank: 'FOO_EXCHANGE', api_json: {} } })).statusCode, 201)
  const deleted = await call({ method: 'DELETE', url: '/c/exchange/FOO_EXCHANGE' })
  assert.equal(deleted.statusCode, 200)
  assert.equal(deleted.json().message, 'Exchange deleted')
  assert.equal((await call({ method: 'POST', url: '/c/exchanges', payload: { api: 'sample', bank: 'BAR_EXCHANGE', api_json: {} } })).statusCode, 201)
  const status = await call({ method: 'GET', url: '/c/exchange/BAR_EXCHANGE/status' })
  assert.equal(status.statusCode, 200)
  for (const key of ['checkpoint_ts', 'running_fetch_start_ts', 'last_fetch_complete_ts', 'last_fetch_succeeded', 'up_to_date', 'fetched_items']) assert.ok(key in status.json(), key)
  const fetched = (await call({ method: 'POST', url: '/v1/exchanges/BAR_EXCHANGE/fetch' })).json()
  assert.equal(fetched.status.signals, 18)
  assert.deepEqual((await call({ method: 'GET', url: '/m/lookup?signal=f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22&signal_type=pdq&bypass_coinflip=true' })).json(), ['BAR_EXCHANGE'])
  const after = (await call({ method: 'GET', url: '/c/exchange/BAR_EXCHANGE/status' })).json()
  assert.deepEqual({ ok: after.last_fetch_succeeded, up: after.up_to_date, items: after.fetched_items }, { ok: true, up: true, items: 18 })
  assert.equal((await call({ method: 'DELETE', url: '/c/exchange/BAR_EXCHANGE' })).statusCode, 200)
})

test('HMA create refusals: no bank, a bank name off the rule, no api, an unknown api, api_json not an object, bad api_json, a name a bank has', async () => {
  const post = (payload: object) => call({ method: 'POST', url: '/c/exchanges', payload })
  assert.equal((await post({ api: 'url', api_json: { url: 'https://example.org/l' } })).statusCode, 400)
  assert.equal((await post({ api: 'url', bank: 'bad-name', api_json: { url: 'https://example.org/l' } })).statusCode, 400)
  assert.equal((await post({ bank: 'X_NO_API', api_json: {} })).statusCode, 400)
  assert.equal((await post({ api: 'ncmec', bank: 'X_NCMEC', api_json: {} })).statusCode, 400)
  assert.equal((await post({ api: 'url', bank: 'X_ARRAY', api_json: [] })).statusCode, 400)
  assert.equal((await post({ api: 'fb_threatexchange', bank: 'X_TX', api_json: { privacy_group: 'abc' } })).statusCode, 400)
  assert.equal((await call({ method: 'POST', url: '/c/banks', payload: { name: 'TAKEN' } })).statusCode, 201)
  const taken = await post({ api: 'url', bank: 'TAKEN', api_json: { url: 'https://example.org/l' } })
  assert.equal(taken.statusCode, 409)
  assert.match(taken.json().message, /bank named TAKEN already exists/)
})

test('/v1/exchanges: create, fetch from a 127.0.0.1 mock, the HMA lookup answers from its bank, patch, typed errors, token required, delete', async () => {
  list = `pdq ${pdq(7)}\npdq ${pdq(8)}\n`
  const created = await call({ method: 'POST', url: '/v1/exchanges', payload: { name: 'V1_LIST', api: 'url', settings: { url: `${server.url}/list` }, enabled: false, intervalSeconds: 600 } })
  assert.equal(created.statusCode, 201, created.body)
  assert.equal(created.json().exchange.intervalSeconds, 600)
  assert.equal(created.json().status.lastResult, 'never')
  const fetched = await call({ method: 'POST', url: '/v1/exchanges/V1_LIST/fetch' })
  assert.equal(fetched.statusCode, 200)
  assert.equal(fetched.json().status.lastResult, 'succeeded')
  assert.equal(fetched.json().status.signals, 2)
  assert.deepEqual((await call({ method: 'GET', url: `/m/lookup?signal=${pdq(7)}&signal_type=pdq&bypass_coinflip=true` })).json(), ['V1_LIST'])
  const listed = (await call({ method: 'GET', url: '/v1/exchanges' })).json().exchanges
  assert.deepEqual(listed.map((e: { exchange: { name: string } }) => e.exchange.name), ['V1_LIST'])
  const patched = await call({ method: 'PATCH', url: '/v1/exchanges/V1_LIST', payload: { enabled: true, intervalSeconds: 3600 } })
  assert.equal(patched.json().exchange.enabled, true)
  assert.ok(patched.json().status.nextRunAt > 0)
  // a garbage answer is a failed status, not an HTTP error; the node answers on
  list = '<html>oops</html>'
  const failed = await call({ method: 'POST', url: '/v1/exchanges/V1_LIST/fetch' })
  assert.equal(failed.statusCode, 200)
  assert.equal(failed.json().status.error.code, 'EXCHANGE_PAYLOAD')
  assert.equal((await call({ method: 'GET', url: '/status' })).statusCode, 200)
  // typed errors
  const missing = await call({ method: 'GET', url: '/v1/exchanges/NOPE' })
  assert.equal(missing.statusCode, 404)
  assert.equal(missing.json().error.code, 'NOT_FOUND')
  const bad = await call({ method: 'POST', url: '/v1/exchanges', payload: { name: 'V1_BAD', api: 'url', settings: { url: 'gopher://x' } } })
  assert.equal(bad.statusCode, 400)
  assert.equal(bad.json().error.code, 'BAD_REQUEST')
  assert.equal((await call({ method: 'PATCH', url: '/v1/exchanges/V1_LIST', payload: { enabled: 'yes' } })).json().error.code, 'BAD_REQUEST')
  assert.equal((await app.inject({ method: 'GET', url: '/v1/exchanges' })).statusCode, 401)
  const apis = (await call({ method: 'GET', url: '/v1/exchanges/apis' })).json().apis
  assert.deepEqual(apis.find((a: { api: string }) => a.api === 'tat').credentialFields, ['username', 'password'])
  const creds = await call({ method: 'PUT', url: '/v1/exchanges/apis/tat/credentials', payload: { username: 'u', password: 'p-secret' } })
  assert.deepEqual(creds.json(), { api: 'tat', hasCredentials: true })
  assert.ok(apiLog.length > 10, 'the API logged the requests')
  assert.doesNotMatch(apiLog.join('\n'), /p-secret|000000000000-secret/, 'no credential in the API log')
  assert.deepEqual((await call({ method: 'DELETE', url: '/v1/exchanges/V1_LIST' })).json(), { deleted: true })
  assert.equal((await call({ method: 'GET', url: '/v1/exchanges/V1_LIST' })).statusCode, 404)
})

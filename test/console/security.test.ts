/**
 * The console's security rules over app.inject (no browser): login with the API token, the session
 * cookie's flags, CSRF refusal on every state-changing route, the Content-Security-Policy, logout.
 */
import { LOGIN_MAX_FAILURES, LOGIN_WINDOW_MS, LoginThrottle } from '../../src/api/console/login-throttle.js'
import { after, before, describe, it, test } from 'node:test'
import assert from 'node:assert/strict'
import { openApiHarness, type ApiHarness } from '../helpers/api.js'
import { consoleLogin, ensureConsoleBuilt } from '../helpers/console.js'
import Fastify from 'fastify'
import { consoleRoutes } from '../../src/api/console/routes.js'
import { NodeService } from '../../src/node/service.js'
import { tempDir } from '../helpers/tmp.js'
import { toHttpError } from '../../src/api/errors.js'
import { chmodSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

let h: ApiHarness

before(async () => {
  await ensureConsoleBuilt()
  h = await openApiHarness('console-security')
})
after(() => h.close())

describe('console security', () => {
  it('serves the page shell with a strict CSP and no inline script or style', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/ui' })
    assert.equal(res.statusCode, 200)
    const csp = String(res.headers['content-security-policy'])
    assert.match(csp, /default-src 'self'/)
    assert.match(csp, /script-src 'self'(;|$)/)
    assert.match(csp, /style-src 'self'(;|$)/)
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/)
    assert.match(csp, /frame-ancestors 'none'/)
    assert.equal(res.headers['x-content-type-options'], 'nosniff')
    assert.doesNotMatch(res.body, /<script>|<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=/i)
    assert.match(res.body, /<script type="module" src="\/ui\/assets\/app\.js"><\/script>/)
    for (const page of ['/ui/search', '/ui/records/abc', '/ui/roster']) assert.equal((await h.app.inject({ method: 'GET', url: page })).statusCode, 200, page)
    const js = await h.app.inject({ method: 'GET', url: '/ui/assets/app.js' })
    assert.equal(js.statusCode, 200)
    assert.match(String(js.headers['content-type']), /javascript/)
    assert.match(String(js.headers['content-security-policy']), /default-src 'self'/)
    const docs = (await h.call({ method: 'GET', url: '/docs/json' })).json() as { paths: Record<string, unknown> }
    assert.deepEqual(Object.keys(docs.paths).filter((p) => p.startsWith('/ui')), [], 'the console is not part of the /v1 OpenAPI document')
  })

  it('needs a session for its data: 401 with {error:{code,message}} without one, whatever the bearer', async () => {
    for (const url of ['/ui/api/overview', '/ui/api/feeds', '/ui/api/roster']) {
      const res = await h.app.inject({ method: 'GET', url })
      assert.equal(res.statusCode, 401, url)
      assert.equal(res.json().error.code, 'UNAUTHORIZED')
      assert.equal(typeof res.json().error.message, 'string')
    }
    const bearer = await h.app.inject({ method: 'GET', url: '/ui/api/overview', headers: { authorization: `Bearer ${h.token}` } })
    assert.equal(bearer.statusCode, 401, 'the console takes its session, not the bearer token')
    assert.deepEqual((await h.app.inject({ method: 'GET', url: '/ui/api/session' })).json(), { authenticated: false, login: 'token' })
  })

  it('refuses a wrong token, a non-JSON login and a login from another origin', async () => {
    const wrong = await h.app.inject({ method: 'POST', url: '/ui/api/login', payload: { token: 'x'.repeat(h.token.length) } })
    assert.equal(wrong.statusCode, 401)
    assert.equal(wrong.json().error.code, 'UNAUTHORIZED')
    assert.equal(wrong.headers['set-cookie'], undefined)
    const empty = await h.app.inject({ method: 'POST', url: '/ui/api/login', payload: { token: '' } })
    assert.equal(empty.statusCode, 400)
    assert.equal(empty.json().error.code, 'BAD_REQUEST')
    const form = await h.app.inject({ method: 'POST', url: '/ui/api/login', payload: `token=${h.token}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } })
    assert.ok(form.statusCode === 415 || form.statusCode === 400, `form login: ${form.statusCode}`)
    assert.equal(form.headers['set-cookie'], undefined)
    const cross = await h.app.inject({ method: 'POST', url: '/ui/api/login', payload: { token: h.token }, headers: { origin: 'http://evil.example' } })
    assert.equal(cross.statusCode, 403)
    assert.equal(cross.json().error.code, 'CSRF_REFUSED')
  })

  it('logs in with the API token: an HttpOnly, SameSite=Strict, Path=/ui cookie with an expiry; the token is never echoed', async () => {
    const { response, cookie, csrf } = await consoleLogin(h.app, h.token)
    const setCookie = String(response.headers['set-cookie'])
    assert.match(setCookie, /^hashmesh_console=[A-Za-z0-9_-]{43};/)
    assert.match(setCookie, /; HttpOnly/i)
    assert.match(setCookie, /; SameSite=Strict/i)
    assert.match(setCookie, /; Path=\/ui(;|$)/)
    assert.match(setCookie, /; Max-Age=28800/)
    assert.match(setCookie, /; Expires=/)
    assert.ok(!setCookie.includes(h.token) && !response.body.includes(h.token), 'the token is not in the cookie or the answer')
    assert.ok(csrf.length >= 40 && csrf !== cookie.split('=')[1])
    const session = await h.app.inject({ method: 'GET', url: '/ui/api/session', headers: { cookie } })
    assert.equal(session.json().authenticated, true)
    assert.equal(session.json().csrf, csrf)
    const overview = await h.app.inject({ method: 'GET', url: '/ui/api/overview', headers: { cookie } })
    assert.equal(overview.statusCode, 200)
    assert.equal(overview.json().identity.name, 'console-security')
  })

  it('refuses every state-changing request without the CSRF token: 403 CSRF_REFUSED, nothing done', async () => {
    const { cookie, csrf } = await consoleLogin(h.app, h.token)
    const before = h.node.status().records
    const changes: Array<{ url: string; payload: unknown }> = [
      { url: '/ui/api/contributions', payload: { signals: [{ type: 'md5', value: 'a'.repeat(32) }], labels: [] } },
      { url: '/ui/api/opinions', payload: { signal: { type: 'md5', value: 'a'.repeat(32) }, opinion: 'seen' } },
      { url: `/ui/api/records/${'a'.repeat(64)}/revoke`, payload: {} },
      { url: '/ui/api/match', payload: { signals: [{ type: 'md5', value: 'a'.repeat(32) }] } },
      { url: `/ui/api/roster/proposals/${'a'.repeat(64)}/sign`, payload: {} },
      { url: '/ui/api/logout', payload: {} },
    ]
    for (const { url, payload } of changes) {
      for (const headers of [{ cookie }, { cookie, 'x-csrf-token': 'wrong' }, { cookie, 'x-csrf-token': csrf.slice(0, -1) }]) {
        const res = await h.app.inject({ method: 'POST', url, payload: payload as object, headers })
        assert.equal(res.statusCode, 403, `${url} with ${JSON.stringify(Object.keys(headers))}`)
        assert.deepEqual(Object.keys(res.json().error).sort(), ['code', 'message'])
        assert.equal(res.json().error.code, 'CSRF_REFUSED')
      }
    }
    assert.equal(h.node.status().records, before, 'no refused request changed anything')
    // another session's CSRF token does not do either
    const other = await consoleLogin(h.app, h.token)
    const crossed = await h.app.inject({ method: 'POST', url: '/ui/api/contributions', payload: changes[0]!.payload as object, headers: { cookie, 'x-csrf-token': other.csrf } })
    assert.equal(crossed.statusCode, 403)
    const ok = await h.app.inject({ method: 'POST', url: '/ui/api/contributions', payload: changes[0]!.payload as object, headers: { cookie, 'x-csrf-token': csrf } })
    assert.equal(ok.statusCode, 201)
    assert.equal(ok.json().signed[0].record.kind, 'signals')
  })

  it('logout ends the session: the old cookie and CSRF token no longer work', async () => {
    const { cookie, csrf } = await consoleLogin(h.app, h.token)
    const out = await h.app.inject({ method: 'POST', url: '/ui/api/logout', payload: {}, headers: { cookie, 'x-csrf-token': csrf } })
    assert.equal(out.statusCode, 200)
    assert.match(String(out.headers['set-cookie']), /hashmesh_console=;.*Expires=Thu, 01 Jan 1970/)
    const after = await h.app.inject({ method: 'GET', url: '/ui/api/overview', headers: { cookie } })
    assert.equal(after.statusCode, 401)
    const replay = await h.app.inject({ method: 'POST', url: '/ui/api/contributions', payload: { signals: [{ type: 'md5', value: 'b'.repeat(32) }] }, headers: { cookie, 'x-csrf-token': csrf } })
    assert.equal(replay.statusCode, 401)
  })

  it('search explains matches in this node\'s own banks too, and lists the banks', async () => {
    const { cookie, csrf } = await consoleLogin(h.app, h.token)
    const headers = { cookie, 'x-csrf-token': csrf }
    const md5 = '0cc175b9c0f1b6a831c399e269772661'
    const none = await h.app.inject({ method: 'POST', url: '/ui/api/match', payload: { signals: [{ type: 'md5', value: md5 }] }, headers })
    assert.deepEqual(none.json().banks, [])
    assert.equal((await h.call({ method: 'POST', url: '/c/banks', payload: { name: 'CONSOLE_BANK' } })).statusCode, 201)
    assert.equal((await h.call({ method: 'POST', url: '/c/bank/CONSOLE_BANK/signal', payload: { md5 } })).statusCode, 200)
    const hit = await h.app.inject({ method: 'POST', url: '/ui/api/match', payload: { signals: [{ type: 'md5', value: md5 }] }, headers })
    assert.equal(hit.statusCode, 200)
    assert.deepEqual(hit.json().banks.map((b: { type: string; banks: Array<{ bank: string; kind: string; distance: number }> }) => [b.type, b.banks[0]!.bank, b.banks[0]!.kind, b.banks[0]!.distance]), [['md5', 'CONSOLE_BANK', 'local', 0]])
    const listed = await h.app.inject({ method: 'GET', url: '/ui/api/banks', headers })
    assert.ok(listed.json().banks.some((b: { name: string }) => b.name === 'CONSOLE_BANK'))
  })

  it('takes DIR/console.password instead of the API token when that file exists (0600, 12+ characters)', async () => {
    const file = join(h.dataDir, 'console.password')
    const password = 'reviewers-only-' + 'x'.repeat(8)
    writeFileSync(file, password + '\n', { mode: 0o600 })
    try {
      assert.equal((await h.app.inject({ method: 'GET', url: '/ui/api/session' })).json().login, 'password')
      const byToken = await h.app.inject({ method: 'POST', url: '/ui/api/login', payload: { token: h.token } })
      assert.equal(byToken.statusCode, 401)
      assert.match(byToken.json().error.message, /console password/)
      const byPassword = await h.app.inject({ method: 'POST', url: '/ui/api/login', payload: { token: password } })
      assert.equal(byPassword.statusCode, 200)
      chmodSync(file, 0o644)
      const unsafe = await h.app.inject({ method: 'POST', url: '/ui/api/login', payload: { token: password } })
      assert.equal(unsafe.statusCode, 500, 'a password file others can read is refused')
      assert.equal(unsafe.json().error.code, 'INTERNAL')
      writeFileSync(file, 'short\n', { mode: 0o600 })
      chmodSync(file, 0o600)
      assert.equal((await h.app.inject({ method: 'POST', url: '/ui/api/login', payload: { token: 'short' } })).statusCode, 500)
    } finally {
      rmSync(file, { force: true })
    }
    assert.equal((await h.app.inject({ method: 'GET', url: '/ui/api/session' })).json().login, 'token')
    assert.equal((await h.app.inject({ method: 'POST', url: '/ui/api/login', payload: { token: h.token } })).statusCode, 200)
  })

  it('lists declared incidents and counts the open ones among the overview\'s alerts', async () => {
    const { cookie } = await consoleLogin(h.app, h.token)
    assert.deepEqual((await h.app.inject({ method: 'GET', url: '/ui/api/incidents', headers: { cookie } })).json(), { available: true, incidents: [] })
    const declared = await h.call({ method: 'POST', url: '/v1/incidents', payload: { title: 'Console test attack', severity: 'high' } })
    assert.equal(declared.statusCode, 201, declared.body)
    const listed = (await h.app.inject({ method: 'GET', url: '/ui/api/incidents', headers: { cookie } })).json()
    assert.deepEqual(listed.incidents.map((i: { title: string; state: string }) => [i.title, i.state]), [['Console test attack', 'open']])
    const overview = (await h.app.inject({ method: 'GET', url: '/ui/api/overview', headers: { cookie } })).json()
    assert.deepEqual(overview.alerts.incidents.map((i: { title: string; severity: string }) => [i.title, i.severity]), [['Console test attack', 'high']])
    assert.equal((await h.app.inject({ method: 'GET', url: '/ui/api/incidents?all=maybe', headers: { cookie } })).statusCode, 400)
  })

  it('says plainly when the bundle was not built', async () => {
    const empty = tempDir('hashmesh-console-unbuilt-')
    const app = Fastify()
    app.setErrorHandler((err, _request, reply) => {
      const { status, body } = toHttpError(err)
      void reply.status(status).send(body)
    })
    try {
      await app.register(consoleRoutes, { service: new NodeService(h.node), token: () => h.token, assetsDir: empty.path })
      const res = await app.inject({ method: 'GET', url: '/ui' })
      assert.equal(res.statusCode, 404)
      assert.equal(res.json().error.code, 'NOT_FOUND')
      assert.match(res.json().error.message, /console is not built: run "npm run build"/)
    } finally {
      await app.close()
      empty.cleanup()
    }
  })

  it('answers bad input with typed errors', async () => {
    const { cookie, csrf } = await consoleLogin(h.app, h.token)
    const headers = { cookie, 'x-csrf-token': csrf }
    const badHash = await h.app.inject({ method: 'POST', url: '/ui/api/match', payload: { signals: [{ type: 'pdq', value: 'zz' }] }, headers })
    assert.equal(badHash.statusCode, 400)
    assert.equal(badHash.json().error.code, 'HASH_INVALID')
    const notImage = await h.app.inject({ method: 'POST', url: '/ui/api/match', payload: Buffer.from('not an image'), headers: { ...headers, 'content-type': 'image/png' } })
    assert.equal(notImage.statusCode, 415)
    const missing = await h.app.inject({ method: 'GET', url: `/ui/api/records/${'c'.repeat(64)}`, headers })
    assert.equal(missing.statusCode, 404)
    assert.equal(missing.json().error.code, 'NOT_FOUND')
    const badProposal = await h.app.inject({ method: 'POST', url: '/ui/api/roster/proposals', payload: { document: {}, signatures: [] }, headers })
    assert.equal(badProposal.statusCode, 400)
    const activity = await h.app.inject({ method: 'GET', url: '/ui/api/activity?minutes=5000', headers })
    assert.equal(activity.statusCode, 400)
    const quarantine = await h.app.inject({ method: 'GET', url: '/ui/api/quarantine', headers })
    assert.equal(quarantine.statusCode, 200)
    assert.deepEqual([quarantine.json().available, quarantine.json().records], [true, []])
    const badRelease = await h.app.inject({ method: 'POST', url: '/ui/api/quarantine/release', payload: { records: ['nothex'] }, headers })
    assert.equal(badRelease.statusCode, 400)
    assert.equal(badRelease.json().error.code, 'BAD_REQUEST')
    const overview = await h.app.inject({ method: 'GET', url: '/ui/api/overview', headers })
    assert.equal(overview.json().alerts.quarantined, 0)
  })

  it('locks the login after five wrong secrets in a minute (429 with Retry-After, the right token too); sessions already open keep working (last: it locks this harness)', async () => {
    const open = await consoleLogin(h.app, h.token)
    // (earlier tests in this file logged in wrongly too: the lock may come before five more)
    const codes: number[] = []
    for (let i = 0; i <= LOGIN_MAX_FAILURES; i++) codes.push((await h.app.inject({ method: 'POST', url: '/ui/api/login', payload: { token: 'y'.repeat(h.token.length) } })).statusCode)
    const firstLocked = codes.indexOf(429)
    assert.ok(firstLocked >= 1 && codes.slice(0, firstLocked).every((c) => c === 401) && codes.slice(firstLocked).every((c) => c === 429), codes.join(' '))
    const locked = await h.app.inject({ method: 'POST', url: '/ui/api/login', payload: { token: h.token } })
    assert.equal(locked.statusCode, 429)
    assert.equal(locked.json().error.code, 'RATE_LIMITED')
    assert.ok(Number(locked.headers['retry-after']) >= 1 && Number(locked.headers['retry-after']) <= 60)
    assert.equal((await h.app.inject({ method: 'GET', url: '/ui/api/overview', headers: { cookie: open.cookie } })).statusCode, 200)
  })
})

test('LoginThrottle: the window slides; a failure leaves it after a minute', () => {
  let now = 0
  const throttle = new LoginThrottle(() => now)
  for (let i = 0; i < LOGIN_MAX_FAILURES; i++) {
    throttle.check()
    throttle.failed()
    now += 1000
  }
  assert.throws(() => throttle.check(), (err: Error & { code?: string; details?: { retryAfterSeconds?: number } }) => err.code === 'RATE_LIMITED' && err.details?.retryAfterSeconds === 55)
  now = LOGIN_WINDOW_MS // the first failure (at 0) has left the window
  throttle.check()
})

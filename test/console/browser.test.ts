/**
 * The console in a real browser (Debian's chromium via playwright-core) against a 3-member federation
 * on 127.0.0.1: log in, see the peers, contribute an image, search by dropping it (the match explained,
 * the media blurred until revealed), revoke the contribution and see the match go, sign a roster
 * proposal, CSP and CSRF seen from the page, log out. Screenshots of each page: docs/console/ with
 * HASHMESH_UPDATE_SCREENSHOTS=1, a temporary folder otherwise (so a test run leaves the tree clean).
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import { randomBytes } from 'node:crypto'
import { chromium, type Browser, type Page } from 'playwright-core'
import { Signer } from '../../src/record/crypto.js'
import { rosterToJson, signRoster } from '../../src/record/roster.js'
import { testFederation, waitFor, type TestFederation } from '../helpers/federation.js'
import { ensureConsoleBuilt } from '../helpers/console.js'
import { browserSkipReason, findChromium } from '../helpers/browser.js'
import { FIXTURES_DIR, REPO_ROOT } from '../hash/images.js'

const skip = browserSkipReason()
if (skip) console.log(`# console browser tests SKIPPED: ${skip}`)

// Every run takes the screenshots; HASHMESH_UPDATE_SCREENSHOTS=1 writes them over docs/console (README shows them).
const SHOTS = process.env.HASHMESH_UPDATE_SCREENSHOTS === '1' ? join(REPO_ROOT, 'docs', 'console') : join(tmpdir(), 'hashmesh-console-shots')
const IMAGE = join(FIXTURES_DIR, 'wee.jpg')

describe('console in chromium', { skip }, () => {
  let fed: TestFederation
  let browser: Browser
  let page: Page
  let base: string
  let token: string
  const cspViolations: string[] = []

  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false })
  const go = async (label: string) => {
    await page.click(`nav >> text=${label}`)
  }
  const drop = async (file: string) => {
    const bytes = readFileSync(file).toString('base64')
    const transfer = await page.evaluateHandle(([b64, name]) => {
      const data = Uint8Array.from(atob(b64!), (c) => c.charCodeAt(0))
      const dt = new DataTransfer()
      dt.items.add(new File([data], name!, { type: 'image/jpeg' }))
      return dt
    }, [bytes, 'wee.jpg'])
    await page.dispatchEvent('[data-testid=dropzone]', 'drop', { dataTransfer: transfer })
  }

  before(async () => {
    mkdirSync(SHOTS, { recursive: true })
    await ensureConsoleBuilt()
    fed = await testFederation(['alice', 'bob', 'carol'], 300)
    await Promise.all(['alice', 'bob', 'carol'].map((n) => fed.start(n)))
    const alice = fed.node('alice')
    base = alice.apiUrl
    token = fed.members[0]!.identity.apiToken
    await waitFor('alice connected to bob and carol', () => (alice.node.net?.peers().length ?? 0) >= 2, 20_000)
    browser = await chromium.launch({ executablePath: findChromium(), args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] })
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
    page = await context.newPage()
    page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text()) })
  })
  after(async () => {
    await browser?.close()
    await fed?.close()
  })

  it('logs in with the API token; the token goes in no URL, cookie visible to scripts or storage', async () => {
    await page.goto(`${base}/ui`)
    await page.waitForSelector('[data-testid=login-form]')
    await shot('login')
    await page.fill('input[name=token]', 'wrong-token')
    await page.click('button[type=submit]')
    await page.waitForSelector('[role=alert]')
    assert.match(await page.textContent('[role=alert]') ?? '', /wrong token/)
    await page.fill('input[name=token]', token)
    await page.click('button[type=submit]')
    await page.waitForSelector('[data-testid=overview]')
    assert.ok(!page.url().includes(token))
    const visible = await page.evaluate(() => ({ cookie: document.cookie, local: JSON.stringify({ ...localStorage }), session: JSON.stringify({ ...sessionStorage }) }))
    assert.equal(visible.cookie, '', 'the session cookie is HttpOnly')
    assert.ok(!visible.local.includes(token) && !visible.session.includes(token))
    const cookies = await page.context().cookies()
    const session = cookies.find((c) => c.name === 'hashmesh_console')!
    assert.equal(session.httpOnly, true)
    assert.equal(session.sameSite, 'Strict')
    assert.equal(session.path, '/ui')
    assert.ok(session.expires > Date.now() / 1000 + 3600)
  })

  it('shows the peers of a 3-member federation, with the roster and feeds, refreshed without reloading', async () => {
    await page.waitForFunction(() => {
      const t = document.querySelector('[data-testid=peers]')?.textContent ?? ''
      return t.includes('bob') && t.includes('carol')
    }, undefined, { timeout: 15_000 })
    // latency from the ping sent at connect (each row: "N ms")
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=peers] tbody tr')].every((tr) => / \d+ ms$|^\d+ ms$/.test(tr.children[3]?.textContent ?? '')), undefined, { timeout: 10_000 })
    const cards = await page.textContent('[data-testid=overview]')
    assert.match(cards ?? '', /devnet/)
    assert.match(cards ?? '', /3 members/)
    const members = await page.textContent('[data-testid=members]')
    for (const name of ['alice', 'bob', 'carol']) assert.match(members ?? '', new RegExp(name))
    // bob contributes: alice's overview shows the new count without a reload
    const before = await page.textContent('[data-testid=signals]')
    const navigations: string[] = []
    page.on('framenavigated', (f) => navigations.push(f.url()))
    await fed.node('bob').node.contribute({ signals: [{ type: 'md5', value: randomBytes(16).toString('hex') }], labels: [], contentType: 'photo' })
    await page.waitForFunction((b) => document.querySelector('[data-testid=signals]')?.textContent !== b, before, { timeout: 12_000 })
    assert.deepEqual(navigations, [], 'updated in place')
    await page.waitForSelector('[data-testid=chart-received] canvas')
    await shot('overview')
  })

  let recordId: string
  it('contributes an image with taxonomy labels and shows the signed record', async () => {
    await go('Contribute')
    await page.setInputFiles('[data-testid=contribute-file]', IMAGE)
    await page.check('input[name="behavior:propaganda"]')
    await page.click('[data-testid=contribute-submit]')
    await page.waitForSelector('[data-testid=contributed]')
    const text = await page.textContent('[data-testid=contributed]') ?? ''
    assert.match(text, /behavior:propaganda/)
    assert.match(text, /"signature": "[0-9a-f]{128}"/)
    recordId = /"id": "([0-9a-f]{64})"/.exec(text)![1]!
    await shot('contribute')
  })

  it('searches by dropping an image: the match is explained and the media blurred until revealed', async () => {
    await go('Search')
    await drop(IMAGE)
    await page.waitForSelector('[data-testid=match]')
    const explained = await page.textContent('[data-testid=matches]') ?? ''
    assert.match(explained, /PDQ [0-9a-f]{16}… at distance 0/)
    assert.match(explained, /alice/)
    assert.match(explained, /behavior:propaganda/)
    assert.match(explained, /verified/)
    assert.match(explained, /Opinions:/)
    const media = page.locator('[data-testid=media]').first()
    assert.match(await media.getAttribute('class') ?? '', /shielded/)
    const filter = await media.evaluate((el) => getComputedStyle(el).filter)
    assert.match(filter, /blur\(24px\)/)
    assert.match(filter, /grayscale\(1\)/)
    await shot('search')
    await page.click('[data-testid=reveal]')
    assert.doesNotMatch(await media.getAttribute('class') ?? '', /shielded/)
    assert.equal(await media.evaluate((el) => getComputedStyle(el).filter), 'none')
  })

  it('opens the record (signals, labels, signature, canonical bytes), revokes it, and the match goes away', async () => {
    await page.click(`a[href="/ui/records/${recordId}"]`)
    await page.waitForSelector('[data-testid=record]')
    assert.match(await page.textContent('[data-testid=signature]') ?? '', /^verified/)
    assert.match(await page.textContent('[data-testid=signals]') ?? '', /pdq/)
    assert.match(await page.textContent('[data-testid=bytes]') ?? '', /^[0-9a-f]+$/)
    await shot('record')
    await page.click('[data-testid=revoke]')
    await page.click('[data-testid=revoke-confirm]')
    await page.waitForSelector('[data-testid=done]')
    assert.match(await page.textContent('[data-testid=done]') ?? '', /Revoked/)
    await go('Search')
    await drop(IMAGE)
    await page.waitForSelector('[data-testid=no-match]')
    // revealed once, remembered for the session: the same image shows unblurred
    const remembered = await page.evaluate(() => sessionStorage.getItem('hashmesh.revealed'))
    assert.doesNotMatch(await page.locator('[data-testid=media]').first().getAttribute('class') ?? '', /shielded/, `revealed: ${remembered}`)
  })

  it('lists feeds, signs an opinion on another member\'s record, and signs a roster proposal showing what it changes', async () => {
    await go('Records & feeds')
    await page.waitForSelector('[data-testid=feeds] >> text=bob')
    await shot('feeds')
    // an opinion on bob's record, confirmed first
    await page.click('[data-testid=feeds] >> text=bob')
    await page.click('[data-testid=feed-records] a[href^="/ui/records/"]')
    await page.waitForSelector('[data-testid=record]')
    await page.selectOption('select >> nth=1', 'false_positive')
    await page.click('[data-testid=opinion]')
    assert.match(await page.textContent('[role=alertdialog]') ?? '', /Sign "false_positive" on this signal\?/)
    await page.click('[data-testid=opinion-confirm]')
    await page.waitForSelector('[data-testid=done]')
    const opinions = (await fed.node('alice').node.status()).recordsByKind.opinion
    assert.equal(opinions, 1)
    // bob proposes adding dave and signs; alice signs in the console, which makes the majority
    const [alice, bob] = fed.members
    const dave = { name: 'dave', key: randomBytes(32).toString('hex'), peers: [] as string[] }
    const doc = { ...fed.roster.document, serial: 2, prev: fed.roster.id, members: [...fed.roster.document.members, dave], createdAt: Date.now() }
    const proposal = signRoster({ document: doc, signatures: [] }, new Signer(bob!.identity.memberKeyPair))
    await go('Roster')
    await page.fill('textarea[name=proposal]', rosterToJson(proposal))
    await page.click('[data-testid=add-proposal]')
    await page.waitForSelector('[data-testid=proposal]')
    assert.match(await page.textContent('[data-testid=changes]') ?? '', /add member dave/)
    assert.match(await page.textContent('[data-testid=proposal]') ?? '', /Signatures: 1 of 2 needed \(bob\)/)
    await shot('roster')
    await page.click('[data-testid=sign]')
    await page.click('[data-testid=sign-confirm]')
    await page.waitForSelector('[data-testid=roster-message]')
    assert.match(await page.textContent('[data-testid=roster-message]') ?? '', /installed as roster v2/)
    assert.equal(fed.node('alice').node.rosterView().current?.document.serial, 2)
    assert.ok(fed.node('alice').node.rosterView().current?.signatures.some((s) => s.key === alice!.identity.memberKey))
  })

  it('enforces its CSP and CSRF from inside the page', async () => {
    await go('Banks')
    await page.waitForSelector('[data-testid=banks]')
    await shot('banks')
    const declared = await fetch(`${base}/v1/incidents`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ title: 'Live-streamed attack', severity: 'critical' }) })
    assert.equal(declared.status, 201)
    await go('Incidents')
    await page.waitForSelector('[data-testid=incidents] >> text=Live-streamed attack')
    await shot('incidents')
    await go('Quarantine')
    await page.waitForSelector('[data-testid=quarantine]')
    assert.match(await page.textContent('[data-testid=quarantine]') ?? '', /Nothing held/)
    await shot('quarantine')
    assert.deepEqual(cspViolations, [], 'the console itself breaks no rule of its CSP')
    const outcome = await page.evaluate(async () => {
      const seen = new Promise<string>((resolve) => document.addEventListener('securitypolicyviolation', (e) => resolve(e.violatedDirective), { once: true }))
      const s = document.createElement('script')
      s.textContent = 'window.__injected = true'
      document.body.appendChild(s)
      const directive = await seen
      const res = await fetch('/ui/api/contributions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ signals: [{ type: 'md5', value: 'd'.repeat(32) }] }) })
      return { injected: (window as unknown as { __injected?: boolean }).__injected ?? false, directive, status: res.status, body: await res.json() }
    })
    assert.equal(outcome.injected, false)
    assert.match(outcome.directive, /script-src/)
    assert.equal(outcome.status, 403)
    assert.equal(outcome.body.error.code, 'CSRF_REFUSED')
  })

  it('logs out: back to the login form, and the session no longer works', async () => {
    await page.click('[data-testid=logout]')
    await page.waitForSelector('[data-testid=login-form]')
    const status = await page.evaluate(async () => (await fetch('/ui/api/overview')).status)
    assert.equal(status, 401)
    await page.goto(`${base}/ui/overview`)
    await page.waitForSelector('[data-testid=login-form]')
  })
})

/**
 * The web console at /ui, as an encapsulated fastify plugin beside the API routes (app.ts): the page
 * shell and its bundle (built at `npm ci` by scripts/build-console.mjs into dist/ui), and a JSON API
 * under /ui/api that calls the same use cases as /v1 (NodeService) — nothing here reaches into the node.
 *
 * Security: a login with the API token gives a session (HttpOnly, SameSite=Strict, Path=/ui cookie with
 * an expiry; sessions.ts); every state-changing request must carry the session's CSRF token in the
 * x-csrf-token header (403 CSRF_REFUSED otherwise); every response has a strict Content-Security-Policy
 * (no inline script or style, default-src 'self'); the token never appears in a URL or browser storage.
 * The console listens where the API does (127.0.0.1 by default).
 */
import { LoginThrottle } from './login-throttle.js'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import cookie from '@fastify/cookie'
import fastifyStatic from '@fastify/static'
import { Value } from '@sinclair/typebox/value'
import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { loadTaxonomy, PROJECT_ROOT } from '../../config.js'
import { fail } from '../../errors.js'
import type { RosterJson } from '../../node/contract.js'
import type { BanksService } from '../../node/banks-service.js'
import type { MediaFingerprint } from '../../node/media.js'
import { isBankSignalType } from '../../bank/types.js'
import type { LocalControlsApi } from '../../node/local-controls-service.js'
import type { IncidentsApi } from '../../node/incidents-service.js'
import type { NodeService } from '../../node/service.js'
import { tryDecodeAndVerify } from '../../record/codec.js'
import { fromHex } from '../../record/crypto.js'
import type { OpinionBody, RevokeReason, SignalType } from '../../record/types.js'
import * as S from '../schemas.js'
import { buildOverview } from './overview.js'
import { SESSION_TTL_MS, SessionStore, sameSecret, type Session } from './sessions.js'

export const CONSOLE_PREFIX = '/ui'
export const SESSION_COOKIE = 'hashmesh_console'
export const CSRF_HEADER = 'x-csrf-token'
/** Where the built bundle lives (scripts/build-console.mjs writes it). */
export const CONSOLE_ASSETS = join(PROJECT_ROOT, 'dist', 'ui')

/**
 * How long the overview reuses the quarantine's count: the quarantine answers with every entry (sorted,
 * grouped by member), ~100 ms with 10,000 records held, too much to ask every few seconds.
 */
export const QUARANTINE_COUNT_TTL_MS = 60_000

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ')

export interface ConsoleOptions {
  service: NodeService
  banks?: BanksService
  /** Local switches and the flood quarantine (issue 18), when the node has them: the Quarantine page. */
  localControls?: LocalControlsApi
  /** Declared incidents (the crisis fast path), when the node has them: the Incidents page and overview alerts. */
  incidents?: IncidentsApi
  token: () => string
  /** DIR/console.password (password.ts): when it gives one, the login takes it instead of the API token. */
  password?: () => string | undefined
  sessions?: SessionStore
  /** Where the built bundle is; CONSOLE_ASSETS by default. */
  assetsDir?: string
}

const LoginBody = Type.Object({ token: Type.String({ minLength: 1, maxLength: 4096 }) }, { additionalProperties: false })
const ProposalParams = Type.Object({ id: Type.String({ pattern: '^[0-9a-fA-F]{64}$' }) })
const IncidentsQuery = Type.Object({ all: Type.Optional(Type.Boolean()) })
const ReleaseBody = Type.Object({ records: Type.Array(Type.String({ pattern: '^[0-9a-fA-F]{64}$' }), { minItems: 1, maxItems: 1000 }) }, { additionalProperties: false })
const ActivityQuery = Type.Object({ minutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 1440 })), bucket: Type.Optional(Type.Integer({ minimum: 1, maximum: 60 })) })

const PAGES = ['', '/', '/overview', '/search', '/records', '/records/*', '/feeds/*', '/contribute', '/roster', '/banks', '/incidents', '/quarantine', '/login']
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

declare module 'fastify' {
  interface FastifyRequest { consoleSession?: Session }
}

export async function consoleRoutes(app: FastifyInstance, options: ConsoleOptions): Promise<void> {
  const { service } = options
  const sessions = options.sessions ?? new SessionStore()
  const assets = options.assetsDir ?? CONSOLE_ASSETS

  // The console's routes are the page's, not the /v1 API's: kept out of the OpenAPI document.
  app.addHook('onRoute', (route) => {
    route.schema = { ...(route.schema ?? {}), hide: true }
  })
  await app.register(cookie)
  app.addHook('onSend', async (_request, reply, payload) => {
    void reply.header('content-security-policy', CONTENT_SECURITY_POLICY)
    void reply.header('x-content-type-options', 'nosniff')
    void reply.header('x-frame-options', 'DENY')
    void reply.header('referrer-policy', 'no-referrer')
    void reply.header('cross-origin-opener-policy', 'same-origin')
    if (!reply.hasHeader('cache-control')) void reply.header('cache-control', 'no-store')
    return payload
  })
  // Every /ui/api route but the session probe and login needs a session; every state change its CSRF
  // token. Checked as the request arrives (after the cookie plugin's own onRequest), before any body is read.
  app.addHook('onRequest', async (request) => {
    const url = request.routeOptions.url ?? ''
    if (!url.startsWith(`${CONSOLE_PREFIX}/api/`) || url === `${CONSOLE_PREFIX}/api/session` || url === `${CONSOLE_PREFIX}/api/login`) return
    const session = sessions.get(request.cookies[SESSION_COOKIE])
    if (!session) fail('UNAUTHORIZED', 'not logged in to the console (or the session expired): log in again')
    if (!SAFE_METHODS.has(request.method) && !sameSecret(request.headers[CSRF_HEADER] as string | undefined, session.csrf)) {
      fail('CSRF_REFUSED', `a state-changing console request needs the session's CSRF token in the ${CSRF_HEADER} header`)
    }
    request.consoleSession = session
  })

  const built = existsSync(join(assets, 'index.html'))
  if (built) {
    await app.register(fastifyStatic, { root: assets, prefix: `${CONSOLE_PREFIX}/assets/`, decorateReply: false, index: false, cacheControl: true, maxAge: 60_000 })
  }
  const shell = async (_request: FastifyRequest, reply: FastifyReply) => {
    if (!built) fail('NOT_FOUND', 'the console is not built: run "npm run build" (scripts/build-console.mjs) and restart the node')
    return reply.type('text/html; charset=utf-8').send(pageShell())
  }
  for (const page of PAGES) app.get(`${CONSOLE_PREFIX}${page}`, shell)

  // ---- session ----
  app.get(`${CONSOLE_PREFIX}/api/session`, async (request) => {
    const session = sessions.get(request.cookies[SESSION_COOKIE])
    return session ? { authenticated: true, csrf: session.csrf, expiresAt: session.expiresAt } : { authenticated: false, login: loginSecret(options).kind }
  })

  const logins = new LoginThrottle()
  app.post(`${CONSOLE_PREFIX}/api/login`, async (request, reply) => {
    // JSON only (a cross-site form cannot send it without a CORS preflight), and from our own origin.
    checkSameOrigin(request)
    const { token } = checkBody(LoginBody, request.body)
    logins.check()
    const { secret, kind } = loginSecret(options)
    const right = sameSecret(token, secret)
    if (!right) logins.failed()
    if (!right) fail('UNAUTHORIZED', kind === 'password' ? 'wrong password: use the console password (DIR/console.password)' : 'wrong token: use the API token in DIR/api.token')
    const session = sessions.create()
    void reply.setCookie(SESSION_COOKIE, session.id, {
      path: CONSOLE_PREFIX,
      httpOnly: true,
      sameSite: 'strict',
      secure: request.protocol === 'https',
      maxAge: Math.floor(SESSION_TTL_MS / 1000),
      expires: new Date(session.expiresAt),
    })
    return { authenticated: true, csrf: session.csrf, expiresAt: session.expiresAt }
  })

  app.post(`${CONSOLE_PREFIX}/api/logout`, async (request, reply) => {
    sessions.destroy(request.consoleSession!.id)
    void reply.clearCookie(SESSION_COOKIE, { path: CONSOLE_PREFIX, httpOnly: true, sameSite: 'strict' })
    return { authenticated: false }
  })

  // ---- overview ----
  const quarantined = options.localControls ? cachedFor(QUARANTINE_COUNT_TTL_MS, async () => (await options.localControls!.quarantine()).records.length) : undefined
  const openIncidents = options.incidents ? async () => (await options.incidents!.incidents()).filter((i) => i.state === 'open').map((i) => ({ id: i.id, title: i.title, severity: i.severity })) : undefined
  app.get(`${CONSOLE_PREFIX}/api/overview`, async () => buildOverview(service, { quarantined, openIncidents }))
  app.get(`${CONSOLE_PREFIX}/api/activity`, { schema: { querystring: ActivityQuery } }, async (request) => {
    const { minutes, bucket } = request.query as Static<typeof ActivityQuery>
    return (await buildOverview(service, { minutes: minutes ?? 1440, bucketMinutes: bucket ?? 15 })).charts
  })

  // ---- search ----
  app.post(`${CONSOLE_PREFIX}/api/match`, { schema: { querystring: S.MediaQuery } }, async (request) => {
    const query = request.query as Static<typeof S.MediaQuery>
    if (Buffer.isBuffer(request.body)) {
      if (request.body.length === 0) fail('MEDIA_EMPTY', 'the dropped file is empty')
      const result = await service.matchMedia(request.body, query)
      return { ...result, banks: await bankMatches(options.banks, mediaSignals(result.query)) }
    }
    const body = checkBody(S.MatchBody, request.body)
    const signals = body.signals.map((s) => ({ type: s.type as SignalType, value: s.value }))
    const result = await service.match({ signals, threshold: body.threshold })
    return { ...result, banks: await bankMatches(options.banks, signals) }
  })

  // ---- records and feeds ----
  app.get(`${CONSOLE_PREFIX}/api/feeds`, async () => {
    const [feeds, status] = await Promise.all([service.feeds(), service.status()])
    const names = new Map(status.heads.map((h) => [h.feed, h.member]))
    return { own: status.member.key, feeds: feeds.map((f) => ({ ...f, member: names.get(f.feed) ?? null })) }
  })
  app.get(`${CONSOLE_PREFIX}/api/feeds/:feed`, { schema: { params: S.FeedParams, querystring: S.FeedQuery } }, async (request) => {
    const { feed } = request.params as Static<typeof S.FeedParams>
    const { from, limit } = request.query as Static<typeof S.FeedQuery>
    return service.feed(feed, { from, limit: limit ?? 50 })
  })
  app.get(`${CONSOLE_PREFIX}/api/records/:id`, { schema: { params: S.IdParams } }, async (request) => {
    const { id } = request.params as Static<typeof S.IdParams>
    const view = await service.record(id)
    const verified = tryDecodeAndVerify(fromHex(view.bytes, view.bytes.length / 2, 'record'))
    const signature = 'error' in verified ? { verified: false, error: verified.error } : { verified: true }
    const status = await service.status()
    return { ...view, own: view.record.author === status.member.key, author: status.heads.find((h) => h.feed === view.record.author)?.member ?? null, signature }
  })
  app.post(`${CONSOLE_PREFIX}/api/records/:id/revoke`, { schema: { params: S.IdParams, body: S.RevokeBody } }, async (request, reply) => {
    const { id } = request.params as Static<typeof S.IdParams>
    const body = (request.body ?? {}) as Static<typeof S.RevokeBody>
    return reply.status(201).send(await service.revoke(id, { signal: body.signal, reason: body.reason as RevokeReason | undefined }))
  })
  app.post(`${CONSOLE_PREFIX}/api/opinions`, { schema: { body: S.OpinionBody } }, async (request, reply) => {
    return reply.status(201).send(await service.opinion(request.body as OpinionBody))
  })

  // ---- contribute ----
  app.get(`${CONSOLE_PREFIX}/api/taxonomy`, async () => loadTaxonomy())
  app.post(`${CONSOLE_PREFIX}/api/contributions`, { schema: { querystring: S.MediaQuery } }, async (request, reply) => {
    const query = request.query as Static<typeof S.MediaQuery>
    const result = Buffer.isBuffer(request.body)
      ? await service.contributeMedia(request.body, query)
      : await service.contribute(checkBody(S.ContributionBody, request.body))
    const records = await Promise.all(result.records.map((r) => service.record(r.id)))
    return reply.status(201).send({ ...result, signed: records })
  })

  // ---- roster ----
  app.get(`${CONSOLE_PREFIX}/api/roster`, async () => {
    const [roster, proposals, status] = await Promise.all([service.roster(), service.rosterProposals(), service.status()])
    const current = roster.versions.at(-1) ?? null
    return { pin: roster.pin, current, history: roster.versions.map((v) => ({ serial: v.document.serial, id: v.id, members: v.document.members.length, createdAt: v.document.createdAt })), proposals, me: status.member.key }
  })
  app.post(`${CONSOLE_PREFIX}/api/roster/proposals`, { schema: { body: S.RosterBody } }, async (request, reply) => {
    return reply.status(201).send(await service.addRosterProposal(request.body as RosterJson))
  })
  app.post(`${CONSOLE_PREFIX}/api/roster/proposals/:id/sign`, { schema: { params: ProposalParams } }, async (request) => {
    const { id } = request.params as Static<typeof ProposalParams>
    return service.signRosterProposal(id)
  })

  // ---- incidents ----
  app.get(`${CONSOLE_PREFIX}/api/incidents`, { schema: { querystring: IncidentsQuery } }, async (request) => {
    if (!options.incidents) return { available: false, incidents: [] }
    const { all } = request.query as Static<typeof IncidentsQuery>
    return { available: true, incidents: await options.incidents.incidents({ all: all ?? false }) }
  })

  // ---- quarantine (flood quarantine of other members' records, node/local-controls-service.ts) ----
  app.get(`${CONSOLE_PREFIX}/api/quarantine`, async () => {
    if (!options.localControls) return { available: false }
    return { available: true, ...(await options.localControls.quarantine()) }
  })
  app.post(`${CONSOLE_PREFIX}/api/quarantine/release`, { schema: { body: ReleaseBody } }, async (request) => {
    if (!options.localControls) fail('NOT_FOUND', 'this node has no quarantine')
    const { records } = request.body as Static<typeof ReleaseBody>
    return options.localControls.releaseQuarantine({ records, by: 'console' })
  })

  // ---- banks (src/bank, the HMA /c/ routes) ----
  app.get(`${CONSOLE_PREFIX}/api/banks`, async () => {
    if (!options.banks) return { available: false, banks: [] }
    return { available: true, banks: await options.banks.listBanks() }
  })
}

/** The query's signals that banks hold (PDQ, MD5, SHA-256 of a dropped image). */
function mediaSignals(fp: MediaFingerprint): Array<{ type: string; value: string }> {
  if (fp.kind === 'image') return [{ type: 'pdq', value: fp.pdq.hash }, { type: 'md5', value: fp.md5 }, { type: 'sha256', value: fp.sha256 }]
  return [] // a video's vPDQ here is the digest of its frame list, not HMA's frame hashes
}

/**
 * Matches in this node's own banks (local, negative, shared; src/bank) for each query signal, as HMA's
 * lookup explains them, coin flip bypassed (a reviewer sees every bank). Member banks are left out: the
 * federation's matches are already listed. Asked only when the node has banks of its own.
 */
async function bankMatches(banks: BanksService | undefined, signals: Array<{ type: string; value: string }>) {
  if (!banks || !(await banks.listBanks()).some((b) => b.kind !== 'member')) return []
  const out: Array<{ type: string; value: string; banks: Array<{ bank: string; kind: string; distance: number; contentId?: number }>; suppressedBy: string[] }> = []
  for (const s of signals) {
    if (!isBankSignalType(s.type) || s.type === 'vpdq') continue
    const found = await banks.lookup(s.type, s.value, { bypassCoinflip: true })
    const local = found.matches.filter((m) => m.kind !== 'member').map((m) => ({ bank: m.bank, kind: m.kind, distance: m.distance, contentId: m.contentId }))
    if (local.length > 0) out.push({ type: s.type, value: s.value, banks: local, suppressedBy: found.suppressedBy })
  }
  return out
}

/** The page shell: one stylesheet and one module script, both files of ours (no inline code). */
function pageShell(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>hashmesh console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${CONSOLE_PREFIX}/assets/app.css">
<script type="module" src="${CONSOLE_PREFIX}/assets/app.js"></script>
</head>
<body><div id="app"></div></body>
</html>
`
}

/** The answer of `ask`, reused for `ttlMs` (a failed answer too, so a failing source is not hammered). */
function cachedFor<T>(ttlMs: number, ask: () => Promise<T>): () => Promise<T> {
  let last: { at: number; answer: Promise<T> } | undefined
  return () => {
    const now = Date.now()
    if (!last || now - last.at >= ttlMs) last = { at: now, answer: ask() }
    return last.answer
  }
}

/** What the login takes: the console password when DIR/console.password exists, else the API token. */
function loginSecret(options: ConsoleOptions): { secret: string; kind: 'password' | 'token' } {
  try {
    const password = options.password?.()
    return password === undefined ? { secret: options.token(), kind: 'token' } : { secret: password, kind: 'password' }
  } catch (cause) {
    // unreadable or unsafe (mode, length): the server's fault, details in the log only
    fail('INTERNAL', 'cannot read the console password or the API token', { cause })
  }
}

/** A login must come from a page of this origin when the browser says where it comes from. */
function checkSameOrigin(request: FastifyRequest): void {
  const origin = request.headers.origin
  if (origin === undefined) return
  const host = request.headers.host
  if (!host || (origin !== `http://${host}` && origin !== `https://${host}`)) fail('CSRF_REFUSED', `login from another origin (${origin}) refused`)
}

function checkBody<T extends TSchema>(schema: T, body: unknown): Static<T> {
  if (body === undefined || body === null || typeof body !== 'object' || Buffer.isBuffer(body)) fail('BAD_REQUEST', 'expected a JSON object body')
  if (!Value.Check(schema, body)) {
    const first = [...Value.Errors(schema, body)][0]
    fail('BAD_REQUEST', `invalid body${first ? `: ${first.path || '(root)'} ${first.message}` : ''}`)
  }
  return body as Static<T>
}

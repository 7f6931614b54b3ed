/**
 * Meta's HMA (OpenMediaMatch 1.1.7) routes at HMA's own paths, parameters, status codes and JSON shapes,
 * over the node's banks (node/banks-service.ts); docs/hma.md lists every route and how each differs.
 * An encapsulated plugin: its error handler answers HMA's `{"message": …}` bodies, its multipart parser
 * takes HMA's uploads (the field name is the content type). Each route declares its auth in its route config
 * (route-auth.ts), which the app's one token check honours: the bearer token by default; config hma.auth
 * may take the token from another header, or none on a loopback-only node. `?url=` media is fetched by
 * node/media-fetch.ts (allow-list, size cap, time-out, no private addresses).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import multipart from '@fastify/multipart'
import { fail, HashmeshError, isHashmeshError } from '../errors.js'
import type { BanksService, MemberBank } from '../node/banks-service.js'
import { CONTENT_TYPES, type BankConfig, type BankContent, type BankKind, BANK_KINDS } from '../bank/types.js'
import type { Config } from '../config.js'
import { toHttpError } from './errors.js'
import { isLoopbackHost, type RouteAuth } from './route-auth.js'

export interface HmaRoutesOptions {
  /** The node's banks, with the node's one decode gate (NodeService.banksService). */
  service: BanksService
  /** Largest upload to /h/hash, /m/lookup and /c/bank/…/content (bytes). */
  bodyLimitBytes: number
}

/** HMA's routes, as its /site-map lists them (Flask's <param> syntax). */
export const HMA_ROUTES = [
  '/status', '/status/live', '/site-map',
  '/h/hash',
  '/m/raw_lookup', '/m/lookup', '/m/compare', '/m/index/status',
  '/c/banks', '/c/bank/<bank_name>', '/c/bank/<bank_name>/content', '/c/bank/<bank_name>/content/<content_id>', '/c/bank/<bank_name>/signal',
  '/c/signal_type', '/c/signal_type/index', '/c/content_type',
] as const

/**
 * hma.auth "none" is allowed only on a node whose API is bound to loopback: refused here (at start)
 * when api.host is anything else.
 */
export function checkHmaAuth(config: { api: { host: string }; hma: Pick<Config['hma'], 'auth'> }, host = config.api.host): void {
  if (config.hma.auth === 'none' && !isLoopbackHost(host)) {
    fail('CONFIG_INVALID', `hma.auth "none" needs api.host on loopback (127.0.0.1 or ::1), not ${host}`, { details: { key: 'hma.auth' } })
  }
}

/** The route auth of every HMA route, from config hma.auth ("none": loopback connections need no token). */
export function hmaRouteAuth(auth: Config['hma']['auth']): RouteAuth {
  if (auth === 'token') return 'bearer'
  if (auth === 'none') return 'loopback'
  return { header: auth.header }
}

function hmaError(reply: FastifyReply, err: unknown): FastifyReply {
  const status = isHashmeshError(err) && typeof err.details?.status === 'number' ? err.details.status : toHttpError(err).status
  const { body } = toHttpError(err)
  return reply.status(status).send({ message: body.error.message })
}

function bankJson(bank: BankConfig | MemberBank): Record<string, unknown> {
  return { name: bank.name, matching_enabled_ratio: bank.matchingEnabledRatio, ...(bank.kind !== 'local' ? { kind: bank.kind } : {}) }
}

function contentJson(content: BankContent, bank: BankConfig, includeSignals: boolean): Record<string, unknown> {
  return {
    id: content.id,
    disable_until_ts: content.disableUntilTs,
    collab_metadata: {},
    original_media_uri: content.metadata?.content_uri ?? null,
    bank: bankJson(bank),
    note: content.note,
    metadata: content.metadata,
    created_at: Math.floor(content.createdAt / 1000),
    updated_at: Math.floor(content.updatedAt / 1000),
    ...(includeSignals ? { signals: content.signals } : {}),
    ...(content.records ? { records: content.records } : {}),
  }
}

const bool = (value: unknown): boolean => typeof value === 'string' && ['1', 'true', 'yes', 'on'].includes(value.toLowerCase())

function required(query: Record<string, unknown>, name: string): string {
  const value = query[name]
  if (typeof value !== 'string' || value.length === 0) fail('BAD_REQUEST', `${name} is required`)
  return value
}

function contentId(raw: string): number {
  const id = Number(raw)
  if (!Number.isSafeInteger(id) || id < 1) fail('NOT_FOUND', `no content ${raw}`)
  return id
}

function jsonObject(body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) fail('BAD_REQUEST', 'this endpoint expects a json object payload')
  return body as Record<string, unknown>
}

/** The one uploaded file of an HMA multipart request, by its field name (the content type). */
async function uploadedMedia(request: FastifyRequest): Promise<{ contentType: string; bytes: Buffer }> {
  if (!request.isMultipart()) fail('BAD_REQUEST', 'Missing multipart/form-data file upload')
  const files: Array<{ contentType: string; bytes: Buffer }> = []
  for await (const part of request.parts()) {
    if (part.type !== 'file') continue
    files.push({ contentType: part.fieldname, bytes: await part.toBuffer() })
    if (files.length > 1) fail('BAD_REQUEST', 'Only one file allowed per request')
  }
  if (files.length === 0) fail('BAD_REQUEST', 'Missing multipart/form-data file upload')
  if (!(files[0]!.contentType in CONTENT_TYPES)) fail('BAD_REQUEST', `no such content_type: '${files[0]!.contentType}'`)
  return files[0]!
}

/** `?url=`, when given (an empty one is a missing one). */
function urlParam(query: Record<string, unknown>): string | undefined {
  return typeof query.url === 'string' && query.url.length > 0 ? query.url : undefined
}

/** `content_type` of a `?url=` request (HMA's), checked by the service. */
function contentTypeParam(query: Record<string, unknown>): string | undefined {
  return typeof query.content_type === 'string' && query.content_type.length > 0 ? query.content_type : undefined
}

export async function hmaRoutes(app: FastifyInstance, options: HmaRoutesOptions): Promise<void> {
  const { service } = options
  checkHmaAuth(service.node.config)
  const auth = hmaRouteAuth(service.node.config.hma.auth)

  await app.register(async (hma) => {
    hma.setErrorHandler((err, _request, reply) => hmaError(reply, err))
    // Out of the /v1 OpenAPI document (/docs): these routes are HMA's, documented in docs/hma.md. Each
    // declares the auth hma.auth sets; the app's token check honours it.
    hma.addHook('onRoute', (route) => {
      route.schema = { ...(route.schema ?? {}), hide: true }
      route.config = { ...(route.config ?? {}), auth } as typeof route.config
    })
    await hma.register(multipart, { limits: { fileSize: options.bodyLimitBytes, files: 2, fields: 16 }, throwFileSizeLimit: true })

    hma.get('/status', async (_request, reply) => {
      if (!service.isReady()) return reply.status(503).type('text/plain').send('INDEX-NOT-LOADED')
      return reply.type('text/plain').send('I-AM-ALIVE')
    })
    hma.get('/status/live', async (_request, reply) => reply.type('text/plain').send('I-AM-ALIVE'))
    hma.get('/site-map', async () => [...HMA_ROUTES].sort())

    // ---- hashing ----
    hma.get('/h/hash', async (request, reply) => {
      const query = request.query as Record<string, unknown>
      return service.hashUrl(required(query, 'url'), contentTypeParam(query), { signal: clientGone(reply) })
    })
    hma.post('/h/hash', async (request, reply) => {
      const { contentType, bytes } = await uploadedMedia(request)
      return service.hashMedia(contentType, bytes, { signal: clientGone(reply) })
    })

    // ---- matching ----
    hma.get('/m/raw_lookup', async (request) => {
      const query = request.query as Record<string, unknown>
      const value = required(query, 'signal')
      const type = service.checkSignalType(required(query, 'signal_type'))
      const hits = await service.rawLookup(type, value)
      return { matches: bool(query.include_distance) ? hits.map((h) => ({ content_id: h.contentId, distance: String(h.distance) })) : hits.map((h) => h.contentId) }
    })
    const lookupOptions = (query: Record<string, unknown>) => ({
      seed: typeof query.seed === 'string' ? query.seed : undefined,
      bypassCoinflip: bool(query.bypass_coinflip),
    })
    const answer = (reply: FastifyReply, result: Awaited<ReturnType<BanksService['lookup']>>, explain: boolean) => {
      if (result.suppressedBy.length > 0) void reply.header('x-hashmesh-negative-match', result.suppressedBy.join(','))
      return explain ? { banks: result.banks, suppressed_by: result.suppressedBy, matches: result.matches } : result.banks
    }
    /** HMA's lookup of media (uploaded or by url): per signal type of its hashes, the banks. */
    const lookupHashes = async (reply: FastifyReply, query: Record<string, unknown>, hashes: Record<string, string>) => {
      const out: Record<string, unknown> = {}
      const suppressed = new Set<string>()
      for (const [type, value] of Object.entries(hashes)) {
        const result = await service.lookup(service.checkSignalType(type), value, lookupOptions(query))
        for (const name of result.suppressedBy) suppressed.add(name)
        out[type] = bool(query.explain) ? { banks: result.banks, suppressed_by: result.suppressedBy, matches: result.matches } : result.banks
      }
      if (suppressed.size > 0) void reply.header('x-hashmesh-negative-match', [...suppressed].join(','))
      return out
    }
    hma.get('/m/lookup', async (request, reply) => {
      const query = request.query as Record<string, unknown>
      const url = urlParam(query)
      if (url !== undefined) return lookupHashes(reply, query, await service.hashUrl(url, contentTypeParam(query), { signal: clientGone(reply) }))
      const value = required(query, 'signal')
      const type = service.checkSignalType(required(query, 'signal_type'))
      return answer(reply, await service.lookup(type, value, lookupOptions(query)), bool(query.explain))
    })
    hma.post('/m/lookup', async (request, reply) => {
      const { contentType, bytes } = await uploadedMedia(request)
      return lookupHashes(reply, request.query as Record<string, unknown>, await service.hashMedia(contentType, bytes, { signal: clientGone(reply) }))
    })
    hma.post('/m/compare', async (request) => {
      const body = jsonObject(request.body)
      const out: Record<string, unknown> = {}
      for (const [name, pair] of Object.entries(body)) {
        const type = service.checkSignalType(name)
        if (!Array.isArray(pair)) fail('BAD_REQUEST', `Comparison hashes for ${name} was not a list`)
        if (pair.length !== 2) fail('BAD_REQUEST', 'Comparison hash list length must be exactly 2')
        out[name] = service.compare(type, pair[0], pair[1])
      }
      return out
    })
    hma.get('/m/index/status', async (request) => {
      const status = await service.indexStatus()
      const only = (request.query as Record<string, unknown>).signal_type
      if (typeof only === 'string') return { [only]: status[service.checkSignalType(only)] }
      return status
    })

    // ---- curation ----
    hma.get('/c/banks', async () => (await service.listBanks()).map(bankJson))
    hma.post('/c/banks', async (request, reply) => {
      const body = jsonObject(request.body)
      if (body.name === undefined) fail('BAD_REQUEST', 'name is required')
      const bank = await service.createBank({ name: body.name, matchingEnabledRatio: ratioOf(body), kind: kindOf(body.kind) })
      return reply.status(201).send(bankJson(bank))
    })
    hma.get('/c/bank/:bank', async (request) => bankJson(await service.getBank(bankParam(request))))
    hma.put('/c/bank/:bank', async (request) => {
      const body = jsonObject(request.body)
      const update = { name: body.name as string | undefined, matchingEnabledRatio: ratioOf(body), kind: kindOf(body.kind) }
      return bankJson(await service.updateBank(bankParam(request), update))
    })
    hma.delete('/c/bank/:bank', async (request) => {
      await service.deleteBank(bankParam(request))
      return { message: 'Done' }
    })
    hma.post('/c/bank/:bank/content', async (request, reply) => {
      const bank = bankParam(request)
      await service.getBank(bank) // 404 before anything is fetched or hashed
      const query = request.query as Record<string, unknown>
      const url = urlParam(query)
      if (url !== undefined) {
        const signals = await service.hashUrl(url, contentTypeParam(query), { signal: clientGone(reply) })
        return addedJson(await service.addContent(bank, { signals, metadata: { content_uri: url } }))
      }
      if (request.isMultipart()) {
        const { contentType, bytes } = await uploadedMedia(request)
        return addedJson(await service.addContent(bank, { signals: await service.hashMedia(contentType, bytes, { signal: clientGone(reply) }) }))
      }
      const body = request.body === undefined ? {} : jsonObject(request.body)
      if (body.signals === undefined) fail('BAD_REQUEST', 'Neither `url` nor multipart file upload was received')
      const signals = jsonObject(body.signals)
      return addedJson(await service.addContent(bank, { signals, note: typeof body.note === 'string' ? body.note : null, metadata: body.metadata }))
    })
    hma.get('/c/bank/:bank/content/:id', async (request) => {
      const bank = await service.getBank(bankParam(request))
      if (bank.kind === 'member') fail('NOT_FOUND', `bank '${bank.name}' is a federation member's feed: its records are at /v1/feeds/${bank.member}`)
      const content = await service.getContent(bank.name, contentId((request.params as { id: string }).id))
      return contentJson(content, bank, bool((request.query as Record<string, unknown>).include_signals))
    })
    hma.put('/c/bank/:bank/content/:id', async (request) => {
      const body = jsonObject(request.body)
      const bank = await service.getBank(bankParam(request))
      if (bank.kind === 'member') fail('NOT_FOUND', `bank '${bank.name}' has no content ${(request.params as { id: string }).id}`)
      const content = await service.updateContent(bank.name, contentId((request.params as { id: string }).id), {
        disableUntilTs: body.disable_until_ts, note: body.note as string | null | undefined, metadata: body.metadata,
      })
      return contentJson(content, bank, false)
    })
    hma.delete('/c/bank/:bank/content/:id', async (request) => {
      const bank = await service.getBank(bankParam(request))
      if (bank.kind === 'member') return { deleted: 0 }
      return { deleted: await service.deleteContent(bank.name, contentId((request.params as { id: string }).id)) }
    })
    hma.post('/c/bank/:bank/signal', async (request) => {
      const bank = bankParam(request)
      await service.getBank(bank)
      return addedJson(await service.addContent(bank, { signals: jsonObject(request.body) }))
    })
    hma.get('/c/signal_type', async () => service.signalTypes().map((name) => ({ name, enabled_ratio: 1.0 })))
    hma.get('/c/signal_type/index', async (request) => {
      const status = await service.indexStatus()
      const only = (request.query as Record<string, unknown>).signal_type
      const types = typeof only === 'string' ? [service.checkSignalType(only)] : service.signalTypes()
      return Object.fromEntries(types.map((t) => [t, { db_size: status[t].size, index_size: status[t].size, index_out_of_date: false, newest_db_item: status[t].built_to, index_built_to: status[t].built_to }]))
    })
    hma.get('/c/content_type', async () => Object.keys(CONTENT_TYPES).map((name) => ({ name, enabled: true })))
  })
}

/** Aborted when the client goes away before its answer is sent: its fetch and decode stop. */
function clientGone(reply: FastifyReply): AbortSignal {
  const controller = new AbortController()
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort(new HashmeshError('BAD_REQUEST', 'the client closed the connection'))
  })
  return controller.signal
}

function bankParam(request: FastifyRequest): string {
  return (request.params as { bank: string }).bank
}

function addedJson(content: BankContent): { id: number; signals: BankContent['signals'] } {
  return { id: content.id, signals: content.signals }
}

/** HMA's enabled_ratio, or enabled true/false as 1/0. */
function ratioOf(body: Record<string, unknown>): number | undefined {
  if (body.enabled_ratio !== undefined) {
    const ratio = Number(body.enabled_ratio)
    if (!Number.isFinite(ratio)) fail('BAD_REQUEST', 'enabled_ratio must be a number')
    return ratio
  }
  if (body.enabled !== undefined) return body.enabled === true || bool(String(body.enabled)) ? 1 : 0
  return undefined
}

function kindOf(kind: unknown): BankKind | undefined {
  if (kind === undefined) return undefined
  if (typeof kind !== 'string' || !(BANK_KINDS as readonly string[]).includes(kind)) fail('BAD_REQUEST', `kind must be one of ${BANK_KINDS.join(', ')}`)
  return kind as BankKind
}


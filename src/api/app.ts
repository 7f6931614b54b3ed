/**
 * The HTTP API for local services, as a fastify plugin: routes, schemas, the token check, error mapping.
 * Every route calls the node's use-case contract (node/contract.ts) through NodeService; nothing here
 * reaches into the node. server.ts owns the fastify instance, its logger, listen and graceful close.
 * Every route but /v1/health and the OpenAPI document (/docs: it describes routes, not data) needs the
 * bearer token, unless it declares another auth in its route config (route-auth.ts: the HMA routes do).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { Static, TSchema } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { fail, HashmeshError } from '../errors.js'
import type { RosterJson } from '../node/contract.js'
import type { NodeService } from '../node/service.js'
import type { OpinionBody, RevokeReason, SignalType } from '../record/types.js'
import { toHttpError } from './errors.js'
import { routeDocs } from './openapi-docs.js'
import { checkRouteAuth, routeAuthOf } from './route-auth.js'
import { isWarmUp } from './warm-up.js'
import { bankRoutes } from './bank-routes.js'
import { importRoutes } from './import-routes.js'
import type { ApiMetrics } from './metrics.js'
import * as S from './schemas.js'

export interface RoutesOptions {
  service: NodeService
  metrics: ApiMetrics
  token: string | (() => string)
  bodyLimitBytes: number
}

// fastify tests this against the whole header, parameters included ("application/octet-stream; x=y").
const RAW_TYPES = /^(application\/octet-stream|image\/[^;\s]+|video\/[^;\s]+)\s*(;.*)?$/i

function rawBody(request: FastifyRequest): Uint8Array {
  if (!Buffer.isBuffer(request.body)) fail('MEDIA_UNSUPPORTED', 'send JSON, or the raw media bytes as application/octet-stream, image/* or video/*')
  if (request.body.length === 0) fail('MEDIA_EMPTY', 'the request body is empty')
  return request.body
}

/** Aborted when the client goes away before its answer is sent: its decode or ffmpeg work stops, a queued one leaves the queue. */
function clientGone(reply: FastifyReply): AbortSignal {
  const controller = new AbortController()
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort(new HashmeshError('BAD_REQUEST', 'the client closed the connection'))
  })
  return controller.signal
}

/** Registered on the root instance (not encapsulated: the error, not-found and auth handlers are the app's). */
export async function hashmeshRoutes(app: FastifyInstance, options: RoutesOptions): Promise<void> {
  const { service, metrics } = options
  const currentToken = typeof options.token === 'function' ? options.token : () => options.token as string

  app.removeContentTypeParser('text/plain')
  app.addContentTypeParser(RAW_TYPES, { parseAs: 'buffer', bodyLimit: options.bodyLimitBytes }, (_req, body, done) => done(null, body))
  app.setErrorHandler((err, request, reply) => {
    const { status, body, headers } = toHttpError(err)
    if (status >= 500 && body.error.code !== 'BUSY') request.log.error({ err }, 'request failed')
    if (headers) void reply.headers(headers)
    void reply.status(status).send(body)
  })
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ error: { code: 'NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` } })
  })
  app.addHook('onRequest', async (request) => {
    // By route, not by URL: '/v1/health?probe=1' is still the health check. A route may declare its own auth.
    checkRouteAuth(request, isOpenRoute(request.routeOptions.url) ? 'open' : routeAuthOf(request), currentToken)
  })
  // While the node starts (its index is rebuilt, which takes a while at millions of signals), the API
  // already listens: status routes answer (HMA's /status says 503 INDEX-NOT-LOADED), the rest 503 BUSY.
  app.addHook('preHandler', async (request) => {
    if (service.node.starting && !answersWhileStarting(request.routeOptions.url)) {
      fail('BUSY', 'the node is starting: its match index is being built; retry in a few seconds')
    }
  })
  app.addHook('onResponse', async (request, reply) => {
    if (!isWarmUp(request)) metrics.observeRequest(request.routeOptions.url ?? 'unknown', request.method, reply.statusCode, reply.elapsedTime / 1000)
  })

  await app.register(swagger, {
    openapi: {
      info: { title: 'hashmesh node API', version: '1', description: 'Query and contribute to your own node. The content you check never leaves it.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: ({ schema, url, route }) => {
      const method = Array.isArray(route.method) ? route.method[0]! : route.method
      return { schema: { ...schema, ...routeDocs(method, url) } as typeof schema, url }
    },
  })
  await app.register(swaggerUi, { routePrefix: '/docs' })

  app.get('/v1/health', async () => ({ ok: true }))
  app.get('/v1/status', async () => service.status())
  app.get('/v1/equivocations', async () => ({ equivocations: await service.equivocations() }))
  app.get('/v1/peers', async () => ({ peers: await service.peers() }))
  app.get('/metrics', async (_request, reply) => {
    void reply.header('content-type', metrics.registry.contentType)
    return metrics.registry.metrics()
  })

  app.post('/v1/hash', { schema: { querystring: S.MediaQuery } }, async (request, reply) => {
    const query = request.query as Static<typeof S.MediaQuery>
    return service.hashMedia(rawBody(request), query, { signal: clientGone(reply) })
  })

  app.post('/v1/match', { schema: { querystring: S.MediaQuery } }, async (request, reply) => {
    const query = request.query as Static<typeof S.MediaQuery>
    if (Buffer.isBuffer(request.body)) return service.matchMedia(rawBody(request), query, { signal: clientGone(reply) })
    const body = checkJson(S.MatchBody, request.body)
    const signals = body.signals.map((s) => ({ type: s.type as SignalType, value: s.value }))
    return service.match({ signals, threshold: body.threshold ?? query.threshold }, { signal: clientGone(reply) })
  })

  app.post('/v1/contributions', { schema: { querystring: S.MediaQuery } }, async (request, reply) => {
    const query = request.query as Static<typeof S.MediaQuery>
    const result = Buffer.isBuffer(request.body)
      ? await service.contributeMedia(rawBody(request), query, { signal: clientGone(reply) })
      : await service.contribute(checkJson(S.ContributionBody, request.body))
    return reply.status(201).send(result)
  })

  // The body is optional (`curl -X POST …/revoke` revokes every signal): validate an absent body as {}.
  const revokeBodyOptional = async (request: FastifyRequest) => {
    request.body ??= {}
  }
  app.post('/v1/contributions/:id/revoke', { schema: { params: S.IdParams, body: S.RevokeBody }, preValidation: revokeBodyOptional }, async (request, reply) => {
    const { id } = request.params as Static<typeof S.IdParams>
    const body = request.body as Static<typeof S.RevokeBody>
    return reply.status(201).send(await service.revoke(id, { signal: body.signal, reason: body.reason as RevokeReason | undefined }))
  })

  app.post('/v1/opinions', { schema: { body: S.OpinionBody } }, async (request, reply) => {
    const body = request.body as Static<typeof S.OpinionBody>
    return reply.status(201).send(await service.opinion(body as OpinionBody))
  })

  app.get('/v1/records/:id', { schema: { params: S.IdParams } }, async (request) => {
    const { id } = request.params as Static<typeof S.IdParams>
    return service.record(id)
  })

  app.post('/v1/records', { schema: { body: S.ImportBody } }, async (request) => {
    const { records } = request.body as Static<typeof S.ImportBody>
    return { results: await service.importRecords(records) }
  })

  app.get('/v1/feeds', async () => ({ feeds: await service.feeds() }))
  app.get('/v1/feeds/:feed', { schema: { params: S.FeedParams, querystring: S.FeedQuery } }, async (request) => {
    const { feed } = request.params as Static<typeof S.FeedParams>
    const { from, limit } = request.query as Static<typeof S.FeedQuery>
    return service.feed(feed, { from, limit })
  })

  app.get('/v1/roster', async () => service.roster())
  app.post('/v1/roster', { schema: { body: S.RosterBody } }, async (request, reply) => {
    const result = await service.installRoster(request.body as RosterJson)
    return reply.status(result.verdict === 'accepted' ? 201 : 200).send(result)
  })

  bankRoutes(app, service.banks)
  importRoutes(app, service)
}

/** Status routes: they answer while the node starts (the rest say 503 BUSY); each still needs its own auth. */
const STATUS_ROUTES: ReadonlySet<string> = new Set(['/v1/health', '/v1/status', '/metrics', '/status', '/status/live', '/site-map', '/m/index/status'])

function answersWhileStarting(url: string | undefined): boolean {
  if (url === undefined) return true // not found: the 404 handler answers
  return STATUS_ROUTES.has(url) || url === '/docs' || url.startsWith('/docs/') || ((url === '/ui' || url.startsWith('/ui/')) && !url.startsWith('/ui/api/'))
}

/** Routes that need no bearer token: the health check, the OpenAPI document with its UI (routes, not data), the console. */
function isOpenRoute(url: string | undefined): boolean {
  // /ui: the console checks its own session cookie (console/routes.ts); the bearer token is for programs.
  return url === '/v1/health' || url === '/docs' || (url?.startsWith('/docs/') ?? false) || url === '/ui' || (url?.startsWith('/ui/') ?? false)
}

/** Validates a JSON body that shares a route with raw media (so no route-level body schema). */
function checkJson<T extends TSchema>(schema: T, body: unknown): Static<T> {
  if (body === undefined || body === null || typeof body !== 'object') fail('BAD_REQUEST', 'expected a JSON object body')
  if (!Value.Check(schema, body)) {
    const first = [...Value.Errors(schema, body)][0]
    fail('BAD_REQUEST', `invalid body${first ? `: ${first.path || '(root)'} ${first.message}` : ''}`)
  }
  return body as Static<T>
}

/**
 * The HTTP API for local services (the only fastify importer with server.ts). A pure plugin over a node:
 * routes + schemas, tested with app.inject. Every route but /v1/health needs the bearer token.
 */
import { timingSafeEqual } from 'node:crypto'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { Static, TSchema } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { fail, HashmeshError } from '../errors.js'
import { fromHex } from '../record/crypto.js'
import { encodeSignedRoster, rosterFromJson } from '../record/roster.js'
import type { DecodeGate } from '../hash/decode-gate.js'
import type { HashmeshNode } from '../node/node.js'
import { contributionSignals, createDecodeGate, fingerprintMedia, matchQueries } from '../node/media.js'
import { recordView } from '../node/views.js'
import type { RevokeReason, SignalType } from '../record/types.js'
import type { ReceiveResult } from '../sync/types.js'
import { toHttpError } from './errors.js'
import { createMetrics } from './metrics.js'
import * as S from './schemas.js'

export interface AppOptions {
  token: string | (() => string)
  bodyLimitBytes: number
  jsonBodyLimitBytes: number
  logger?: boolean | object
  /** Provided when the p2p layer runs. */
  network?: { peers(): unknown; status(): unknown; counters(): Record<string, number> }
  /** The gate media routes decode through; by default one from the node's config (hash.maxConcurrentDecodes). */
  decodeGate?: DecodeGate
}

// fastify tests this against the whole header, parameters included ("application/octet-stream; x=y").
const RAW_TYPES = /^(application\/octet-stream|image\/[^;\s]+|video\/[^;\s]+)\s*(;.*)?$/i

function tokenMatches(header: string | undefined, token: string): boolean {
  if (!header?.startsWith('Bearer ')) return false
  const given = Buffer.from(header.slice(7))
  const expected = Buffer.from(token)
  return given.length === expected.length && timingSafeEqual(given, expected)
}

function rawBody(request: FastifyRequest): Uint8Array {
  if (!Buffer.isBuffer(request.body)) fail('MEDIA_UNSUPPORTED', 'send JSON, or the raw media bytes as application/octet-stream, image/* or video/*')
  if (request.body.length === 0) fail('MEDIA_EMPTY', 'the request body is empty')
  return request.body
}

/** Aborted when the client goes away before its answer is sent: a request still queued for a decode leaves the queue. */
function clientGone(reply: FastifyReply): AbortSignal {
  const controller = new AbortController()
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort(new HashmeshError('BAD_REQUEST', 'the client closed the connection'))
  })
  return controller.signal
}

export async function buildApp(node: HashmeshNode, options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: options.logger ?? false, bodyLimit: options.jsonBodyLimitBytes, ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false } } })
  const metrics = createMetrics(node, options.network?.counters)
  const currentToken = typeof options.token === 'function' ? options.token : () => options.token as string
  // Every media route shares one gate: a decode holds up to maxImagePixels × 3 bytes until it is hashed.
  const decodes = options.decodeGate ?? createDecodeGate(node.config)
  const fingerprint = (request: FastifyRequest, reply: FastifyReply, dihedral?: boolean) =>
    fingerprintMedia(rawBody(request), node.config, { dihedral, gate: decodes, signal: clientGone(reply) })

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
    // By route, not by URL: '/v1/health?probe=1' is still the health check.
    if (request.routeOptions.url === '/v1/health') return
    let token: string
    try {
      token = currentToken()
    } catch (cause) {
      // An unreadable token file (missing, mode not 0600) is the server's fault: 500, details in the log only.
      fail('INTERNAL', 'cannot read the API token', { cause })
    }
    // An empty token file must not let an empty bearer in.
    if (token.length === 0 || !tokenMatches(request.headers.authorization, token)) fail('UNAUTHORIZED', 'missing or wrong bearer token (see DIR/api.token)')
  })
  app.addHook('onResponse', async (request, reply) => {
    metrics.observeRequest(request.routeOptions.url ?? 'unknown', request.method, reply.statusCode, reply.elapsedTime / 1000)
  })

  await app.register(swagger, {
    openapi: {
      info: { title: 'hashmesh node API', version: '1', description: 'Query and contribute to your own node. The content you check never leaves it.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  })
  await app.register(swaggerUi, { routePrefix: '/docs' })

  app.get('/v1/health', async () => ({ ok: true }))
  app.get('/v1/status', async () => ({ ...node.status(), replicaDigest: await node.replicaDigest(), network: options.network?.status() ?? null }))
  app.get('/v1/equivocations', async () => ({ equivocations: await node.equivocations() }))
  app.get('/v1/peers', async () => ({ peers: options.network?.peers() ?? [] }))
  app.get('/metrics', async (_request, reply) => {
    void reply.header('content-type', metrics.registry.contentType)
    return metrics.registry.metrics()
  })

  app.post('/v1/hash', { schema: { querystring: S.MediaQuery } }, async (request, reply) => {
    const query = request.query as Static<typeof S.MediaQuery>
    return fingerprint(request, reply, query.dihedral)
  })

  app.post('/v1/match', { schema: { querystring: S.MediaQuery } }, async (request, reply) => {
    const query = request.query as Static<typeof S.MediaQuery>
    if (Buffer.isBuffer(request.body)) {
      const fp = await fingerprint(request, reply, query.dihedral)
      const matches = await node.match(matchQueries(fp, node.config), { threshold: query.threshold })
      return { query: fp, matches }
    }
    const body = checkJson(S.MatchBody, request.body)
    const queries = body.signals.map((s) => ({ type: s.type as SignalType, value: s.value }))
    return { matches: await node.match(queries, { threshold: body.threshold ?? query.threshold }) }
  })

  app.post('/v1/contributions', { schema: { querystring: S.MediaQuery } }, async (request, reply) => {
    const query = request.query as Static<typeof S.MediaQuery>
    let result
    if (Buffer.isBuffer(request.body)) {
      const fp = await fingerprint(request, reply)
      const labels = query.labels ? query.labels.split(',').map((l) => l.trim()).filter(Boolean) : []
      result = { ...(await node.contribute({ signals: contributionSignals(fp), labels, contentType: query.contentType, note: query.note })), fingerprint: fp }
    } else {
      result = await node.contribute(checkJson(S.ContributionBody, request.body))
    }
    return reply.status(201).send(result)
  })

  // The body is optional (`curl -X POST …/revoke` revokes every signal): validate an absent body as {}.
  const revokeBodyOptional = async (request: FastifyRequest) => {
    request.body ??= {}
  }
  app.post('/v1/contributions/:id/revoke', { schema: { params: S.IdParams, body: S.RevokeBody }, preValidation: revokeBodyOptional }, async (request, reply) => {
    const { id } = request.params as Static<typeof S.IdParams>
    const body = request.body as Static<typeof S.RevokeBody>
    const record = await node.revoke(id.toLowerCase(), { signal: body.signal, reason: (body.reason ?? 'mistake') as RevokeReason })
    return reply.status(201).send(recordView(await node.getRecord(record.id)))
  })

  app.post('/v1/opinions', { schema: { body: S.OpinionBody } }, async (request, reply) => {
    const body = request.body as Static<typeof S.OpinionBody>
    const record = await node.opinion({ ...body, signal: { type: body.signal.type as SignalType, value: body.signal.value } } as never)
    return reply.status(201).send(recordView(await node.getRecord(record.id)))
  })

  app.get('/v1/records/:id', { schema: { params: S.IdParams } }, async (request) => {
    const { id } = request.params as Static<typeof S.IdParams>
    return recordView(await node.getRecord(id.toLowerCase()))
  })

  app.post('/v1/records', { schema: { body: S.ImportBody } }, async (request) => {
    const { records } = request.body as Static<typeof S.ImportBody>
    // Non-hex entries get their own verdict (they used to reach the decoder as 0 bytes: "record is empty").
    const isHex = records.map((hex) => /^([0-9a-fA-F]{2})*$/.test(hex))
    const received = await node.receive(records.filter((_, i) => isHex[i]).map((hex) => fromHex(hex, hex.length / 2, 'record')))
    const notHex: ReceiveResult = { verdict: 'rejected', code: 'RECORD_DECODE', message: 'record is not an even number of hex digits' }
    return { results: isHex.map((ok) => (ok ? received.shift()! : notHex)) }
  })

  app.get('/v1/feeds', async () => ({ feeds: node.store.feedHeads() }))
  app.get('/v1/feeds/:feed', { schema: { params: S.FeedParams, querystring: S.FeedQuery } }, async (request) => {
    const { feed } = request.params as Static<typeof S.FeedParams>
    const { from = 1, limit = 100 } = request.query as Static<typeof S.FeedQuery>
    const key = feed.toLowerCase()
    if (!node.store.head(key)) fail('NOT_FOUND', `no feed ${key}`)
    return { feed: key, head: node.store.head(key), records: (await node.feedRecords(key, from, limit)).map(recordView) }
  })

  app.get('/v1/roster', async () => ({ pin: node.roster.pin, versions: node.roster.versions() }))
  app.post('/v1/roster', { schema: { body: S.RosterBody } }, async (request, reply) => {
    const roster = rosterFromJson(JSON.stringify(request.body))
    const result = await node.installRoster(encodeSignedRoster(roster), false)
    if (result.verdict === 'rejected') fail(result.code ?? 'ROSTER_INVALID', result.message ?? 'roster rejected')
    return reply.status(result.verdict === 'accepted' ? 201 : 200).send(result)
  })

  return app
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

/**
 * What the OpenAPI document says about each route: summary, request bodies (JSON or raw media where a
 * route takes both), every response status with its schema and an example. Added to the document by
 * @fastify/swagger's `transform`, not to the routes themselves: fastify would validate request bodies
 * that the routes check by hand (JSON or bytes on one route) and serialize answers through the response
 * schemas (dropping fields they do not list), so the document describes the API without changing it.
 */
import type { TSchema } from '@sinclair/typebox'
import * as S from './schemas.js'
import { BANK_ROUTE_DOCS } from './bank-schemas.js'
import { EXCHANGE_ROUTE_DOCS } from './exchange-routes.js'
import { IMPORT_ROUTE_DOCS } from './import-routes.js'
import { LOCAL_CONTROLS_ROUTE_DOCS } from './local-controls-routes.js'
import { INCIDENT_ROUTE_DOCS } from './incident-routes.js'

export interface RouteDocs {
  summary: string
  description?: string
  /** Request body by content type (only for routes whose body fastify does not validate itself). */
  body?: Record<string, TSchema | object>
  /** Success responses; the error statuses come from `errors`. */
  ok: Record<number, { description: string; schema: TSchema | object }>
  errors: number[]
  /** No bearer token needed. */
  open?: boolean
}

const MEDIA = { type: 'string', format: 'binary', description: 'the image (JPEG, PNG, WebP, GIF…) or video (MP4, WebM…) bytes' }
const MEDIA_TYPES = ['application/octet-stream', 'image/*', 'video/*']
const mediaOr = (json: TSchema) => ({ 'application/json': json, ...Object.fromEntries(MEDIA_TYPES.map((t) => [t, MEDIA])) })
const mediaOnly = () => Object.fromEntries(MEDIA_TYPES.map((t) => [t, MEDIA]))

const ERRORS: Record<number, string> = {
  400: 'bad hash, JSON, field or parameter (BAD_REQUEST, …)',
  401: 'missing or wrong bearer token (UNAUTHORIZED)',
  403: 'not allowed, e.g. revoking another member\'s record (REVOKE_NOT_AUTHOR)',
  404: 'no such record, feed or signal (NOT_FOUND)',
  413: 'body larger than api.bodyLimitBytes / api.jsonBodyLimitBytes (PAYLOAD_TOO_LARGE)',
  415: 'unsupported media type (MEDIA_UNSUPPORTED)',
  422: 'the image or video could not be decoded (MEDIA_UNDECODABLE, …)',
  429: 'over a rate limit, e.g. more incident declarations than allowed in an hour (RATE_LIMITED)',
  503: 'the media decoder\'s queue is full (BUSY); retry after the Retry-After header\'s seconds',
}

const MEDIA_ERRORS = [400, 401, 413, 415, 422, 503]

export const ROUTE_DOCS: Record<string, RouteDocs> = {
  'GET /v1/health': { summary: 'Liveness (no token needed)', ok: { 200: { description: 'the node answers', schema: S.HealthResponse } }, errors: [], open: true },
  'GET /v1/status': { summary: 'Node state: member, counts, heads, index, roster, network, replica digest', ok: { 200: { description: 'status', schema: S.StatusResponse } }, errors: [401] },
  'GET /v1/peers': { summary: 'Connected peers', ok: { 200: { description: 'peers', schema: S.PeersResponse } }, errors: [401] },
  'GET /v1/equivocations': { summary: 'Equivocation proofs of every member feed that forked', ok: { 200: { description: 'proofs (both records, base64)', schema: S.EquivocationsResponse } }, errors: [401] },
  'GET /metrics': { summary: 'Prometheus metrics', ok: { 200: { description: 'text exposition format', schema: { type: 'string', examples: ['# TYPE hashmesh_http_requests_total counter\n'] } } }, errors: [401] },
  'POST /v1/hash': { summary: 'Fingerprints (PDQ, vPDQ, MD5, SHA-256) of an image or video', body: mediaOnly(), ok: { 200: { description: 'fingerprints', schema: S.FingerprintResponse } }, errors: MEDIA_ERRORS },
  'POST /v1/match': {
    summary: 'Match hashes, or an image or video, against every member\'s signals',
    description: 'JSON `{signals:[{type,value}], threshold?}`, or the media bytes (then `?dihedral=true` also tries rotations and flips). Matches are sorted by distance and explained.',
    body: mediaOr(S.MatchBody),
    ok: { 200: { description: 'matches (for media: the query fingerprint too)', schema: { anyOf: [S.MatchResponse, S.MediaMatchResponse], examples: [(S.MatchResponse as { examples?: unknown[] }).examples?.[0]] } } },
    errors: MEDIA_ERRORS,
  },
  'POST /v1/contributions': {
    summary: 'Sign signals into your feed (hashes as JSON, or the media bytes with ?labels=a,b)',
    body: mediaOr(S.ContributionBody),
    ok: { 201: { description: 'the signed records appended to your feed, and the signals skipped (with why)', schema: S.ContributionResponse } },
    errors: MEDIA_ERRORS,
  },
  'POST /v1/contributions/:id/revoke': { summary: 'Revoke your own record, or one signal of it (body optional)', ok: { 201: { description: 'the signed revoke record', schema: S.RecordResponse } }, errors: [400, 401, 403, 404] },
  'POST /v1/opinions': { summary: 'Record your opinion of a signal (seen, true_positive, false_positive, disputed)', ok: { 201: { description: 'the signed opinion record', schema: S.RecordResponse } }, errors: [400, 401] },
  'GET /v1/records/:id': { summary: 'One record with its canonical signed bytes', ok: { 200: { description: 'the record', schema: S.RecordResponse } }, errors: [400, 401, 404] },
  'POST /v1/records': { summary: 'Import signed records (hex); each gets a verdict', ok: { 200: { description: 'one verdict per record, in order', schema: S.ImportResponse } }, errors: [400, 401, 413] },
  'GET /v1/feeds': { summary: 'The head of every feed in the replica', ok: { 200: { description: 'heads', schema: S.FeedsResponse } }, errors: [401] },
  'GET /v1/feeds/:feed': { summary: 'A page of one feed\'s records', ok: { 200: { description: 'records from `from` on', schema: S.FeedPageResponse } }, errors: [400, 401, 404] },
  'GET /v1/roster': { summary: 'The installed roster versions and the pinned genesis id', ok: { 200: { description: 'roster chain', schema: S.RosterResponse } }, errors: [401] },
  'POST /v1/roster': {
    summary: 'Install a signed roster version',
    ok: { 201: { description: 'accepted', schema: S.RosterInstallResponse }, 200: { description: 'duplicate, or pending (its predecessor is not installed yet)', schema: S.RosterInstallResponse } },
    errors: [400, 401],
  },
  ...LOCAL_CONTROLS_ROUTE_DOCS,
  ...INCIDENT_ROUTE_DOCS,
  ...BANK_ROUTE_DOCS,
  ...EXCHANGE_ROUTE_DOCS,
  ...IMPORT_ROUTE_DOCS,
}

/** The documentation of `method url` as extra fastify schema keys (summary, body, response, security). */
export function routeDocs(method: string, url: string): Record<string, unknown> {
  const docs = ROUTE_DOCS[`${method} ${url}`]
  if (!docs) return {}
  const response: Record<number, unknown> = {}
  for (const [status, { description, schema }] of Object.entries(docs.ok)) response[Number(status)] = { ...schema, description }
  for (const status of docs.errors) response[status] = { ...S.ErrorResponse, description: ERRORS[status] }
  const out: Record<string, unknown> = { summary: docs.summary, response }
  if (docs.description) out.description = docs.description
  if (docs.body) out.body = { content: Object.fromEntries(Object.entries(docs.body).map(([type, schema]) => [type, { schema }])) }
  if (docs.open) out.security = []
  // swagger rewrites examples in place: every document gets its own copy
  return JSON.parse(JSON.stringify(out)) as Record<string, unknown>
}

/**
 * Request schemas (validated by fastify) — also the source of the OpenAPI document at /docs. Every bound
 * comes from the limits table (constants.ts) or from its owner (the PDQ threshold from match/), never a
 * number of its own: a bound changed there changes here. The only literals left are the ranges' zeros and
 * ones and the hex width of a 32-byte key or id.
 */
import { Type } from '@sinclair/typebox'
import { API_LIMITS, FIRST_SEQ, RECORD_LIMITS, ROSTER_LIMITS } from '../constants.js'
import { MAX_PDQ_THRESHOLD } from '../match/pdq-index.js'
import { OPINIONS, REVOKE_REASONS, SIGNAL_TYPES } from '../record/types.js'

/** A 32-byte feed key or record id in hex. */
const Hex64 = Type.String({ pattern: '^[0-9a-fA-F]{64}$' })
const lit = (values: readonly string[]) => Type.Union(values.map((v) => Type.Literal(v)))

export const SignalInput = Type.Object({
  type: lit(SIGNAL_TYPES),
  value: Type.Optional(Type.String({ maxLength: API_LIMITS.maxSignalValueLength })),
  quality: Type.Optional(Type.Integer({ minimum: 0, maximum: RECORD_LIMITS.maxQuality })),
  frames: Type.Optional(Type.Array(Type.Object({ hash: Type.String(), quality: Type.Integer(), ms: Type.Integer() }), { maxItems: RECORD_LIMITS.maxVpdqFrames })),
})

export const ContributionBody = Type.Object({
  signals: Type.Array(SignalInput, { minItems: 1, maxItems: API_LIMITS.maxSignalsPerContribution }),
  contentType: Type.Optional(Type.String({ maxLength: RECORD_LIMITS.maxContentTypeLength })),
  labels: Type.Optional(Type.Array(Type.String({ maxLength: RECORD_LIMITS.maxLabelLength }), { maxItems: RECORD_LIMITS.maxLabels })),
  note: Type.Optional(Type.String({ maxLength: RECORD_LIMITS.maxNoteLength })),
}, { additionalProperties: false })

export const MediaQuery = Type.Object({
  labels: Type.Optional(Type.String({ maxLength: API_LIMITS.maxLabelsQueryLength, description: 'comma-separated namespace:value labels' })),
  contentType: Type.Optional(Type.String({ maxLength: RECORD_LIMITS.maxContentTypeLength })),
  note: Type.Optional(Type.String({ maxLength: RECORD_LIMITS.maxNoteLength })),
  dihedral: Type.Optional(Type.Boolean()),
  threshold: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_PDQ_THRESHOLD })),
})

export const MatchBody = Type.Object({
  signals: Type.Array(Type.Object({ type: lit(SIGNAL_TYPES), value: Type.String({ maxLength: API_LIMITS.maxSignalValueLength }) }), {
    minItems: 1,
    maxItems: API_LIMITS.maxSignalsPerMatch,
  }),
  threshold: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_PDQ_THRESHOLD })),
}, { additionalProperties: false })

export const RevokeBody = Type.Object({
  /** Index of one signal of the target record. */
  signal: Type.Optional(Type.Integer({ minimum: 0, maximum: RECORD_LIMITS.maxSignalsPerRecord - 1 })),
  reason: Type.Optional(lit(REVOKE_REASONS)),
}, { additionalProperties: false })

export const OpinionBody = Type.Object({
  signal: Type.Object({ type: lit(SIGNAL_TYPES), value: Type.String({ maxLength: API_LIMITS.maxSignalValueLength }) }),
  opinion: lit(OPINIONS),
  record: Type.Optional(Hex64),
  note: Type.Optional(Type.String({ maxLength: RECORD_LIMITS.maxNoteLength })),
}, { additionalProperties: false })

export const ImportBody = Type.Object({
  records: Type.Array(Type.String({ maxLength: API_LIMITS.maxImportRecordHexLength }), { maxItems: API_LIMITS.maxImportRecords }),
}, { additionalProperties: false })

export const RosterBody = Type.Object({
  document: Type.Any(),
  signatures: Type.Array(Type.Object({ key: Type.String(), signature: Type.String() }), { maxItems: ROSTER_LIMITS.maxMembers }),
})

export const IdParams = Type.Object({ id: Hex64 })
export const FeedParams = Type.Object({ feed: Hex64 })
export const FeedQuery = Type.Object({
  from: Type.Optional(Type.Integer({ minimum: FIRST_SEQ, default: FIRST_SEQ })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: API_LIMITS.maxFeedPage, default: API_LIMITS.defaultFeedPage })),
})

// ---- Response schemas: documentation only (openapi-docs.ts adds them to the OpenAPI document, never to
// the routes, so fastify does not serialize through them and every answer keeps its exact bytes). Objects
// stay open (additionalProperties) where the shape may grow.

const open = <T extends Parameters<typeof Type.Object>[0]>(props: T, example?: unknown) =>
  Type.Object(props, { additionalProperties: true, ...(example === undefined ? {} : { examples: [example] }) })
const KEY = 'd'.repeat(64)
const RID = 'e'.repeat(64)

export const ErrorResponse = open(
  { error: Type.Object({ code: Type.String({ description: 'stable error code (e.g. BAD_REQUEST, UNAUTHORIZED)' }), message: Type.String() }) },
  { error: { code: 'UNAUTHORIZED', message: 'missing or wrong bearer token (see DIR/api.token)' } },
)
export const HealthResponse = open({ ok: Type.Boolean() }, { ok: true })
export const RecordResponse = open(
  { record: open({ id: Hex64, author: Hex64, seq: Type.Integer(), kind: Type.String(), signature: Type.String() }), bytes: Type.String({ description: 'canonical dag-cbor bytes, hex' }) },
  { record: { v: 1, kind: 'revoke', author: KEY, seq: 3, prev: RID, timestamp: 1767225600000, body: { target: RID, reason: 'retracted' }, signature: 'ab'.repeat(64), id: RID }, bytes: 'a7…' },
)
export const FeedHeadResponse = open({ feed: Hex64, seq: Type.Integer(), id: Hex64 })
export const FeedsResponse = open({ feeds: Type.Array(FeedHeadResponse) }, { feeds: [{ feed: KEY, seq: 3, id: RID }] })
export const FeedPageResponse = open(
  { feed: Hex64, head: open({ seq: Type.Integer(), id: Hex64 }), records: Type.Array(RecordResponse) },
  { feed: KEY, head: { seq: 3, id: RID }, records: [] },
)
export const StatusResponse = open(
  {
    member: open({ name: Type.String(), key: Hex64 }),
    peerId: Type.String(),
    records: Type.Integer(),
    signals: Type.Integer(),
    feeds: Type.Integer(),
    pending: Type.Integer(),
    equivocations: Type.Integer(),
    roster: Type.Union([open({ federation: Type.String(), serial: Type.Integer(), id: Hex64, members: Type.Integer() }), Type.Null()]),
    replicaDigest: Type.String(),
    network: Type.Union([open({ peerId: Type.String(), peers: Type.Integer() }), Type.Null()]),
  },
  { member: { name: 'Alpha', key: KEY }, peerId: '12D3KooW…', records: 3, signals: 5, recordsByKind: { signals: 2, revoke: 1 }, feeds: 1, heads: [], pending: 0, equivocations: 0, index: { ready: true, pdqHashes: 4, memoryBytes: 4096 }, roster: { federation: 'gifct-demo', serial: 1, id: RID, members: 3 }, replicaDigest: 'f'.repeat(64), network: null },
)
export const PeersResponse = open(
  { peers: Type.Array(open({ peerId: Type.String(), addresses: Type.Array(Type.String()), direction: Type.String(), invalid: Type.Integer(), lastSyncAt: Type.Optional(Type.Integer()) })) },
  { peers: [{ peerId: '12D3KooW…', addresses: ['/ip4/127.0.0.1/tcp/4001'], direction: 'outbound', invalid: 0, lastSyncAt: 1767225600000 }] },
)
export const EquivocationsResponse = open(
  { equivocations: Type.Array(open({ feed: Hex64, member: Type.Union([Type.String(), Type.Null()]), seq: Type.Integer(), ids: Type.Array(Hex64), records: Type.Array(Type.String({ description: 'base64' })) })) },
  { equivocations: [] },
)
export const FingerprintResponse = open(
  { kind: Type.String({ description: 'image or video' }) },
  { kind: 'image', width: 1024, height: 768, pdq: { value: 'f'.repeat(64), quality: 100 }, md5: 'c'.repeat(32), sha256: 'd'.repeat(64) },
)
export const MatchResponse = open(
  { matches: Type.Array(open({ type: Type.String(), value: Type.String(), distance: Type.Integer(), status: Type.String(), reasons: Type.Array(Type.String()), agreeingMembers: Type.Integer(), records: Type.Array(open({})), opinions: open({}) })) },
  { matches: [{ type: 'pdq', value: 'f'.repeat(64), distance: 6, query: { type: 'pdq', value: 'f'.repeat(64) }, records: [{ id: RID, author: KEY, member: 'Alpha', labels: ['gifct:violent'], signature: 'valid' }], status: 'act', reasons: [], agreeingMembers: 1, opinions: { summary: {}, members: [] } }] },
)
export const MediaMatchResponse = open({ query: FingerprintResponse, matches: MatchResponse.properties.matches }, { query: { kind: 'image' }, matches: [] })
export const ContributionResponse = open(
  {
    records: Type.Array(open({ id: Hex64, seq: Type.Integer(), signals: Type.Integer() })),
    skipped: Type.Array(open({ type: Type.String(), value: Type.String(), reason: Type.String() })),
    fingerprint: Type.Optional(FingerprintResponse),
  },
  { records: [{ id: RID, seq: 1, signals: 2 }], skipped: [] },
)
export const ImportResponse = open(
  { results: Type.Array(open({ verdict: Type.String({ description: 'accepted, duplicate, pending or rejected' }) })) },
  { results: [{ verdict: 'accepted', id: RID }, { verdict: 'rejected', reason: 'BAD_SIGNATURE' }] },
)
export const RosterResponse = open(
  { pin: Type.Union([Hex64, Type.Null()]), versions: Type.Array(open({ document: open({}), signatures: Type.Array(open({})) })) },
  { pin: RID, versions: [{ id: RID, document: { federation: 'gifct-demo', serial: 1, prev: null, members: [{ name: 'Alpha', key: KEY, peers: ['12D3KooW…'] }], createdAt: 1767225600000 }, signatures: [{ key: KEY, signature: 'ab'.repeat(64) }] }] },
)
export const RosterInstallResponse = open({ verdict: Type.String(), id: Type.Optional(Hex64) }, { verdict: 'accepted', id: RID })

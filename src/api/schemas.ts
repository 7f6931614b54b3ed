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

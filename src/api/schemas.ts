/** Request schemas (validated by fastify) — also the source of the OpenAPI document at /docs. */
import { Type } from '@sinclair/typebox'
import { OPINIONS, REVOKE_REASONS, SIGNAL_TYPES } from '../record/types.js'

const Hex64 = Type.String({ pattern: '^[0-9a-fA-F]{64}$' })
const lit = (values: readonly string[]) => Type.Union(values.map((v) => Type.Literal(v)))

export const SignalInput = Type.Object({
  type: lit(SIGNAL_TYPES),
  value: Type.Optional(Type.String({ maxLength: 128 })),
  quality: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
  frames: Type.Optional(Type.Array(Type.Object({ hash: Type.String(), quality: Type.Integer(), ms: Type.Integer() }), { maxItems: 4096 })),
})

export const ContributionBody = Type.Object({
  signals: Type.Array(SignalInput, { minItems: 1, maxItems: 100_000 }),
  contentType: Type.Optional(Type.String({ maxLength: 32 })),
  labels: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 32 })),
  note: Type.Optional(Type.String({ maxLength: 1024 })),
}, { additionalProperties: false })

export const MediaQuery = Type.Object({
  labels: Type.Optional(Type.String({ maxLength: 2048, description: 'comma-separated namespace:value labels' })),
  contentType: Type.Optional(Type.String({ maxLength: 32 })),
  note: Type.Optional(Type.String({ maxLength: 1024 })),
  dihedral: Type.Optional(Type.Boolean()),
  threshold: Type.Optional(Type.Integer({ minimum: 0, maximum: 128 })),
})

export const MatchBody = Type.Object({
  signals: Type.Array(Type.Object({ type: lit(SIGNAL_TYPES), value: Type.String({ maxLength: 128 }) }), { minItems: 1, maxItems: 1000 }),
  threshold: Type.Optional(Type.Integer({ minimum: 0, maximum: 128 })),
}, { additionalProperties: false })

export const RevokeBody = Type.Object({
  signal: Type.Optional(Type.Integer({ minimum: 0, maximum: 999 })),
  reason: Type.Optional(lit(REVOKE_REASONS)),
}, { additionalProperties: false })

export const OpinionBody = Type.Object({
  signal: Type.Object({ type: lit(SIGNAL_TYPES), value: Type.String({ maxLength: 128 }) }),
  opinion: lit(OPINIONS),
  record: Type.Optional(Hex64),
  note: Type.Optional(Type.String({ maxLength: 1024 })),
}, { additionalProperties: false })

export const ImportBody = Type.Object({
  records: Type.Array(Type.String({ maxLength: 600_000 }), { maxItems: 1000 }),
}, { additionalProperties: false })

export const RosterBody = Type.Object({
  document: Type.Any(),
  signatures: Type.Array(Type.Object({ key: Type.String(), signature: Type.String() }), { maxItems: 256 }),
})

export const IdParams = Type.Object({ id: Hex64 })
export const FeedParams = Type.Object({ feed: Hex64 })
export const FeedQuery = Type.Object({
  from: Type.Optional(Type.Integer({ minimum: 1, default: 1 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
})

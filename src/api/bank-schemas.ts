/**
 * /v1/banks: request schemas (validated by fastify) and the OpenAPI documentation of each route (summary,
 * response schemas with examples, error statuses), which openapi-docs.ts merges into its table.
 */
import { Type, type TSchema } from '@sinclair/typebox'
import { API_LIMITS, RECORD_LIMITS } from '../constants.js'
import { BANK_KINDS, BANK_SIGNAL_TYPES, MAX_BANK_NAME_LENGTH, MAX_DISABLE_UNTIL_TS } from '../bank/types.js'

const lit = (values: readonly string[]) => Type.Union(values.map((v) => Type.Literal(v)))
const BankName = Type.String({ pattern: '^[A-Z_][A-Z0-9_]*$', maxLength: MAX_BANK_NAME_LENGTH, description: 'UPPER_SNAKE_CASE, not starting with a digit' })
const Ratio = Type.Number({ minimum: 0, maximum: 1, description: 'HMA\'s coin flip: a lookup matches the bank when this is ≥ a draw in [0, 1)' })
const Metadata = Type.Object({
  content_id: Type.Optional(Type.String({ maxLength: RECORD_LIMITS.maxNoteLength })),
  content_uri: Type.Optional(Type.String({ maxLength: RECORD_LIMITS.maxNoteLength })),
  json: Type.Optional(Type.Object({}, { additionalProperties: true })),
}, { additionalProperties: false })
const Signals = Type.Object(
  Object.fromEntries(BANK_SIGNAL_TYPES.map((t) => [t, Type.Optional(Type.String({ maxLength: API_LIMITS.maxSignalValueLength }))])),
  { additionalProperties: false, minProperties: 1, description: 'signal type → value (pdq, md5, sha256: hex; video_md5: hex; vpdq: as hashed)' },
)

export const BankParams = Type.Object({ name: BankName })
export const ContentParams = Type.Object({ name: BankName, id: Type.Integer({ minimum: 1 }) })
export const CreateBankBody = Type.Object({ name: BankName, kind: Type.Optional(lit(BANK_KINDS)), matchingEnabledRatio: Type.Optional(Ratio) }, { additionalProperties: false })
export const UpdateBankBody = Type.Object(
  { name: Type.Optional(BankName), kind: Type.Optional(lit(BANK_KINDS)), matchingEnabledRatio: Type.Optional(Ratio) },
  { additionalProperties: false, minProperties: 1 },
)
export const AddContentBody = Type.Object({
  signals: Signals,
  note: Type.Optional(Type.String({ maxLength: RECORD_LIMITS.maxNoteLength })),
  metadata: Type.Optional(Metadata),
}, { additionalProperties: false })
export const UpdateContentBody = Type.Object({
  disableUntilTs: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_DISABLE_UNTIL_TS, description: 'unix seconds: 0 enable, 1 disable for good, else disabled until then' })),
  note: Type.Optional(Type.Union([Type.String({ maxLength: RECORD_LIMITS.maxNoteLength }), Type.Null()])),
  metadata: Type.Optional(Type.Union([Metadata, Type.Null()])),
}, { additionalProperties: false, minProperties: 1 })
export const ContentQuery = Type.Object({
  after: Type.Optional(Type.Integer({ minimum: 0, description: 'content ids above this one' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: API_LIMITS.maxFeedPage, default: API_LIMITS.defaultFeedPage })),
})

// ---- responses (documentation only) ----

const open = <T extends Parameters<typeof Type.Object>[0]>(props: T, example: unknown) => Type.Object(props, { additionalProperties: true, examples: [example] })
const BANK_EXAMPLE = { name: 'TERROR_PHOTOS', kind: 'local', matchingEnabledRatio: 1, contentCount: 2, createdAt: 1767225600000, updatedAt: 1767225600000 }
const CONTENT_EXAMPLE = {
  id: 7, bank: 'TERROR_PHOTOS', signals: { pdq: 'f'.repeat(64) }, note: 'reported 2026-01-01', metadata: null,
  disableUntilTs: 0, enabled: true, createdAt: 1767225600000, updatedAt: 1767225600000,
}
export const BankResponse = open({
  name: Type.String(),
  kind: Type.String({ description: 'local, negative, shared, or member (a federation member\'s feed, read-only)' }),
  matchingEnabledRatio: Type.Number(),
  member: Type.Optional(Type.String({ description: 'member banks: the feed key' })),
  contentCount: Type.Optional(Type.Integer()),
  createdAt: Type.Union([Type.Integer(), Type.Null()]),
  updatedAt: Type.Union([Type.Integer(), Type.Null()]),
}, BANK_EXAMPLE)
export const BanksResponse = open({ banks: Type.Array(BankResponse) }, { banks: [BANK_EXAMPLE, { name: 'MEMBER_BETA', kind: 'member', matchingEnabledRatio: 1, member: 'd'.repeat(64), createdAt: null, updatedAt: null }] })
export const ContentResponse = open({
  id: Type.Integer(), bank: Type.String(), signals: Type.Object({}, { additionalProperties: true }), note: Type.Union([Type.String(), Type.Null()]),
  metadata: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]), disableUntilTs: Type.Integer(), enabled: Type.Boolean(),
  createdAt: Type.Integer(), updatedAt: Type.Integer(), records: Type.Optional(Type.Array(Type.String({ description: 'shared banks: record ids in this member\'s feed' }))),
}, CONTENT_EXAMPLE)
export const ContentPageResponse = open({ bank: Type.String(), content: Type.Array(ContentResponse), next: Type.Union([Type.Integer(), Type.Null()]) }, { bank: 'TERROR_PHOTOS', content: [CONTENT_EXAMPLE], next: null })
export const DeletedResponse = open({ bank: Type.String(), id: Type.Optional(Type.Integer()), deleted: Type.Literal(true) }, { bank: 'TERROR_PHOTOS', id: 7, deleted: true })

/** As openapi-docs.ts's RouteDocs (declared again here: that module imports this one). */
interface BankRouteDocs { summary: string; description?: string; ok: Record<number, { description: string; schema: TSchema | object }>; errors: number[] }

export const BANK_ROUTE_DOCS: Record<string, BankRouteDocs> = {
  'GET /v1/banks': { summary: 'Banks: this node\'s own (local, negative, shared) and every federation member\'s feed (member, read-only)', ok: { 200: { description: 'banks', schema: BanksResponse } }, errors: [401] },
  'POST /v1/banks': {
    summary: 'Create a bank',
    description: '`kind`: `local` (never leaves the node, the default), `negative` (an allow-list: a query matching it gets no positive match) or `shared` (each addition is also signed into your feed). Fixed at creation for shared banks.',
    ok: { 201: { description: 'the bank', schema: BankResponse } },
    errors: [400, 401],
  },
  'GET /v1/banks/:name': { summary: 'One bank, with its content count', ok: { 200: { description: 'the bank', schema: BankResponse } }, errors: [400, 401, 404] },
  'PATCH /v1/banks/:name': { summary: 'Rename a bank, or change its kind or matching ratio', ok: { 200: { description: 'the bank as it is now', schema: BankResponse } }, errors: [400, 401, 404] },
  'DELETE /v1/banks/:name': { summary: 'Delete a bank and its content (a shared bank\'s records are revoked)', ok: { 200: { description: 'deleted', schema: DeletedResponse } }, errors: [400, 401, 404] },
  'POST /v1/banks/:name/content': { summary: 'Add content: its signals, a note and HMA\'s metadata', ok: { 201: { description: 'the content with its new id', schema: ContentResponse } }, errors: [400, 401, 404] },
  'GET /v1/banks/:name/content': { summary: 'A page of a bank\'s content, in id order', ok: { 200: { description: 'content with ids above `after`; `next` is the next page\'s `after`', schema: ContentPageResponse } }, errors: [400, 401, 404] },
  'GET /v1/banks/:name/content/:id': { summary: 'One content item', ok: { 200: { description: 'the content', schema: ContentResponse } }, errors: [400, 401, 404] },
  'PATCH /v1/banks/:name/content/:id': {
    summary: 'Disable content until a time (disableUntilTs), enable it (0), or change its note or metadata',
    ok: { 200: { description: 'the content as it is now', schema: ContentResponse } },
    errors: [400, 401, 404],
  },
  'DELETE /v1/banks/:name/content/:id': { summary: 'Delete one content item (a shared bank\'s records are revoked)', ok: { 200: { description: 'deleted', schema: DeletedResponse } }, errors: [400, 401, 404] },
}

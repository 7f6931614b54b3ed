/**
 * Routes of the local controls (issue 18): switches and the flood quarantine, over LocalControlsService.
 * Registered on the app's root instance (server.ts), so the bearer token, the error mapping and the
 * OpenAPI document (LOCAL_CONTROLS_ROUTE_DOCS, merged in openapi-docs.ts) apply as to every /v1 route.
 */
import type { FastifyInstance } from 'fastify'
import { Type, type Static } from '@sinclair/typebox'
import { RECORD_LIMITS } from '../constants.js'
import { MAX_RELEASE_RECORDS, MAX_SWITCH_BY_LENGTH, type LocalControlsService } from '../node/local-controls-service.js'
import { SWITCH_KINDS } from '../match/local-switches.js'

const lit = (values: readonly string[]) => Type.Union(values.map((v) => Type.Literal(v)))
const Hex64 = Type.String({ pattern: '^[0-9a-fA-F]{64}$' })
const open = <T extends Parameters<typeof Type.Object>[0]>(props: T, example?: unknown) =>
  Type.Object(props, { additionalProperties: true, ...(example === undefined ? {} : { examples: [example] }) })
const KEY = 'd'.repeat(64)
const RID = 'e'.repeat(64)

export const SwitchBody = Type.Object({
  kind: lit(SWITCH_KINDS),
  target: Type.String({ maxLength: 80, description: 'member: feed key; record: record id; signal: TYPE:VALUE (e.g. pdq:f8f8…)' }),
  // null first: with the app's coerceTypes, ajv would turn null into 0 trying the integer branch first
  until: Type.Optional(Type.Union([Type.Null(), Type.Integer({ description: 'ms since the epoch; absent or null: until resumed' })])),
  reason: Type.Optional(Type.String({ maxLength: RECORD_LIMITS.maxReasonLength })),
  by: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_SWITCH_BY_LENGTH, description: 'who sets it (shown in match results)' })),
}, { additionalProperties: false })

export const SwitchParams = Type.Object({ kind: lit(SWITCH_KINDS), target: Type.String({ maxLength: 80 }) })

export const ReleaseBody = Type.Object({
  records: Type.Optional(Type.Array(Hex64, { minItems: 1, maxItems: MAX_RELEASE_RECORDS })),
  member: Type.Optional(Hex64),
  all: Type.Optional(Type.Literal(true)),
  by: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_SWITCH_BY_LENGTH })),
}, { additionalProperties: false })

const SWITCH_EXAMPLE = { kind: 'member', target: KEY, at: 1767225600000, by: 'duty-officer', until: 1767229200000, reason: 'pipeline flooding bad hashes', memberName: 'Bravo', effect: 'member feed suspended locally at 2026-01-01T00:00:00Z by duty-officer until 2026-01-01T01:00:00Z: pipeline flooding bad hashes' }
export const SwitchResponse = open({ kind: Type.String(), target: Type.String(), at: Type.Integer(), by: Type.String(), until: Type.Union([Type.Integer(), Type.Null()]), reason: Type.String(), effect: Type.String() }, SWITCH_EXAMPLE)
export const SwitchesResponse = open({ switches: Type.Array(SwitchResponse) }, { switches: [SWITCH_EXAMPLE] })
const QUARANTINED_EXAMPLE = { id: RID, author: KEY, memberName: 'Bravo', seq: 812, signals: 1000, at: 1767225600000, countedAt: 1767225599000, rule: 'minute', count: 21000, limit: 20000 }
export const QuarantineResponse = open(
  { records: Type.Array(open({ id: Hex64, author: Hex64, seq: Type.Integer(), signals: Type.Integer(), at: Type.Integer(), rule: Type.String(), count: Type.Integer(), limit: Type.Integer() })), members: Type.Array(open({})), counters: open({}), autoRelease: Type.Boolean() },
  { records: [QUARANTINED_EXAMPLE], members: [{ member: KEY, memberName: 'Bravo', records: 1, signals: 1000, window: { burst: 0, minute: 0, hour: 21000 }, overLimit: false }], counters: { quarantinedRecords: 1, quarantinedSignals: 1000, releasedRecords: 0, autoReleasedRecords: 0 }, autoRelease: false },
)
export const ReleaseResponse = open({ released: Type.Array(open({})) }, { released: [QUARANTINED_EXAMPLE] })

/** Documentation of these routes (the shape of openapi-docs.ts's ROUTE_DOCS). */
export const LOCAL_CONTROLS_ROUTE_DOCS = {
  'GET /v1/switches': { summary: 'Local switches in force (suspended members, disabled signals and records)', ok: { 200: { description: 'switches, oldest first', schema: SwitchesResponse } }, errors: [401] },
  'POST /v1/switches': {
    summary: 'Suspend a member\'s feed, or disable a signal or a record, on this node only (until a time or until resumed)',
    description: 'Takes effect for the next match (no network round trip); the records still replicate. Setting a switch again replaces it. Matches name it in `reasons` and on the record (`local`).',
    ok: { 201: { description: 'the switch in force', schema: SwitchResponse } },
    errors: [400, 401],
  },
  'DELETE /v1/switches/:kind/:target': { summary: 'Resume: lift a switch', ok: { 200: { description: 'the switch lifted', schema: SwitchResponse } }, errors: [400, 401, 404] },
  'GET /v1/quarantine': { summary: 'Records held back by flood quarantine, and the members over their limits', ok: { 200: { description: 'quarantined records (stored, not matched)', schema: QuarantineResponse } }, errors: [401] },
  'POST /v1/quarantine/release': {
    summary: 'Release quarantined records: some (records), one member\'s (member), or all (all: true)',
    ok: { 200: { description: 'the records released; they match again', schema: ReleaseResponse } },
    errors: [400, 401, 404],
  },
}

export async function localControlsRoutes(app: FastifyInstance, options: { service: LocalControlsService }): Promise<void> {
  const { service } = options
  app.get('/v1/switches', async () => ({ switches: await service.switches() }))
  app.post('/v1/switches', { schema: { body: SwitchBody } }, async (request, reply) => {
    return reply.status(201).send(await service.setSwitch(request.body as Static<typeof SwitchBody>))
  })
  app.delete('/v1/switches/:kind/:target', { schema: { params: SwitchParams } }, async (request) => {
    const { kind, target } = request.params as Static<typeof SwitchParams>
    return service.resumeSwitch(kind, target)
  })
  app.get('/v1/quarantine', async () => service.quarantine())
  app.post('/v1/quarantine/release', { schema: { body: ReleaseBody } }, async (request) => {
    return service.releaseQuarantine(request.body as Static<typeof ReleaseBody>)
  })
}

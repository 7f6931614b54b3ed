/**
 * Routes of incidents (issue 18): list (open, or all), show one, declare, update, close, over
 * IncidentsService. Registered on the app's root instance (server.ts): bearer token, error mapping and
 * OpenAPI document (INCIDENT_ROUTE_DOCS, merged in openapi-docs.ts) as every /v1 route.
 */
import type { FastifyInstance } from 'fastify'
import { Type, type Static } from '@sinclair/typebox'
import { INCIDENT_LIMITS, INCIDENT_SEVERITIES } from '../record/incident.js'
import type { IncidentsService } from '../node/incidents-service.js'

const lit = (values: readonly string[]) => Type.Union(values.map((v) => Type.Literal(v)))
const open = <T extends Parameters<typeof Type.Object>[0]>(props: T, example?: unknown) =>
  Type.Object(props, { additionalProperties: true, ...(example === undefined ? {} : { examples: [example] }) })
const Time = Type.Integer({ minimum: 0, description: 'ms since the epoch' })

const fields = {
  title: Type.String({ minLength: 1, maxLength: INCIDENT_LIMITS.maxTitleLength }),
  severity: lit(INCIDENT_SEVERITIES),
  description: Type.Optional(Type.String({ maxLength: INCIDENT_LIMITS.maxDescriptionLength })),
  reference: Type.Optional(Type.String({ minLength: 1, maxLength: INCIDENT_LIMITS.maxReferenceLength })),
  start: Type.Optional(Time),
  expiry: Type.Optional(Type.Integer({ minimum: 0, description: 'ms since the epoch; default start + 24 h; at most 30 days after start' })),
}
export const DeclareBody = Type.Object(fields, { additionalProperties: false })
export const UpdateBody = Type.Object({ ...fields, title: Type.Optional(fields.title), severity: Type.Optional(fields.severity) }, { additionalProperties: false })
export const CloseBody = Type.Object({ description: Type.Optional(fields.description) }, { additionalProperties: false })
export const IncidentParams = Type.Object({ id: Type.String({ pattern: '^[0-9a-fA-F]{32}$' }) })
export const IncidentsQuery = Type.Object({ all: Type.Optional(Type.Boolean({ description: 'closed and expired incidents too' })) })

const KEY = 'd'.repeat(64)
const EXAMPLE = {
  id: '00112233445566778899aabbccddeeff', state: 'open', title: 'Live-streamed attack, city X', severity: 'critical',
  start: 1767225600000, expiry: 1767312000000, description: 'Share hashes of the stream and its edits.', reference: 'CIP-2026-001',
  declaredBy: { key: KEY, name: 'Alpha' }, revision: 1,
  notices: [{ id: 'e'.repeat(64), action: 'declare', revision: 1, receivedAt: 1767225600120 }],
  contributions: [{ record: 'f'.repeat(64), member: { key: KEY, name: 'Alpha' }, seq: 12, signals: 3, signedAt: 1767225660000, receivedHere: 1767225660180, latencyMs: 180,
    heldBy: [
      { member: { key: KEY, name: 'Alpha' }, at: 1767225660000, how: 'signed' },
      { member: { key: 'e'.repeat(64), name: 'Bravo' }, at: 1767225660180, how: 'received' },
      { member: { key: 'c'.repeat(64), name: 'Charlie' }, at: 1767225661020, how: 'peer-sync' },
    ] }],
}
export const IncidentResponse = open({ id: Type.String(), state: Type.String(), title: Type.String(), severity: Type.String(), start: Type.Integer(), expiry: Type.Integer(), declaredBy: open({}), notices: Type.Array(open({})), contributions: Type.Array(open({})) }, EXAMPLE)
export const IncidentsResponse = open({ incidents: Type.Array(IncidentResponse) }, { incidents: [EXAMPLE] })

export const INCIDENT_ROUTE_DOCS = {
  'GET /v1/incidents': {
    summary: 'Open incidents (all=true: every incident known), with their contributions, when each reached this node and which members hold it',
    description: "Each contribution's heldBy lists the members known to hold it, earliest first: its author since signing, this node since it arrived, and members whose peers reported it in a sync session (how: peer-sync, held by then at the latest). Sync rounds run with every peer after each new incident notice, and periodically.", ok: { 200: { description: 'incidents, newest first', schema: IncidentsResponse } }, errors: [400, 401] },
  'GET /v1/incidents/:id': { summary: 'One incident', ok: { 200: { description: 'the incident', schema: IncidentResponse } }, errors: [400, 401, 404] },
  'POST /v1/incidents': {
    summary: 'Declare an incident (a signed notice sent to every member at once)',
    description: 'Refused: expiry in the past or more than 30 days after start (RECORD_INVALID), more than 5 declarations by this member in an hour or 64 open incidents (RATE_LIMITED). Contributions name it with the label `incident:<id>`.',
    ok: { 201: { description: 'the incident declared', schema: IncidentResponse } },
    errors: [400, 401, 429],
  },
  'POST /v1/incidents/:id/update': { summary: 'Update an incident this member declared', ok: { 200: { description: 'the incident updated', schema: IncidentResponse } }, errors: [400, 401, 403, 404] },
  'POST /v1/incidents/:id/close': { summary: 'Close an incident this member declared', ok: { 200: { description: 'the incident closed', schema: IncidentResponse } }, errors: [400, 401, 403, 404] },
}

export async function incidentRoutes(app: FastifyInstance, options: { service: IncidentsService }): Promise<void> {
  const { service } = options
  app.get('/v1/incidents', { schema: { querystring: IncidentsQuery } }, async (request) => {
    const { all } = request.query as Static<typeof IncidentsQuery>
    return { incidents: await service.incidents({ all }) }
  })
  app.get('/v1/incidents/:id', { schema: { params: IncidentParams } }, async (request) => service.incident((request.params as Static<typeof IncidentParams>).id))
  app.post('/v1/incidents', { schema: { body: DeclareBody } }, async (request, reply) => {
    return reply.status(201).send(await service.declareIncident(request.body as Static<typeof DeclareBody>))
  })
  app.post('/v1/incidents/:id/update', { schema: { params: IncidentParams, body: UpdateBody } }, async (request) => {
    return service.updateIncident((request.params as Static<typeof IncidentParams>).id, request.body as Static<typeof UpdateBody>)
  })
  const closeBodyOptional = async (request: { body?: unknown }) => {
    request.body ??= {}
  }
  app.post('/v1/incidents/:id/close', { schema: { params: IncidentParams, body: CloseBody }, preValidation: closeBodyOptional }, async (request) => {
    return service.closeIncident((request.params as Static<typeof IncidentParams>).id, request.body as Static<typeof CloseBody>)
  })
}

/**
 * /v1/exchanges: the node's exchanges (docs/exchanges.md) as first-class routes: create, list, show with
 * status, enable/disable and re-time, remove (with its bank), fetch now; the exchange APIs and their
 * credentials (write-only). Errors are the app's `{error:{code,message}}`; the OpenAPI entries are
 * EXCHANGE_ROUTE_DOCS (merged in openapi-docs.ts).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Type } from '@sinclair/typebox'
import { fail } from '../errors.js'
import type { ExchangeManager } from '../exchange/manager.js'
import { EXCHANGE_APIS } from '../exchange/types.js'
import { exchangesOf } from '../node/exchanges.js'
import type { HashmeshNode } from '../node/node.js'
import { hmaExchangeRoutes } from './hma-exchange-routes.js'
import { hmaRouteAuth } from './hma-routes.js'

const open = <T extends Parameters<typeof Type.Object>[0]>(props: T, example: unknown) => Type.Object(props, { additionalProperties: true, examples: [example] })

const CONFIG_EXAMPLE = { name: 'TCAP_PDQ', api: 'tat', enabled: true, intervalSeconds: 3600, settings: { mode: 'delta', base_url: 'https://app.terrorismanalytics.org/' }, createdAt: 1764460800000, updatedAt: 1764460800000 }
const STATUS_EXAMPLE = {
  name: 'TCAP_PDQ', runningSince: null, lastFetchStartedAt: 1764460800000, lastFetchCompletedAt: 1764460803000, lastResult: 'succeeded',
  counts: { added: 1200, removed: 3, unchanged: 0, skipped: 17, pages: 3 }, signals: 1197, checkpoint: { checkpoint: '1764460700.5,10594' }, checkpointTime: 1764460700500,
  nextRunAt: 1764464403000, consecutiveFailures: 0, error: null,
}
const ExchangeConfig = open({ name: Type.String(), api: Type.Union(EXCHANGE_APIS.map((a) => Type.Literal(a))), enabled: Type.Boolean(), intervalSeconds: Type.Integer(), settings: Type.Object({}, { additionalProperties: true }) }, CONFIG_EXAMPLE)
const ExchangeStatus = open({ name: Type.String(), lastResult: Type.String(), signals: Type.Integer(), nextRunAt: Type.Union([Type.Integer(), Type.Null()]) }, STATUS_EXAMPLE)
const ExchangeView = open({ exchange: ExchangeConfig, status: ExchangeStatus }, { exchange: CONFIG_EXAMPLE, status: STATUS_EXAMPLE })
const ExchangeList = open({ exchanges: Type.Array(ExchangeView) }, { exchanges: [{ exchange: CONFIG_EXAMPLE, status: STATUS_EXAMPLE }] })
const API_EXAMPLE = { api: 'tat', settingsFields: [{ name: 'mode', type: 'enum', required: false, default: 'delta', help: '…', choices: ['delta', 'full'] }], credentialFields: ['username', 'password'], hasCredentials: false }
const ApiList = open({ apis: Type.Array(Type.Object({ api: Type.String(), credentialFields: Type.Array(Type.String()), hasCredentials: Type.Boolean() }, { additionalProperties: true })) }, { apis: [API_EXAMPLE] })
const CredentialsAnswer = open({ api: Type.String(), hasCredentials: Type.Boolean() }, { api: 'tat', hasCredentials: true })
const Deleted = open({ deleted: Type.Boolean() }, { deleted: true })

export const EXCHANGE_ROUTE_DOCS = {
  'GET /v1/exchanges': { summary: 'Exchanges (sources that fill a bank of their name on a schedule) with their fetch status', ok: { 200: { description: 'every exchange', schema: ExchangeList } }, errors: [401] },
  'POST /v1/exchanges': {
    summary: 'Create an exchange (and its bank): {name, api, settings, enabled?, intervalSeconds?}',
    description: 'APIs: local_file, url, hashmesh (a member\'s feed), tat (Tech Against Terrorism TCAP), fb_threatexchange (Meta ThreatExchange), sample (python-threatexchange\'s example signals). The first fetch runs at once when the node runs.',
    ok: { 201: { description: 'the exchange', schema: ExchangeView } },
    errors: [400, 401],
  },
  'GET /v1/exchanges/apis': { summary: 'Exchange APIs, their settings and credential fields, and whether credentials are set', ok: { 200: { description: 'apis', schema: ApiList } }, errors: [401] },
  'PUT /v1/exchanges/apis/:api/credentials': { summary: 'Set an exchange API\'s credentials (stored 0600 in the data directory, never shown again); {} clears them', ok: { 200: { description: 'whether credentials are now set', schema: CredentialsAnswer } }, errors: [400, 401] },
  'GET /v1/exchanges/:name': { summary: 'One exchange and its status (last fetch, result, counts, checkpoint, next run, error)', ok: { 200: { description: 'the exchange', schema: ExchangeView } }, errors: [401, 404] },
  'PATCH /v1/exchanges/:name': { summary: 'Enable or disable an exchange, or change its interval: {enabled?, intervalSeconds?}', ok: { 200: { description: 'the exchange', schema: ExchangeView } }, errors: [400, 401, 404] },
  'DELETE /v1/exchanges/:name': { summary: 'Remove an exchange and its bank (a running fetch is stopped)', ok: { 200: { description: 'removed (also when it did not exist)', schema: Deleted } }, errors: [401] },
  'POST /v1/exchanges/:name/fetch': { summary: 'Fetch now (after any fetch under way) and answer the status it left', ok: { 200: { description: 'status after the fetch; a failed fetch is a status with error, not an HTTP error', schema: ExchangeView } }, errors: [401, 404] },
}

const name = (request: FastifyRequest): string => (request.params as { name: string }).name

function body(request: FastifyRequest): Record<string, unknown> {
  const b = request.body ?? {}
  if (typeof b !== 'object' || b === null || Array.isArray(b)) fail('BAD_REQUEST', 'send a JSON object')
  return b as Record<string, unknown>
}

/** Both faces of the node's exchanges: /v1/exchanges and HMA's /c/exchanges (with the HMA routes' auth). */
export async function registerExchangeRoutes(app: FastifyInstance, node: HashmeshNode): Promise<void> {
  const exchanges = exchangesOf(node)
  exchangeRoutes(app, exchanges)
  await hmaExchangeRoutes(app, { exchanges, auth: hmaRouteAuth(node.config.hma.auth) })
}

export function exchangeRoutes(app: FastifyInstance, exchanges: ExchangeManager): void {
  const view = async (n: string) => ({ exchange: await exchanges.get(n), status: await exchanges.status(n) })
  app.get('/v1/exchanges', async () => ({ exchanges: await Promise.all((await exchanges.list()).map((c) => view(c.name))) }))
  app.post('/v1/exchanges', async (request, reply) => {
    const b = body(request)
    const created = await exchanges.create({ name: b.name, api: b.api, settings: b.settings, enabled: b.enabled, intervalSeconds: b.intervalSeconds })
    return reply.status(201).send(await view(created.name))
  })
  app.get('/v1/exchanges/apis', async () => ({
    apis: exchanges.apis().map((api) => {
      const info = exchanges.apiInfo(api)
      return { api, settingsFields: exchanges.adapter(api).settingsFields, credentialFields: info.credentialFields, hasCredentials: info.hasAuthentication }
    }),
  }))
  app.put('/v1/exchanges/apis/:api/credentials', async (request) => {
    const api = (request.params as { api: string }).api
    exchanges.setCredentials(api, body(request))
    return { api, hasCredentials: exchanges.apiInfo(api).hasAuthentication }
  })
  app.get('/v1/exchanges/:name', async (request) => view(name(request)))
  app.patch('/v1/exchanges/:name', async (request) => {
    const b = body(request)
    await exchanges.update(name(request), { enabled: b.enabled, intervalSeconds: b.intervalSeconds })
    return view(name(request))
  })
  app.delete('/v1/exchanges/:name', async (request) => {
    await exchanges.remove(name(request))
    return { deleted: true }
  })
  app.post('/v1/exchanges/:name/fetch', async (request) => {
    const status = await exchanges.fetchNow(name(request))
    return { exchange: await exchanges.get(name(request)), status }
  })
}

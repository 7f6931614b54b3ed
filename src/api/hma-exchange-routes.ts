/**
 * HMA 1.1.7's exchange routes (its curation blueprint) at HMA's paths, shapes and status codes, over the
 * node's exchanges (node/exchanges.ts; docs/exchanges.md): the exchange APIs and their credentials, and the
 * exchanges (HMA's collaborations), each filling the bank of its name. Registered beside hma-routes.ts,
 * with the same auth (config hma.auth) and HMA's `{"message": …}` error bodies. Credentials are accepted and
 * never returned: HMA answers only whether they are set.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { fail, isHashmeshError } from '../errors.js'
import type { ExchangeManager } from '../exchange/manager.js'
import type { ExchangeConfig, ExchangeStatus } from '../exchange/types.js'
import { toHttpError } from './errors.js'
import type { RouteAuth } from './route-auth.js'

export const HMA_EXCHANGE_ROUTES = [
  '/c/exchanges', '/c/exchanges/apis', '/c/exchanges/api/<api_name>', '/c/exchanges/api/<api_name>/schema',
  '/c/exchange/<exchange_name>', '/c/exchange/<exchange_name>/status',
] as const

function hmaError(reply: FastifyReply, err: unknown): FastifyReply {
  const status = isHashmeshError(err) && typeof err.details?.status === 'number' ? err.details.status : toHttpError(err).status
  return reply.status(status).send({ message: toHttpError(err).body.error.message })
}

function jsonObject(body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) fail('BAD_REQUEST', 'this endpoint expects a json object payload')
  return body as Record<string, unknown>
}

/** HMA's serialisation of a collaboration config: name, api, enabled and the api's own fields. */
export function hmaExchangeJson(config: ExchangeConfig): Record<string, unknown> {
  return { name: config.name, api: config.api, enabled: config.enabled, ...config.settings, interval_seconds: config.intervalSeconds }
}

const seconds = (ms: number | null): number | null => (ms === null ? null : Math.floor(ms / 1000))

/** HMA's FetchStatus, then hashmesh's own fields. */
export function hmaFetchStatus(status: ExchangeStatus): Record<string, unknown> {
  const completed = status.lastResult !== 'never'
  return {
    checkpoint_ts: seconds(status.checkpointTime),
    running_fetch_start_ts: seconds(status.runningSince),
    last_fetch_complete_ts: seconds(status.lastFetchCompletedAt),
    last_fetch_succeeded: completed ? status.lastResult === 'succeeded' || status.lastResult === 'unchanged' : null,
    up_to_date: status.lastResult === 'succeeded' || status.lastResult === 'unchanged',
    fetched_items: status.signals,
    last_result: status.lastResult,
    next_fetch_ts: seconds(status.nextRunAt),
    counts: status.counts,
    error: status.error,
  }
}

const param = (request: FastifyRequest, name: string): string => (request.params as Record<string, string>)[name]!

export async function hmaExchangeRoutes(app: FastifyInstance, options: { exchanges: ExchangeManager; auth: RouteAuth }): Promise<void> {
  const { exchanges, auth } = options
  await app.register(async (hma) => {
    hma.setErrorHandler((err, _request, reply) => hmaError(reply, err))
    hma.addHook('onRoute', (route) => {
      route.schema = { ...(route.schema ?? {}), hide: true } // HMA's routes: docs/hma.md, not the /v1 OpenAPI document
      route.config = { ...(route.config ?? {}), auth } as typeof route.config
    })

    const apiAnswer = (api: unknown) => {
      const info = exchanges.apiInfo(api)
      return { supports_authentification: info.supportsAuthentication, has_set_authentification: info.hasAuthentication }
    }
    hma.get('/c/exchanges/apis', async () => exchanges.apis())
    hma.get('/c/exchanges/api/:api', async (request) => apiAnswer(param(request, 'api')))
    hma.post('/c/exchanges/api/:api', async (request) => {
      const api = param(request, 'api')
      exchanges.adapter(api) // 400 for an unknown api before the body is read
      const body = jsonObject(request.body)
      const creds = body.credential_json
      if (creds !== undefined) {
        if (creds !== null && (typeof creds !== 'object' || Array.isArray(creds))) fail('BAD_REQUEST', 'credential_json must be an object')
        exchanges.setCredentials(api, creds as Record<string, unknown> | null)
      }
      return apiAnswer(api)
    })
    hma.get('/c/exchanges/api/:api/schema', async (request) => {
      const api = param(request, 'api')
      let adapter
      try {
        adapter = exchanges.adapter(api)
      } catch {
        fail('NOT_FOUND', `Exchange API '${api}' not found`)
      }
      return {
        config_schema: { fields: adapter.settingsFields },
        credentials_schema: adapter.credentialFields.length === 0 ? null : { fields: adapter.credentialFields.map((name) => ({ name, type: 'string', required: true, default: null, help: '', choices: null })) },
      }
    })

    hma.post('/c/exchanges', async (request, reply) => {
      const body = jsonObject(request.body)
      if (body.bank === undefined) fail('BAD_REQUEST', 'bank is required')
      const apiJson = body.api_json ?? {}
      if (typeof apiJson !== 'object' || apiJson === null || Array.isArray(apiJson)) fail('BAD_REQUEST', 'Field `api_json` must be object')
      if (body.api === undefined) fail('BAD_REQUEST', 'Field `api_type` is required')
      if (typeof body.api !== 'string' || !exchanges.apis().includes(body.api as never)) fail('BAD_REQUEST', `No such exchange type '${String(body.api)}'`)
      const { name: _n, api: _a, enabled, interval_seconds: interval, ...settings } = apiJson as Record<string, unknown>
      await exchanges.create({ name: body.bank, api: body.api, settings, enabled, intervalSeconds: interval })
      return reply.status(201).send({ message: 'Created successfully' })
    })
    hma.get('/c/exchanges', async () => (await exchanges.list()).map((c) => c.name))
    hma.get('/c/exchange/:name', async (request) => hmaExchangeJson(await exchanges.get(param(request, 'name'))))
    hma.get('/c/exchange/:name/status', async (request) => hmaFetchStatus(await exchanges.status(param(request, 'name'))))
    hma.put('/c/exchange/:name', async (request) => {
      const body = jsonObject(request.body ?? {})
      const name = param(request, 'name')
      await exchanges.get(name)
      if (body.enabled !== undefined && body.enabled !== null && typeof body.enabled !== 'boolean') fail('BAD_REQUEST', 'enabled must be true or false')
      return hmaExchangeJson(await exchanges.update(name, { enabled: body.enabled ?? undefined, intervalSeconds: body.interval_seconds }))
    })
    hma.delete('/c/exchange/:name', async (request) => {
      await exchanges.remove(param(request, 'name'))
      return { message: 'Exchange deleted' }
    })
  })
}

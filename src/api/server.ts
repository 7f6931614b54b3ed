/**
 * The process edge of the API: the fastify instance (logger, body limits, validator options), the routes
 * plugin (app.ts) over the node's use cases, listen (127.0.0.1 by default) and graceful close.
 */
import Fastify, { type FastifyInstance } from 'fastify'
import type { DecodeGate } from '../hash/decode-gate.js'
import type { HashmeshNode } from '../node/node.js'
import { NodeService } from '../node/service.js'
import { hashmeshRoutes } from './app.js'
import type { UrlFetchSeams } from '../node/banks-service.js'
import { hmaRoutes } from './hma-routes.js'
import { registerExchangeRoutes } from './exchange-routes.js'
import { createMetrics } from './metrics.js'
import { localControlsRoutes } from './local-controls-routes.js'
import { LocalControlsService } from '../node/local-controls-service.js'
import { incidentRoutes } from './incident-routes.js'
import { IncidentsService } from '../node/incidents-service.js'
import { consoleRoutes } from './console/routes.js'
import { consolePasswordReader } from './console/password.js'
import { collectGarbage } from '../heap.js'
import { ownAddress, warmUpRequestPath, warmUpSocketPath } from './warm-up.js'

export interface AppOptions {
  token: string | (() => string)
  bodyLimitBytes: number
  jsonBodyLimitBytes: number
  logger?: boolean | object
  /** The gate media routes decode through; by default one from the node's config (hash.maxConcurrentDecodes). */
  decodeGate?: DecodeGate
  /** Test only: seams of the HMA routes' `?url=` fetcher (node/media-fetch.ts). */
  urlFetch?: UrlFetchSeams
}

export interface ApiServer {
  url: string
  app: FastifyInstance
  close(): Promise<void>
}

/** A ready fastify instance serving the node's API (tests drive it with app.inject, no port opened). */
export async function buildApp(node: HashmeshNode, options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: options.logger ?? false, bodyLimit: options.jsonBodyLimitBytes, ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false } } })
  // One service, so one decode gate, for the /v1 media routes and the HMA routes.
  const service = new NodeService(node, { decodeGate: options.decodeGate, urlFetch: options.urlFetch })
  await hashmeshRoutes(app, {
    service,
    metrics: createMetrics(node),
    token: options.token,
    bodyLimitBytes: options.bodyLimitBytes,
  })
  const banks = service.banksService
  const localControls = new LocalControlsService(node)
  await localControlsRoutes(app, { service: localControls })
  const incidents = new IncidentsService(node)
  await incidentRoutes(app, { service: incidents })
  await hmaRoutes(app, { service: banks, bodyLimitBytes: options.bodyLimitBytes })
  await registerExchangeRoutes(app, node)
  const token = options.token
  await app.register(consoleRoutes, { service, banks, localControls, incidents, token: typeof token === 'function' ? token : () => token, password: consolePasswordReader(node.identity.dataDir) })
  return app
}

export async function startApiServer(node: HashmeshNode, options: AppOptions & { host: string; port: number }): Promise<ApiServer> {
  const app = await buildApp(node, options)
  await app.ready()
  const token = () => (typeof options.token === 'function' ? options.token() : options.token)
  await warmUpRequestPath(app, token())
  collectGarbage() // (before the first request: see heap.ts)
  await app.listen({ host: options.host, port: options.port })
  const address = app.server.address()
  const port = typeof address === 'object' && address ? address.port : options.port
  await warmUpSocketPath(ownAddress(options.host), port, token())
  const host = options.host.includes(':') ? `[${options.host}]` : options.host
  return { url: `http://${host}:${port}`, app, close: () => app.close() }
}

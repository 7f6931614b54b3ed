/** The process edge of the API: listen (127.0.0.1 by default) and close gracefully. */
import type { FastifyInstance } from 'fastify'
import type { HashmeshNode } from '../node/node.js'
import { buildApp, type AppOptions } from './app.js'

export interface ApiServer {
  url: string
  app: FastifyInstance
  close(): Promise<void>
}

export async function startApiServer(node: HashmeshNode, options: AppOptions & { host: string; port: number }): Promise<ApiServer> {
  const app = await buildApp(node, options)
  await app.listen({ host: options.host, port: options.port })
  const address = app.server.address()
  const port = typeof address === 'object' && address ? address.port : options.port
  const host = options.host.includes(':') ? `[${options.host}]` : options.host
  return { url: `http://${host}:${port}`, app, close: () => app.close() }
}

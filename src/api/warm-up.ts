/**
 * The API's first request, asked by the node itself before it listens (startApiServer): GET /status through
 * fastify's inject, with no socket. A fresh process compiles the request path (routing, the auth and start-up
 * hooks, the HMA route, the reply) on first use, so the first client's /status took 9-15 ms where the next
 * took 1-2 ms; after this one, 5-7 ms (what is left is Node's own HTTP server code, met first by a real
 * socket). /metrics does not count it: it was no client's.
 */
import { randomUUID } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'

const HEADER = 'x-hashmesh-warm-up'
/** Per process and unguessable: a client that sends the header is still counted. */
const NONCE = randomUUID()

export async function warmUpRequestPath(app: FastifyInstance, token: string): Promise<void> {
  await app.inject({ method: 'GET', url: '/status', headers: { authorization: `Bearer ${token}`, [HEADER]: NONCE } })
}

/** Whether `request` is warmUpRequestPath's. */
export function isWarmUp(request: FastifyRequest): boolean {
  return request.headers[HEADER] === NONCE
}

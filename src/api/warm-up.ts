/**
 * The API's first two requests, asked by the node itself (startApiServer):
 * - before it listens, GET /status through fastify's inject, with no socket. A fresh process compiles the
 *   request path (routing, the auth and start-up hooks, the HMA route, the reply) on first use, so the first
 *   client's /status took 9-15 ms where the next took 1-2 ms; after this one, 5-7 ms;
 * - just after it listens, the same request over a real TCP connection, for what was left: node's own HTTP
 *   server code (accepting, the parser, writing the answer, closing). The first curl after a start took
 *   6.6-9.6 ms without it and 2.0-4.4 ms with it (8 starts each, alternately, 2026-12-01).
 * /metrics counts neither: they were no client's.
 */
import { randomUUID } from 'node:crypto'
import { connect } from 'node:net'
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

/** A socket warm-up that has not ended by then is abandoned: the node starts anyway. */
const SOCKET_WARM_UP_TIMEOUT_MS = 1_000

/**
 * The API's second request, asked by the node itself over a real socket just after it listens: the same GET
 * /status on a plain TCP connection, so that node's own HTTP server code (accepting the connection, the parser,
 * writing the answer, closing) is compiled before a client's first request. Resolves when the server has
 * closed the connection, on an error, or after a second.
 */
export function warmUpSocketPath(host: string, port: number, token: string): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect({ host, port })
    const done = () => {
      clearTimeout(timer)
      socket.destroy()
      resolve()
    }
    const timer = setTimeout(done, SOCKET_WARM_UP_TIMEOUT_MS)
    socket.once('error', done)
    socket.once('close', done)
    socket.resume() // (the answer is not read: it is only asked for)
    socket.end(`GET /status HTTP/1.1\r\nhost: ${host}\r\nauthorization: Bearer ${token}\r\n${HEADER}: ${NONCE}\r\nconnection: close\r\n\r\n`)
  })
}

/** Where this node reaches its own API: the address it listens on, or loopback when that is every address. */
export function ownAddress(listenHost: string): string {
  if (listenHost === '0.0.0.0' || listenHost === '') return '127.0.0.1'
  if (listenHost === '::') return '::1'
  return listenHost.replace(/^\[|\]$/g, '')
}

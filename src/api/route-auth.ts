/**
 * Per-route authentication. Every route needs the API bearer token unless its fastify route config says
 * otherwise (`config: { auth }`): the app's one onRequest hook (app.ts) reads it and calls checkRouteAuth.
 *   'bearer'   `Authorization: Bearer <token>` (the default)
 *   'open'     no token (the health check, the OpenAPI document)
 *   'loopback' no token when both ends of the connection are loopback; a bearer, if sent, must be right
 *   {header}   the token in that header (a reverse proxy adds it), or the bearer
 * The HMA routes declare theirs from config hma.auth (hma-routes.ts); nothing rewrites requests.
 */
import { timingSafeEqual } from 'node:crypto'
import { isIP } from 'node:net'
import type { FastifyRequest } from 'fastify'
import { fail } from '../errors.js'

export type RouteAuth = 'bearer' | 'open' | 'loopback' | { header: string }

export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true
  if (isIP(host) === 4) return host.startsWith('127.')
  return host === '::1' || host === '[::1]' || host.startsWith('::ffff:127.')
}

function tokenMatches(given: string | undefined, token: string): boolean {
  if (given === undefined) return false
  const a = Buffer.from(given)
  const b = Buffer.from(token)
  return a.length === b.length && timingSafeEqual(a, b)
}

function bearerOf(header: string | undefined): string | undefined {
  return header?.startsWith('Bearer ') ? header.slice(7) : undefined
}

/** The auth a route declared in its config, 'bearer' when it declared none. */
export function routeAuthOf(request: FastifyRequest): RouteAuth {
  return (request.routeOptions.config as { auth?: RouteAuth } | undefined)?.auth ?? 'bearer'
}

/** Throws UNAUTHORIZED unless the request satisfies `auth`; `token` is read only when a token is needed. */
export function checkRouteAuth(request: FastifyRequest, auth: RouteAuth, token: () => string): void {
  if (auth === 'open') return
  const authorization = request.headers.authorization
  if (auth === 'loopback' && authorization === undefined && isLoopbackHost(request.socket.localAddress ?? '') && isLoopbackHost(request.socket.remoteAddress ?? '')) return
  let expected: string
  try {
    expected = token()
  } catch (cause) {
    // An unreadable token file (missing, mode not 0600) is the server's fault: 500, details in the log only.
    fail('INTERNAL', 'cannot read the API token', { cause })
  }
  let given = bearerOf(authorization)
  if (typeof auth === 'object' && authorization === undefined) {
    const value = request.headers[auth.header.toLowerCase()]
    given = typeof value === 'string' && value.length > 0 ? value : undefined
  }
  // An empty token file must not let an empty bearer in.
  if (expected.length === 0 || !tokenMatches(given, expected)) fail('UNAUTHORIZED', 'missing or wrong bearer token (see DIR/api.token)')
}

/**
 * The HTTP client the node gives its exchanges (exchange/http.ts HttpGet): http and https only, every
 * address a host resolves to checked against the loopback, private, link-local and reserved ranges
 * inside the socket's own lookup (guarded-http.ts, shared with HMA's ?url= fetching), IP literals
 * checked before connecting, redirects followed by hand (each hop checked again, at most 3, never to
 * another origin with the request's Authorization), a body cap and one deadline per request. Unlike
 * media fetching there is no host allow-list: the operator names each exchange's URL.
 *
 * `allowLoopbackForTests` lets 127.0.0.1 through (and only it): tests' mock servers. Nothing in config
 * can set it.
 */
import { lookup as dnsLookup } from 'node:dns'
import { HashmeshError } from '../errors.js'
import type { HttpGet, HttpRequest, HttpResponse } from '../exchange/http.js'
import { EXCHANGE_LIMITS } from '../exchange/types.js'
import { guardedLookup, ipLiteralOf, isBlockedAddress, openRequest, parseHttpUrl, readCapped, type LookupFunction } from './guarded-http.js'

const MAX_REDIRECTS = 3

export interface ExchangeHttpOptions {
  /** Test only: 127.0.0.1 may be connected to. */
  allowLoopbackForTests?: boolean
  lookup?: LookupFunction
}

const refused = (message: string) => new HashmeshError('URL_REFUSED', message)
const where = (url: URL) => `${url.host}${url.pathname}`

export function createExchangeHttp(options: ExchangeHttpOptions = {}): HttpGet {
  const addressOk = (address: string) => (options.allowLoopbackForTests === true && address === '127.0.0.1') || !isBlockedAddress(address)
  const lookup = guardedLookup(options.lookup ?? (dnsLookup as unknown as LookupFunction), addressOk, refused)

  return async (request: HttpRequest): Promise<HttpResponse> => {
    const timeoutMs = request.timeoutMs ?? EXCHANGE_LIMITS.defaultTimeoutMs
    const maxBytes = request.maxBytes ?? EXCHANGE_LIMITS.defaultMaxBytes
    const deadline = AbortSignal.timeout(timeoutMs)
    const signal = request.signal ? AbortSignal.any([request.signal, deadline]) : deadline
    let url = parseHttpUrl(request.url, refused)
    let headers = { 'user-agent': 'hashmesh-exchange', ...request.headers }
    for (let hop = 0; ; hop++) {
      const literal = ipLiteralOf(url)
      if (literal !== undefined && !addressOk(literal)) throw refused(`${literal} is a loopback, private or link-local address`)
      const at = url
      const fail = (err: unknown) => failure(err, at, signal, timeoutMs)
      const response = await openRequest(url, { method: request.method, headers, body: request.body === undefined ? undefined : Buffer.from(request.body), lookup, signal, failure: fail })
      const status = response.statusCode ?? 0
      const location = response.headers.location
      if ([301, 302, 303, 307, 308].includes(status) && location && request.method !== 'POST') {
        response.resume()
        if (hop >= MAX_REDIRECTS) throw new HashmeshError('EXCHANGE_FETCH', `more than ${MAX_REDIRECTS} redirects from ${where(url)}`)
        const next = parseHttpUrl(new URL(location, url).toString(), refused)
        if (next.origin !== url.origin) {
          const { authorization: _dropped, ...rest } = headers as Record<string, string>
          headers = rest as typeof headers
        }
        url = next
        continue
      }
      const tooLarge = () => new HashmeshError('PAYLOAD_TOO_LARGE', `${where(at)} answered more than ${maxBytes} bytes`)
      const body = await readCapped(response, maxBytes, tooLarge, fail)
      const out: Record<string, string | undefined> = {}
      for (const [name, value] of Object.entries(response.headers)) out[name] = Array.isArray(value) ? value.join(', ') : value
      return { status, headers: out, body, url: url.toString() }
    }
  }
}


function failure(err: unknown, url: URL, signal: AbortSignal, timeoutMs: number): unknown {
  if (err instanceof HashmeshError) return err
  if (signal.aborted) {
    const reason: unknown = signal.reason
    if (reason instanceof DOMException && reason.name === 'TimeoutError') return new HashmeshError('TIMEOUT', `${where(url)} did not answer within ${timeoutMs} ms`, { cause: err })
    return reason
  }
  return new HashmeshError('EXCHANGE_FETCH', `cannot fetch ${where(url)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err })
}

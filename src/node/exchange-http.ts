/**
 * The HTTP client the node gives its exchanges (exchange/http.ts HttpGet): http and https only, every
 * address a host resolves to checked against the loopback, private, link-local and reserved ranges of
 * media-fetch.ts (the same rule as HMA's ?url= fetching) inside the socket's own lookup, IP literals
 * checked before connecting, redirects followed by hand (each hop checked again, at most 3, never to
 * another origin with the request's Authorization), a body cap and one deadline per request. Unlike
 * media fetching there is no host allow-list: the operator names each exchange's URL.
 *
 * `allowLoopbackForTests` lets 127.0.0.1 through (and only it): tests' mock servers. Nothing in config
 * can set it.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import http from 'node:http'
import https from 'node:https'
import { isIP } from 'node:net'
import { HashmeshError } from '../errors.js'
import type { HttpGet, HttpRequest, HttpResponse } from '../exchange/http.js'
import { EXCHANGE_LIMITS } from '../exchange/types.js'
import { isBlockedAddress, type LookupFunction } from './media-fetch.js'

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
  const base = options.lookup ?? (dnsLookup as unknown as LookupFunction)
  const lookup: LookupFunction = (hostname, lookupOptions, callback) => {
    base(hostname, { ...lookupOptions, all: true }, (err, found) => {
      if (err) return callback(err, '')
      const addresses = (Array.isArray(found) ? found : [{ address: found, family: isIP(found) }]) as LookupAddress[]
      const bad = addresses.find((a) => !addressOk(a.address))
      if (addresses.length === 0 || bad) return callback(refused(`${hostname} resolves to ${bad?.address ?? 'no address'}: loopback, private and link-local destinations are refused`), '')
      if (lookupOptions.all) callback(null, addresses)
      else callback(null, addresses[0]!.address, addresses[0]!.family)
    })
  }

  return async (request: HttpRequest): Promise<HttpResponse> => {
    const timeoutMs = request.timeoutMs ?? EXCHANGE_LIMITS.defaultTimeoutMs
    const maxBytes = request.maxBytes ?? EXCHANGE_LIMITS.defaultMaxBytes
    const deadline = AbortSignal.timeout(timeoutMs)
    const signal = request.signal ? AbortSignal.any([request.signal, deadline]) : deadline
    let url = checkUrl(request.url)
    let headers = { 'user-agent': 'hashmesh-exchange', ...request.headers }
    for (let hop = 0; ; hop++) {
      const host = url.hostname.replace(/^\[|\]$/g, '')
      if (isIP(host) !== 0 && !addressOk(host)) throw refused(`${host} is a loopback, private or link-local address`)
      const response = await send(url, request, headers, lookup, signal, timeoutMs)
      const status = response.statusCode ?? 0
      const location = response.headers.location
      if ([301, 302, 303, 307, 308].includes(status) && location && request.method !== 'POST') {
        response.resume()
        if (hop >= MAX_REDIRECTS) throw new HashmeshError('EXCHANGE_FETCH', `more than ${MAX_REDIRECTS} redirects from ${where(url)}`)
        const next = checkUrl(new URL(location, url).toString())
        if (next.origin !== url.origin) {
          const { authorization: _dropped, ...rest } = headers as Record<string, string>
          headers = rest as typeof headers
        }
        url = next
        continue
      }
      const body = await readCapped(response, maxBytes, url, signal, timeoutMs)
      const out: Record<string, string | undefined> = {}
      for (const [name, value] of Object.entries(response.headers)) out[name] = Array.isArray(value) ? value.join(', ') : value
      return { status, headers: out, body, url: url.toString() }
    }
  }
}

function checkUrl(raw: string): URL {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw refused('not a URL')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw refused(`only http and https are fetched, not ${url.protocol}`)
  if (url.username || url.password) throw refused('URLs with credentials in them are not fetched')
  return url
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

function send(url: URL, request: HttpRequest, headers: Record<string, string>, lookup: LookupFunction, signal: AbortSignal, timeoutMs: number): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(failure(new Error('aborted'), url, signal, timeoutMs))
    const client = url.protocol === 'https:' ? https : http
    const body = request.body === undefined ? undefined : Buffer.from(request.body)
    const req = client.request(url, {
      method: request.method ?? 'GET', lookup: lookup as never, agent: false, signal,
      headers: { ...headers, ...(body ? { 'content-length': String(body.length) } : {}) },
    }, resolve)
    req.on('error', (err) => reject(failure(err, url, signal, timeoutMs)))
    req.end(body)
  })
}

function readCapped(response: http.IncomingMessage, maxBytes: number, url: URL, signal: AbortSignal, timeoutMs: number): Promise<Buffer> {
  const tooLarge = () => new HashmeshError('PAYLOAD_TOO_LARGE', `${where(url)} answered more than ${maxBytes} bytes`)
  const declared = Number(response.headers['content-length'])
  if (Number.isFinite(declared) && declared > maxBytes) {
    response.destroy()
    return Promise.reject(tooLarge())
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    response.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > maxBytes) {
        response.destroy()
        reject(tooLarge())
      } else chunks.push(chunk)
    })
    response.on('end', () => resolve(Buffer.concat(chunks)))
    response.on('error', (err) => reject(failure(err, url, signal, timeoutMs)))
    response.on('close', () => {
      if (!response.complete) reject(failure(new Error('the connection closed before the body ended'), url, signal, timeoutMs))
    })
  })
}

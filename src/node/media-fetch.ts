/**
 * Fetches media by URL for HMA's `?url=` routes, the one place a node opens an HTTP connection to a host a
 * client names. A client must not be able to make the node reach what only the node can reach (its own API,
 * the LAN, a cloud metadata endpoint), so each hop of a fetch:
 *
 *   1. is http: or https: and names a host on the allow-list (config hma.urlHosts; empty: every URL refused);
 *   2. resolves the host once, checks EVERY address it resolves to against the loopback, private,
 *      link-local, CGNAT, multicast and reserved ranges, and connects to a checked address: the check runs
 *      inside the socket's own `lookup`, so the address checked is the address connected to (a DNS answer
 *      that changes between a check and the connection, "DNS rebinding", has nothing to slip through);
 *      an IP literal is checked the same way (sockets skip the lookup for literals);
 *   3. follows a redirect only by going through 1 and 2 again (at most `maxRedirects`).
 *
 * The body is capped (`maxBytes`: 413 from the Content-Length, or as soon as the stream passes it) and the
 * whole fetch, redirects included, has one deadline (`timeoutMs`). The address rules, the lookup and the
 * capped read are guarded-http.ts's (shared with the exchanges' client). Built on node:http/https with a `lookup`
 * of our own rather than a library: the guard is this file, small enough to read whole, and the packages that
 * do this (request-filtering-agent, ssrf-req-filter) check the address in a socket event after the lookup,
 * which leaves the happy-eyeballs path (several addresses tried in turn) harder to reason about.
 */
import { lookup as dnsLookup } from 'node:dns'
import { HashmeshError } from '../errors.js'
import { guardedLookup, ipLiteralOf, isBlockedAddress, openRequest, parseHttpUrl, readCapped, type LookupFunction } from './guarded-http.js'

export { isBlockedAddress, type LookupFunction } from './guarded-http.js'

export interface MediaFetchOptions {
  /** Host names that may be fetched: exact (case-insensitive), or `*.example.org` for its subdomains. */
  allowHosts: readonly string[]
  maxBytes: number
  /** For the whole fetch, redirects included. */
  timeoutMs: number
  maxRedirects?: number
  signal?: AbortSignal
  /** Resolver (tests give their own; default dns.lookup). */
  lookup?: LookupFunction
  /** Test only: these exact addresses may be connected to although they are loopback or private. */
  trustAddresses?: readonly string[]
}

export interface FetchedMedia {
  bytes: Buffer
  /** The Content-Type the server declared (parameters removed), if any. */
  contentType: string | undefined
  /** The URL the bytes came from (after redirects). */
  url: string
}

export const DEFAULT_MAX_REDIRECTS = 3

export function hostAllowed(host: string, allowHosts: readonly string[]): boolean {
  const name = host.toLowerCase().replace(/\.$/, '')
  return allowHosts.some((entry) => {
    const allowed = entry.toLowerCase()
    return allowed.startsWith('*.') ? name.endsWith(allowed.slice(1)) && name.length > allowed.length - 1 : name === allowed
  })
}

const refused = (message: string): HashmeshError => new HashmeshError('URL_REFUSED', message, { details: { status: 403 } })

/** The URL, checked for scheme and host (step 1). */
function checkUrl(raw: string, allowHosts: readonly string[]): URL {
  const url = parseHttpUrl(raw, refused, () => new HashmeshError('BAD_REQUEST', `not a URL: ${JSON.stringify(raw.slice(0, 200))}`))
  if (allowHosts.length === 0) throw refused('fetching by url is off: hma.urlHosts (the hosts media may be fetched from) is empty')
  const host = url.hostname.replace(/^\[|\]$/g, '')
  if (!hostAllowed(host, allowHosts)) throw refused(`host ${host} is not in hma.urlHosts`)
  return url
}

/** Fetches `raw`, following at most `maxRedirects` redirects, each through the same checks. */
export async function fetchMedia(raw: string, options: MediaFetchOptions): Promise<FetchedMedia> {
  const trusted = new Set(options.trustAddresses ?? [])
  const addressOk = (address: string) => trusted.has(address) || !isBlockedAddress(address)
  const lookup = guardedLookup(options.lookup ?? (dnsLookup as unknown as LookupFunction), addressOk, refused)
  const deadline = AbortSignal.timeout(options.timeoutMs)
  const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS
  let url = checkUrl(raw, options.allowHosts)
  for (let hop = 0; ; hop++) {
    const literal = ipLiteralOf(url)
    if (literal !== undefined && !addressOk(literal)) throw refused(`${literal} is a loopback, private or link-local address`)
    const at = url
    const failure = (err: unknown) => wrapError(err, at, signal, options.timeoutMs)
    const response = await openRequest(url, { headers: { accept: 'image/*, video/*, */*;q=0.5', 'user-agent': 'hashmesh' }, lookup, signal, failure })
    const status = response.statusCode ?? 0
    if (status >= 300 && status < 400 && status !== 304) {
      response.resume()
      const location = response.headers.location
      if (!location) throw new HashmeshError('URL_FETCH_FAILED', `${url.host} answered ${status} without a Location`, { details: { status: 502 } })
      if (hop >= maxRedirects) throw new HashmeshError('URL_FETCH_FAILED', `more than ${maxRedirects} redirects from ${raw}`, { details: { status: 502 } })
      url = checkUrl(new URL(location, url).toString(), options.allowHosts)
      continue
    }
    if (status < 200 || status >= 300) {
      response.resume()
      throw new HashmeshError('URL_FETCH_FAILED', `${url.host} answered ${status} for ${url.pathname}`, { details: { status: 502 } })
    }
    const tooLarge = (declared: number | undefined) =>
      new HashmeshError('PAYLOAD_TOO_LARGE', `the media at ${at.host} is ${declared === undefined ? 'larger' : `${declared} bytes`}, over the ${options.maxBytes}-byte limit`, { details: { status: 413 } })
    const bytes = await readCapped(response, options.maxBytes, tooLarge, failure)
    const contentType = response.headers['content-type']?.split(';')[0]?.trim().toLowerCase() || undefined
    return { bytes, contentType, url: url.toString() }
  }
}

function timeoutError(url: URL, timeoutMs: number, cause?: unknown): HashmeshError {
  return new HashmeshError('TIMEOUT', `fetching ${url.host} took longer than ${timeoutMs} ms`, { cause, details: { status: 504 } })
}

function wrapError(err: unknown, url: URL, signal: AbortSignal, timeoutMs: number): unknown {
  if (err instanceof HashmeshError) return err
  if (signal.aborted) {
    const reason: unknown = signal.reason
    return reason instanceof DOMException && reason.name === 'TimeoutError' ? timeoutError(url, timeoutMs, err) : reason
  }
  return new HashmeshError('URL_FETCH_FAILED', `cannot fetch ${url.host}: ${(err as Error).message}`, { cause: err, details: { status: 502 } })
}

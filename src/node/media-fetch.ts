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
 * whole fetch, redirects included, has one deadline (`timeoutMs`). Built on node:http/https with a `lookup`
 * of our own rather than a library: the guard is this file, small enough to read whole, and the packages that
 * do this (request-filtering-agent, ssrf-req-filter) check the address in a socket event after the lookup,
 * which leaves the happy-eyeballs path (several addresses tried in turn) harder to reason about.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import http from 'node:http'
import https from 'node:https'
import { BlockList, isIP } from 'node:net'
import { fail, HashmeshError } from '../errors.js'

/** dns.lookup's shape, as http.request's `lookup` option calls it. */
export type LookupFunction = (
  hostname: string,
  options: { all?: boolean; family?: number | string; hints?: number },
  callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
) => void

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

/**
 * Addresses a fetch never connects to: not on the public internet, or not unicast. Two lists, because a
 * BlockList checks an IPv4 address against IPv6 rules as its mapped form (::ffff:a.b.c.d).
 */
const BLOCKED_V4 = new BlockList()
const BLOCKED_V6 = new BlockList()
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24],
  ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) BLOCKED_V4.addSubnet(net, prefix, 'ipv4')
for (const [net, prefix] of [
  ['::', 96], // unspecified, loopback (::1) and IPv4-compatible
  ['::ffff:0:0', 96], // IPv4-mapped: whatever IPv4 address it carries
  ['64:ff9b::', 96], ['64:ff9b:1::', 48], // NAT64: may carry a private IPv4 address
  ['100::', 64], ['2001::', 23], ['2001:db8::', 32], ['2002::', 16], // discard, IETF/Teredo, documentation, 6to4
  ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8], // unique local, link-local, site-local, multicast
] as const) BLOCKED_V6.addSubnet(net, prefix, 'ipv6')

/** Loopback, private, link-local or otherwise not a public unicast address (IP text, v4 or v6). */
export function isBlockedAddress(address: string): boolean {
  const family = isIP(address)
  if (family === 4) return BLOCKED_V4.check(address, 'ipv4')
  if (family === 6) return BLOCKED_V6.check(address, 'ipv6')
  return true // not an address at all
}

export function hostAllowed(host: string, allowHosts: readonly string[]): boolean {
  const name = host.toLowerCase().replace(/\.$/, '')
  return allowHosts.some((entry) => {
    const allowed = entry.toLowerCase()
    return allowed.startsWith('*.') ? name.endsWith(allowed.slice(1)) && name.length > allowed.length - 1 : name === allowed
  })
}

const refused = (message: string): HashmeshError => new HashmeshError('URL_REFUSED', message, { details: { status: 403 } })

/** The lookup a socket uses: resolves, refuses the lot if any address is blocked, else hands on the checked ones. */
function guardedLookup(base: LookupFunction, addressOk: (address: string) => boolean): LookupFunction {
  return (hostname, options, callback) => {
    base(hostname, { ...options, all: true }, (err, found) => {
      if (err) return callback(err, '')
      const addresses = (Array.isArray(found) ? found : [{ address: found, family: isIP(found) }]).filter((a) => a.address)
      if (addresses.length === 0) return callback(refused(`${hostname} resolves to no address`), '')
      const bad = addresses.find((a) => !addressOk(a.address))
      if (bad) return callback(refused(`${hostname} resolves to ${bad.address}, a loopback, private or link-local address`), '')
      if (options.all) callback(null, addresses)
      else callback(null, addresses[0]!.address, addresses[0]!.family)
    })
  }
}

/** The URL, checked for scheme and host (step 1). */
function checkUrl(raw: string, allowHosts: readonly string[]): URL {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    fail('BAD_REQUEST', `not a URL: ${JSON.stringify(raw.slice(0, 200))}`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw refused(`only http and https URLs are fetched, not ${url.protocol}`)
  if (url.username || url.password) throw refused('URLs with credentials are not fetched')
  if (allowHosts.length === 0) throw refused('fetching by url is off: hma.urlHosts (the hosts media may be fetched from) is empty')
  const host = url.hostname.replace(/^\[|\]$/g, '')
  if (!hostAllowed(host, allowHosts)) throw refused(`host ${host} is not in hma.urlHosts`)
  return url
}

/** Fetches `raw`, following at most `maxRedirects` redirects, each through the same checks. */
export async function fetchMedia(raw: string, options: MediaFetchOptions): Promise<FetchedMedia> {
  const trusted = new Set(options.trustAddresses ?? [])
  const addressOk = (address: string) => trusted.has(address) || !isBlockedAddress(address)
  const lookup = guardedLookup(options.lookup ?? (dnsLookup as unknown as LookupFunction), addressOk)
  const deadline = AbortSignal.timeout(options.timeoutMs)
  const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS
  let url = checkUrl(raw, options.allowHosts)
  for (let hop = 0; ; hop++) {
    const host = url.hostname.replace(/^\[|\]$/g, '')
    if (isIP(host) !== 0 && !addressOk(host)) throw refused(`${host} is a loopback, private or link-local address`)
    const response = await get(url, lookup, signal, options.timeoutMs)
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
    const bytes = await readCapped(response, options.maxBytes, signal, url, options.timeoutMs)
    const contentType = response.headers['content-type']?.split(';')[0]?.trim().toLowerCase() || undefined
    return { bytes, contentType, url: url.toString() }
  }
}

function timeoutError(url: URL, timeoutMs: number, cause?: unknown): HashmeshError {
  return new HashmeshError('TIMEOUT', `fetching ${url.host} took longer than ${timeoutMs} ms`, { cause, details: { status: 504 } })
}

function get(url: URL, lookup: LookupFunction, signal: AbortSignal, timeoutMs: number): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason instanceof DOMException && signal.reason.name === 'TimeoutError' ? timeoutError(url, timeoutMs) : signal.reason)
    const client = url.protocol === 'https:' ? https : http
    // agent: false: a fresh socket per hop, so no pooled connection bypasses this hop's lookup.
    const request = client.get(url, { lookup: lookup as never, agent: false, signal, headers: { accept: 'image/*, video/*, */*;q=0.5', 'user-agent': 'hashmesh' } }, resolve)
    request.on('error', (err) => reject(wrapError(err, url, signal, timeoutMs)))
  })
}

function wrapError(err: unknown, url: URL, signal: AbortSignal, timeoutMs: number): unknown {
  if (err instanceof HashmeshError) return err
  if (signal.aborted) {
    const reason: unknown = signal.reason
    return reason instanceof DOMException && reason.name === 'TimeoutError' ? timeoutError(url, timeoutMs, err) : reason
  }
  return new HashmeshError('URL_FETCH_FAILED', `cannot fetch ${url.host}: ${(err as Error).message}`, { cause: err, details: { status: 502 } })
}

function readCapped(response: http.IncomingMessage, maxBytes: number, signal: AbortSignal, url: URL, timeoutMs: number): Promise<Buffer> {
  const tooLarge = (what: string) => new HashmeshError('PAYLOAD_TOO_LARGE', `the media at ${url.host} is ${what}, over the ${maxBytes}-byte limit`, { details: { status: 413 } })
  const declared = Number(response.headers['content-length'])
  if (Number.isFinite(declared) && declared > maxBytes) {
    response.destroy()
    return Promise.reject(tooLarge(`${declared} bytes`))
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    response.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > maxBytes) {
        response.destroy()
        reject(tooLarge('larger'))
        return
      }
      chunks.push(chunk)
    })
    response.on('end', () => resolve(Buffer.concat(chunks)))
    response.on('error', (err) => reject(wrapError(err, url, signal, timeoutMs)))
    response.on('close', () => {
      if (!response.complete) reject(wrapError(new Error('the connection closed before the body ended'), url, signal, timeoutMs))
    })
  })
}

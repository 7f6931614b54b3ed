/**
 * The one way a node opens an HTTP connection to a host someone else named (HMA's `?url=` media,
 * media-fetch.ts; exchanges' hash lists, exchange-http.ts): the parts both share, so the address rules
 * live in one place.
 *
 * - `guardedLookup`: the socket's own `lookup`. It resolves once, checks EVERY address the name resolves to
 *   and hands on only checked ones, so the address checked is the address connected to (a DNS answer that
 *   changes between a check and the connection, "DNS rebinding", has nothing to slip through).
 * - `isBlockedAddress`: loopback, private, link-local, CGNAT, NAT64, mapped, multicast and reserved ranges.
 *   IP literals skip the lookup, so callers check them with it before each hop.
 * - `openRequest`: one hop over node:http/https with that lookup and a fresh socket (`agent: false`: no
 *   pooled connection bypasses the hop's lookup), the caller's deadline signal.
 * - `readCapped`: the body, refused as soon as it passes the cap (from the Content-Length when declared).
 * - `parseHttpUrl`: a URL given or redirected to, as http(s) without credentials in it.
 *
 * Callers own the policy: which hosts (an allow-list or none), redirects, and the error codes they answer.
 * Built on node:http with a `lookup` of our own rather than a library: see media-fetch.ts for why.
 */
import type { LookupAddress } from 'node:dns'
import http from 'node:http'
import https from 'node:https'
import { BlockList, isIP } from 'node:net'

/**
 * `raw` as a URL that may be fetched: http or https, no user name or password in it. `refuse` makes the
 * caller's error for a URL of another kind, `notAUrl` for text that is no URL at all.
 */
export function parseHttpUrl(raw: string, refuse: (message: string) => Error, notAUrl: () => Error = () => refuse('not a URL')): URL {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw notAUrl()
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw refuse(`only http and https URLs are fetched, not ${url.protocol}`)
  if (url.username || url.password) throw refuse('URLs with credentials in them are not fetched')
  return url
}

/** dns.lookup's shape, as http.request's `lookup` option calls it. */
export type LookupFunction = (
  hostname: string,
  options: { all?: boolean; family?: number | string; hints?: number },
  callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
) => void

/**
 * Addresses never connected to: not on the public internet, or not unicast. Two lists, because a
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

/** The URL's host as an address when it is an IP literal ([::1] -> ::1), else undefined. */
export function ipLiteralOf(url: URL): string | undefined {
  const host = url.hostname.replace(/^\[|\]$/g, '')
  return isIP(host) !== 0 ? host : undefined
}

/**
 * The lookup a socket uses: resolves, refuses the lot (with `refuse`'s error) if any address is not
 * `addressOk`, else hands on the checked addresses.
 */
export function guardedLookup(base: LookupFunction, addressOk: (address: string) => boolean, refuse: (message: string) => Error): LookupFunction {
  return (hostname, options, callback) => {
    base(hostname, { ...options, all: true }, (err, found) => {
      if (err) return callback(err, '')
      const addresses = (Array.isArray(found) ? found : [{ address: found, family: isIP(found) }]).filter((a) => a.address)
      if (addresses.length === 0) return callback(refuse(`${hostname} resolves to no address`) as NodeJS.ErrnoException, '')
      const bad = addresses.find((a) => !addressOk(a.address))
      if (bad) return callback(refuse(`${hostname} resolves to ${bad.address}, a loopback, private or link-local address`) as NodeJS.ErrnoException, '')
      if (options.all) callback(null, addresses)
      else callback(null, addresses[0]!.address, addresses[0]!.family)
    })
  }
}

export interface HopOptions {
  method?: string
  headers: Record<string, string>
  body?: Uint8Array
  lookup: LookupFunction
  signal: AbortSignal
  /** Turns a socket error (or the signal's abort) into the caller's typed error. */
  failure: (err: unknown) => unknown
}

/** One request to `url` through the guarded lookup on a fresh socket; resolves with the response head. */
export function openRequest(url: URL, options: HopOptions): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    if (options.signal.aborted) return reject(options.failure(new Error('aborted')))
    const client = url.protocol === 'https:' ? https : http
    const body = options.body === undefined ? undefined : Buffer.from(options.body)
    const request = client.request(url, {
      method: options.method ?? 'GET',
      lookup: options.lookup as never,
      agent: false,
      signal: options.signal,
      headers: { ...options.headers, ...(body ? { 'content-length': String(body.length) } : {}) },
    }, resolve)
    request.on('error', (err) => reject(options.failure(err)))
    request.end(body)
  })
}

/**
 * The response body, at most `maxBytes`: refused from a larger declared Content-Length before reading, or as
 * soon as the stream passes the cap (`tooLarge` gets the declared size, or undefined). A body cut short
 * (the connection closed early) is a `failure` too.
 */
export function readCapped(response: http.IncomingMessage, maxBytes: number, tooLarge: (declared: number | undefined) => Error, failure: (err: unknown) => unknown): Promise<Buffer> {
  const declared = Number(response.headers['content-length'])
  if (Number.isFinite(declared) && declared > maxBytes) {
    response.destroy()
    return Promise.reject(tooLarge(declared))
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    response.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > maxBytes) {
        response.destroy()
        reject(tooLarge(undefined))
        return
      }
      chunks.push(chunk)
    })
    response.on('end', () => resolve(Buffer.concat(chunks)))
    response.on('error', (err) => reject(failure(err)))
    response.on('close', () => {
      if (!response.complete) reject(failure(new Error('the connection closed before the body ended')))
    })
  })
}

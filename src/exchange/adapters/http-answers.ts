/**
 * How the HTTP adapters read an answer: 401/403 are credential errors (UNAUTHORIZED: no retry before the
 * next scheduled run), 429 a rate limit (RATE_LIMITED with the Retry-After), other non-2xx EXCHANGE_FETCH,
 * an unreadable body EXCHANGE_PAYLOAD. Messages name the host and path only: query strings carry tokens
 * (ThreatExchange's access_token) and are never put in an error, a status or a log line.
 */
import { fail } from '../../errors.js'
import { EXCHANGE_LIMITS } from '../types.js'
import type { HttpResponse } from '../http.js'

/** host + path of a URL, without query or credentials. */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw)
    return `${url.host}${url.pathname}`
  } catch {
    return '(unparsable url)'
  }
}

/** Seconds from a Retry-After header (delta-seconds or an HTTP date), capped. */
export function retryAfterSeconds(header: string | undefined, now = Date.now()): number | undefined {
  if (header === undefined || header.trim() === '') return undefined
  const seconds = /^\d+$/.test(header.trim()) ? Number(header.trim()) : Math.ceil((Date.parse(header) - now) / 1000)
  if (!Number.isFinite(seconds)) return undefined
  return Math.min(EXCHANGE_LIMITS.maxRetryAfterSeconds, Math.max(1, seconds))
}

export function checkStatus(response: HttpResponse, what: string): void {
  const where = redactUrl(response.url)
  const httpStatus = response.status
  if (httpStatus === 401 || httpStatus === 403) fail('UNAUTHORIZED', `${what} refused the credentials (HTTP ${httpStatus} from ${where})`, { details: { httpStatus } })
  if (httpStatus === 429) {
    const retry = retryAfterSeconds(response.headers['retry-after'])
    fail('RATE_LIMITED', `${what} is rate-limiting this node (HTTP 429 from ${where}${retry !== undefined ? `, retry after ${retry} s` : ''})`, { details: { httpStatus, ...(retry !== undefined ? { retryAfterSeconds: retry } : {}) } })
  }
  if (httpStatus < 200 || httpStatus >= 300) fail('EXCHANGE_FETCH', `${what} answered HTTP ${httpStatus} (${where})`, { details: { httpStatus } })
}

export function jsonBody(response: HttpResponse, what: string): unknown {
  try {
    return JSON.parse(response.body.toString('utf8'))
  } catch (cause) {
    fail('EXCHANGE_PAYLOAD', `${what} answered something that is not JSON (${redactUrl(response.url)})`, { cause })
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A `next` page URL, only on the origin of the API it came from (a token is never sent anywhere else). */
export function sameOriginNext(next: unknown, base: string, what: string): string | undefined {
  if (next === null || next === undefined || next === '') return undefined
  if (typeof next !== 'string') fail('EXCHANGE_PAYLOAD', `${what}: paging.next is not a URL`)
  let url: URL
  try {
    url = new URL(next, base)
  } catch {
    fail('EXCHANGE_PAYLOAD', `${what}: paging.next is not a URL`)
  }
  if (url.origin !== new URL(base).origin) fail('EXCHANGE_PAYLOAD', `${what}: the next page is on another host (${url.host}); not followed`)
  return url.toString()
}

/** HTTP status for each error code; 5xx messages are hidden from clients, 4xx messages are precise. */
import { isHashmeshError, type ErrorCode } from '../errors.js'

const STATUS: Partial<Record<ErrorCode, number>> = {
  UNAUTHORIZED: 401,
  CSRF_REFUSED: 403,
  NOT_FOUND: 404,
  REVOKE_NOT_AUTHOR: 403,
  ROSTER_QUORUM: 403,
  EQUIVOCATION: 409,
  IDENTITY_EXISTS: 409,
  PAYLOAD_TOO_LARGE: 413,
  MEDIA_TOO_LARGE: 413,
  RECORD_TOO_LARGE: 413,
  MEDIA_UNSUPPORTED: 415,
  MEDIA_EMPTY: 422,
  MEDIA_CORRUPT: 422,
  MEDIA_TIMEOUT: 422,
  QUALITY_TOO_LOW: 422,
  RATE_LIMITED: 429,
  BUSY: 503,
  STORE_CLOSED: 503,
  NODE_UNREACHABLE: 503,
  INTERNAL: 500,
}

export function statusFor(code: ErrorCode): number {
  return STATUS[code] ?? 400
}

/** Fastify's own errors (bad JSON, body limits, media types, schema validation) as our codes. */
const FASTIFY_CODES: Record<string, { code: ErrorCode; status: number }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'PAYLOAD_TOO_LARGE', status: 413 },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'MEDIA_UNSUPPORTED', status: 415 },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'BAD_REQUEST', status: 400 },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'BAD_REQUEST', status: 400 },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'BAD_REQUEST', status: 400 },
  FST_ERR_VALIDATION: { code: 'BAD_REQUEST', status: 400 },
}

/** 5xx whose message is for the client (load shedding says when to come back); other 5xx messages stay in the log. */
const PUBLIC_5XX: ReadonlySet<ErrorCode> = new Set(['BUSY'])

export interface ErrorBody { error: { code: ErrorCode; message: string } }
export interface HttpError { status: number; body: ErrorBody; headers?: Record<string, string> }

export function toHttpError(err: unknown): HttpError {
  if (isHashmeshError(err)) {
    const status = statusFor(err.code)
    const message = status >= 500 && !PUBLIC_5XX.has(err.code) ? 'internal error' : err.message
    const retryAfter = err.details?.retryAfterSeconds
    return { status, body: { error: { code: err.code, message } }, ...(typeof retryAfter === 'number' ? { headers: { 'retry-after': String(retryAfter) } } : {}) }
  }
  const e = err as { code?: string; statusCode?: number; message?: string; validation?: unknown }
  const known = e?.code ? FASTIFY_CODES[e.code] : undefined
  if (known) return { status: known.status, body: { error: { code: known.code, message: e.message ?? known.code } } }
  if (e?.validation) return { status: 400, body: { error: { code: 'BAD_REQUEST', message: e.message ?? 'invalid request' } } }
  if (e?.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, body: { error: { code: e.statusCode === 413 ? 'PAYLOAD_TOO_LARGE' : e.statusCode === 415 ? 'MEDIA_UNSUPPORTED' : 'BAD_REQUEST', message: e.message ?? 'bad request' } } }
  }
  return { status: 500, body: { error: { code: 'INTERNAL', message: 'internal error' } } }
}

/**
 * The one error type of hashmesh. Callers tell conditions apart by `code`, never by message text.
 * HTTP and CLI layers map codes to status codes and exit messages (see api/errors.ts, cli/main.ts).
 */
export const ERROR_CODES = [
  // configuration and identity
  'CONFIG_INVALID',
  'IDENTITY_EXISTS',
  'IDENTITY_MISSING',
  'KEY_INVALID',
  // hashes and signals
  'HASH_INVALID',
  'SIGNAL_INVALID',
  'LABEL_INVALID',
  'QUALITY_TOO_LOW',
  // records
  'RECORD_DECODE',
  'RECORD_TOO_LARGE',
  'RECORD_INVALID',
  'RECORD_VERSION',
  'RECORD_KIND',
  'SIGNATURE_INVALID',
  'UNKNOWN_AUTHOR',
  'SEQ_GAP',
  'PREV_MISMATCH',
  'EQUIVOCATION',
  'FEED_EQUIVOCATED',
  'REVOKE_NOT_AUTHOR',
  'ENVELOPE_MISMATCH',
  'NOT_FOUND',
  // roster
  'ROSTER_INVALID',
  'ROSTER_QUORUM',
  // media
  'MEDIA_EMPTY',
  'MEDIA_TOO_LARGE',
  'MEDIA_UNSUPPORTED',
  'MEDIA_CORRUPT',
  'MEDIA_TIMEOUT',
  // storage, network, api
  'STORE_LOCKED',
  'STORE_CLOSED',
  'PEER_REFUSED',
  'PEER_BANNED',
  'RATE_LIMITED',
  'PROTOCOL',
  'BUSY',
  'TIMEOUT',
  'UNAUTHORIZED',
  // the web console: a state-changing request without the session's CSRF token
  'CSRF_REFUSED',
  'BAD_REQUEST',
  'PAYLOAD_TOO_LARGE',
  'NODE_UNREACHABLE',
  // exchanges (docs/exchanges.md): the source could not be fetched / answered something unreadable
  'EXCHANGE_FETCH',
  'EXCHANGE_PAYLOAD',
  // media fetched by URL (HMA's ?url=)
  'URL_REFUSED',
  'URL_FETCH_FAILED',
  'INTERNAL',
] as const

export type ErrorCode = (typeof ERROR_CODES)[number]

export class HashmeshError extends Error {
  readonly code: ErrorCode
  readonly details?: Record<string, unknown>

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'HashmeshError'
    this.code = code
    this.details = options.details
  }
}

export function isHashmeshError(err: unknown, code?: ErrorCode): err is HashmeshError {
  return (
    typeof err === 'object' &&
    err !== null &&
    (err as { name?: unknown }).name === 'HashmeshError' &&
    (code === undefined || (err as HashmeshError).code === code)
  )
}

export function fail(code: ErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }): never {
  throw new HashmeshError(code, message, options)
}

/**
 * A bug rather than a condition: the JavaScript engine's own error types, or a hashmesh error whose code
 * says the caller broke a contract (INTERNAL). Background tasks never swallow these.
 */
export function isProgrammerError(err: unknown): boolean {
  if (isHashmeshError(err)) return err.code === 'INTERNAL'
  return err instanceof TypeError || err instanceof ReferenceError || err instanceof RangeError || err instanceof SyntaxError
}

/**
 * For background promise chains (Hypercore's safetyCatch): expected runtime failures end the task quietly,
 * programmer errors are thrown again (an unhandled rejection: the process stops, as a bug should).
 */
export function safetyCatch(err: unknown): void {
  if (isProgrammerError(err)) throw err
}

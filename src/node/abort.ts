/**
 * Cancellation, js-libp2p style: every public async use case takes `{ signal?: AbortSignal }`, and callers
 * that give none get a default time-out (DEFAULT_TIMEOUTS) where the work can run long.
 */
import { fail, isHashmeshError } from '../errors.js'

export interface AbortOptions { signal?: AbortSignal }

/** Default time-outs when a caller gives no signal. */
export const DEFAULT_TIMEOUTS = {
  /** A query or a write against the node (HTTP client side). */
  requestMs: 30_000,
  /** Hashing media: a long video decodes for up to video.timeoutMs on the node itself. */
  mediaMs: 10 * 60_000,
} as const

/** Throws the signal's reason as a typed error when it has fired. */
export function checkAborted(signal: AbortSignal | undefined): void {
  if (!signal?.aborted) return
  const reason: unknown = signal.reason
  if (isHashmeshError(reason)) throw reason
  fail('TIMEOUT', 'the operation was aborted', { cause: reason })
}

/** The caller's signal, or one that fires after `ms`. */
export function withDefaultTimeout(options: AbortOptions, ms: number): AbortSignal {
  return options.signal ?? AbortSignal.timeout(ms)
}

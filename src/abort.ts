/**
 * Cancellation, js-libp2p style: public async methods of every layer take `{ signal?: AbortSignal }`.
 * An aborted signal surfaces as a typed error: the signal's reason when it is a HashmeshError, else
 * TIMEOUT. Defaults for callers that give no signal live with the node (node/abort.ts).
 */
import { raceSignal } from 'race-signal'
import { HashmeshError, isHashmeshError } from './errors.js'

export interface AbortOptions { signal?: AbortSignal }

/** The typed error for an aborted signal. */
export function abortError(signal: AbortSignal): HashmeshError {
  const reason: unknown = signal.reason
  if (isHashmeshError(reason)) return reason
  return new HashmeshError('TIMEOUT', 'the operation was aborted', { cause: reason })
}

/** Throws the signal's reason as a typed error when it has fired. */
export function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal)
}

/** The caller's signal, or one that fires after `ms`. */
export function withDefaultTimeout(options: AbortOptions, ms: number): AbortSignal {
  return options.signal ?? AbortSignal.timeout(ms)
}

/**
 * Waits for `work` until the signal fires, then stops waiting with the typed error. The work itself goes
 * on (use it for work shared with other callers, such as a sync session, or that must finish once begun,
 * such as a write already handed to LevelDB).
 */
export function raceAbort<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return work
  return raceSignal(work, signal, { translateError: abortError })
}

/**
 * Cancellation for the node's use cases: the primitives are the root's (../abort.ts, used by every layer);
 * the node adds its default time-outs for callers that give no signal.
 */
export { checkAborted, raceAbort, withDefaultTimeout, type AbortOptions } from '../abort.js'

/** Default time-outs when a caller gives no signal. */
export const DEFAULT_TIMEOUTS = {
  /** A query or a write against the node (HTTP client side). */
  requestMs: 30_000,
  /** Hashing media: a long video decodes for up to video.timeoutMs on the node itself. */
  mediaMs: 10 * 60_000,
} as const

/**
 * Repeated sync failures, summarised: the first failure with a peer is logged at once, later ones within
 * FAILURE_LOG_INTERVAL_MS are only counted and reported by the next line (`failures`: how many since the
 * last line). A peer that refuses us every half second then costs one line a minute, not 120.
 */
import type { NetLogger } from './types.js'

export const FAILURE_LOG_INTERVAL_MS = 60_000
/** Peers remembered (least recently logged dropped first). */
const MAX_SUBJECTS = 4_096

export class FailureLog {
  private readonly subjects = new Map<string, { at: number; unsaid: number }>()

  constructor(
    private readonly log: NetLogger,
    private readonly event: string,
    private readonly now: () => number = Date.now,
  ) {}

  failed(peer: string, fields: Record<string, unknown>): void {
    const now = this.now()
    const seen = this.subjects.get(peer)
    if (seen && now - seen.at < FAILURE_LOG_INTERVAL_MS) {
      seen.unsaid++
      return
    }
    this.subjects.delete(peer) // re-insert: Map order doubles as recency
    if (this.subjects.size >= MAX_SUBJECTS) this.subjects.delete(this.subjects.keys().next().value!)
    this.subjects.set(peer, { at: now, unsaid: 0 })
    this.log(this.event, { ...fields, failures: (seen?.unsaid ?? 0) + 1, ...(seen ? { sinceMs: now - seen.at } : {}) })
  }

  /** A success ends the streak: the next failure is logged at once. */
  succeeded(peer: string): void {
    this.subjects.delete(peer)
  }
}

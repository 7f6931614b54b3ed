/**
 * Refused and failed connections, by reason: counted for /metrics and logged so that an operator under
 * attack sees it at the default level, without one line per attempt (an outsider can make thousands a
 * second): at most one line per peer, or per remote address while no peer id is known, per minute, and
 * at most MAX_REFUSAL_LINES_PER_MINUTE lines in all. Each line says how many were left unsaid since.
 */
import type { NetLogger, RefusalReason } from './types.js'

/** At most one line per peer or address in this window. */
export const REFUSAL_LOG_INTERVAL_MS = 60_000
/** Lines in all per window: an outsider with many addresses (an IPv6 /48 has 65,536 /64s) must not flood the log. */
export const MAX_REFUSAL_LINES_PER_MINUTE = 120
/** Peers and addresses remembered for the per-subject window (least recently logged dropped first). */
export const MAX_REFUSAL_LOG_SUBJECTS = 4_096

export const REFUSAL_REASONS: readonly RefusalReason[] = ['notInRoster', 'banned', 'badPsk', 'handshakeTimeout', 'handshakeFailed', 'ipLimit', 'rateLimit', 'pendingLimit', 'evicted']

export function emptyRefusals(): Record<RefusalReason, number> {
  return Object.fromEntries(REFUSAL_REASONS.map((r) => [r, 0])) as Record<RefusalReason, number>
}

export interface RefusalSubject {
  peer?: string
  /** The remote IP address, when the peer id is not known yet. */
  address?: string
}

export class RefusalLog {
  private readonly subjects = new Map<string, { at: number; unsaid: number }>()
  private windowStart = 0
  private linesInWindow = 0
  /** Refusals of subjects not logged because the line budget was spent. */
  private unsaidOthers = 0

  constructor(
    private readonly log: NetLogger,
    private readonly now: () => number = Date.now,
  ) {}

  note(reason: RefusalReason, subject: RefusalSubject, direction: 'inbound' | 'outbound'): void {
    const key = subject.peer ?? subject.address ?? 'unknown'
    const now = this.now()
    const seen = this.subjects.get(key)
    if (seen && now - seen.at < REFUSAL_LOG_INTERVAL_MS) {
      seen.unsaid++
      return
    }
    if (now - this.windowStart >= REFUSAL_LOG_INTERVAL_MS) {
      this.windowStart = now
      this.linesInWindow = 0
    }
    if (this.linesInWindow >= MAX_REFUSAL_LINES_PER_MINUTE) {
      this.unsaidOthers++
      return
    }
    this.linesInWindow++
    this.subjects.delete(key) // re-insert: Map order doubles as recency
    if (this.subjects.size >= MAX_REFUSAL_LOG_SUBJECTS) this.subjects.delete(this.subjects.keys().next().value!)
    this.subjects.set(key, { at: now, unsaid: 0 })
    const fields: Record<string, unknown> = { reason, direction, ...subject, unsaidSinceLast: seen?.unsaid ?? 0 }
    if (this.unsaidOthers > 0) {
      fields.unsaidOthers = this.unsaidOthers
      this.unsaidOthers = 0
    }
    this.log('peer.refused', fields)
  }
}

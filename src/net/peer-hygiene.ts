/**
 * Per-peer bookkeeping of misbehaviour, kept apart from libp2p so it is easy to test:
 * counters of invalid data (rejected records and extras, protocol violations), bans once a peer
 * passes MAX_INVALID_PER_PEER, and a token bucket per peer on incoming sync requests.
 * The connection gater consults isBanned(); the caller closes connections when a ban starts and saves
 * banEntries() where bans outlive a restart (restoreBans() at the next start).
 */
import type { BanEntry } from './types.js'
import { fullBucket, reserveToken, type TokenBucket } from './token-bucket.js'

/** Invalid items (rejected records or extras, malformed sync messages) a peer may send before a ban. */
export const MAX_INVALID_PER_PEER = 20
/** How long a banned peer is refused by the gater. */
export const BAN_DURATION_MS = 10 * 60 * 1000
/** Incoming sync requests: burst size and sustained rate per peer. */
export const SYNC_REQUEST_BURST = 256
export const SYNC_REQUESTS_PER_SECOND = 64
/** A request over the rate waits at most this long for its token; beyond that it is refused. */
export const MAX_RATE_WAIT_MS = 1_000
/** Peers tracked at most (counters of the least recently seen are dropped first); also bans restored at most. */
export const MAX_TRACKED_PEERS = 10_000
/** Longest ban accepted from storage: a saved end further away than this is a corrupt or forged entry. */
export const MAX_RESTORED_BAN_MS = 7 * 24 * 60 * 60 * 1000
/** Longest reason kept from storage (ours are a few words). */
const MAX_REASON_LENGTH = 200

interface PeerState {
  invalid: number
  requests: TokenBucket
}

export interface HygieneOptions {
  maxInvalid?: number
  banDurationMs?: number
  requestBurst?: number
  requestsPerSecond?: number
  now?: () => number
}

export class PeerHygiene {
  private readonly peers = new Map<string, PeerState>()
  private readonly bans = new Map<string, { until: number; reason: string }>()
  private readonly maxInvalid: number
  private readonly banDurationMs: number
  private readonly burst: number
  private readonly rate: number
  private readonly now: () => number
  bansTotal = 0
  rateLimitedTotal = 0
  invalidTotal = 0

  constructor(options: HygieneOptions = {}) {
    this.maxInvalid = options.maxInvalid ?? MAX_INVALID_PER_PEER
    this.banDurationMs = options.banDurationMs ?? BAN_DURATION_MS
    this.burst = options.requestBurst ?? SYNC_REQUEST_BURST
    this.rate = options.requestsPerSecond ?? SYNC_REQUESTS_PER_SECOND
    this.now = options.now ?? Date.now
  }

  private state(peerId: string): PeerState {
    let s = this.peers.get(peerId)
    if (s) {
      this.peers.delete(peerId) // re-insert: Map order doubles as recency
    } else {
      s = { invalid: 0, requests: fullBucket(this.burst, this.now()) }
      if (this.peers.size >= MAX_TRACKED_PEERS) this.peers.delete(this.peers.keys().next().value!)
    }
    this.peers.set(peerId, s)
    return s
  }

  /** Count `n` invalid items from a peer. Returns true when this pushes the peer into a ban. */
  reportInvalid(peerId: string, n = 1, reason = 'invalid data'): boolean {
    if (n <= 0) return false
    this.invalidTotal += n
    const s = this.state(peerId)
    s.invalid += n
    if (s.invalid < this.maxInvalid || this.isBanned(peerId)) return false
    this.bans.set(peerId, { until: this.now() + this.banDurationMs, reason })
    this.bansTotal++
    s.invalid = 0 // a fresh start once the ban expires
    return true
  }

  isBanned(peerId: string): boolean {
    const ban = this.bans.get(peerId)
    if (ban === undefined) return false
    if (ban.until > this.now()) return true
    this.bans.delete(peerId)
    return false
  }

  /** Bans still running, as stored. */
  banEntries(): BanEntry[] {
    const out: BanEntry[] = []
    for (const peerId of [...this.bans.keys()]) if (this.isBanned(peerId)) out.push({ peerId, ...this.bans.get(peerId)! })
    return out
  }

  /**
   * Bans saved before a restart. Expired entries, malformed ones and ends beyond MAX_RESTORED_BAN_MS are
   * skipped; a ban already running keeps the later end. Returns how many were restored.
   */
  restoreBans(entries: readonly BanEntry[]): number {
    const now = this.now()
    let restored = 0
    for (const e of entries.slice(0, MAX_TRACKED_PEERS)) {
      if (typeof e?.peerId !== 'string' || !Number.isFinite(e.until) || e.until <= now || e.until > now + MAX_RESTORED_BAN_MS) continue
      const current = this.bans.get(e.peerId)
      if (current && current.until >= e.until) continue
      this.bans.set(e.peerId, { until: e.until, reason: String(e.reason ?? '').slice(0, MAX_REASON_LENGTH) })
      restored++
    }
    return restored
  }

  /**
   * Reserve one request token. Returns how long to wait before serving (0 = now): a peer over its rate
   * is slowed down to it rather than cut off. Returns undefined (refuse) when the wait would exceed maxWaitMs.
   */
  reserveRequestToken(peerId: string, maxWaitMs: number = MAX_RATE_WAIT_MS): number | undefined {
    const waitMs = reserveToken(this.state(peerId).requests, this.now(), this.rate, this.burst, maxWaitMs)
    if (waitMs === undefined) this.rateLimitedTotal++
    return waitMs
  }

  /** Take one request token now; false means the peer is over its rate. */
  takeRequestToken(peerId: string): boolean {
    return this.reserveRequestToken(peerId, 0) !== undefined
  }

  invalidCounts(): Record<string, number> {
    const out: Record<string, number> = {}
    for (const [peer, s] of this.peers) if (s.invalid > 0) out[peer] = s.invalid
    return out
  }

  /** Peers currently banned, with the ban's end (ms since the epoch). */
  banned(): Record<string, number> {
    const out: Record<string, number> = {}
    for (const { peerId, until } of this.banEntries()) out[peerId] = until
    return out
  }
}

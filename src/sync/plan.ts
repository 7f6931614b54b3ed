/**
 * Anti-entropy planning, pure: compare my heads with a peer's and list the ranges to ask for.
 *
 * Pull-only: each side plans what *it* is missing and asks; the other side does the same on its own
 * session. Plans are derived from the replica's current heads alone, so an interrupted sync resumes by
 * planning again (nothing to persist). Ranges are bounded (maxRecordsPerRequest) and interleaved
 * round-robin across feeds so one long feed does not starve the others; a round plans at most
 * maxRequestsPerRound requests and the next round re-plans from the heads the replica reached.
 */
import type { FeedHead } from './types.js'
import { FIRST_SEQ, SYNC_LIMITS } from '../constants.js'

export interface RangeRequest {
  feed: string
  /** First seq asked for. */
  from: number
  /** How many records, 1..maxRecordsPerRequest. */
  count: number
}

/** Same seq, different record: the author equivocated, or one side holds a forged branch. */
export interface DivergedFeed {
  feed: string
  seq: number
  mine: string
  theirs: string
}

export interface SyncPlan {
  requests: RangeRequest[]
  /** Records the peer has beyond my heads, over all feeds (including those beyond this round). */
  missing: number
  /** Feeds where we are ahead: the peer will pull them on its own session. */
  ahead: number
  diverged: DivergedFeed[]
  /** True when `requests` stops short of `missing` (maxRequests reached). */
  truncated: boolean
}

export interface PlanOptions {
  maxRecordsPerRequest?: number
  maxRequests?: number
  /**
   * Feeds frozen at a fork (an equivocation proof at seq f): plan at most up to f - 1, the common prefix
   * both branches share, and never report them as diverged (their heads differ by design).
   */
  frozenAt?: ReadonlyMap<string, number>
}

/** Heads by feed; when a list names a feed twice the higher seq wins. */
export function indexHeads(heads: readonly FeedHead[]): Map<string, FeedHead> {
  const byFeed = new Map<string, FeedHead>()
  for (const head of heads) {
    const known = byFeed.get(head.feed)
    if (!known || head.seq > known.seq) byFeed.set(head.feed, head)
  }
  return byFeed
}

/** Split [from, to] (inclusive) into requests of at most `max` records. */
export function splitRange(feed: string, from: number, to: number, max: number = SYNC_LIMITS.maxRecordsPerRequest): RangeRequest[] {
  const out: RangeRequest[] = []
  for (let start = from; start <= to; start += max) out.push({ feed, from: start, count: Math.min(max, to - start + 1) })
  return out
}

export function planRanges(mine: readonly FeedHead[], theirs: readonly FeedHead[], options: PlanOptions = {}): SyncPlan {
  const maxPerRequest = Math.max(1, Math.min(options.maxRecordsPerRequest ?? SYNC_LIMITS.maxRecordsPerRequest, SYNC_LIMITS.maxRecordsPerRequest))
  const maxRequests = Math.max(1, options.maxRequests ?? SYNC_LIMITS.maxRequestsPerRound)
  const myHeads = indexHeads(mine)
  const theirHeads = indexHeads(theirs)

  // per feed, a cursor over what is missing; sorted by feed so plans are deterministic
  const cursors: { feed: string; next: number; last: number }[] = []
  const diverged: DivergedFeed[] = []
  let missing = 0
  let ahead = 0
  for (const feed of [...theirHeads.keys()].sort()) {
    const their = theirHeads.get(feed)!
    const my = myHeads.get(feed)
    const mySeq = my?.seq ?? FIRST_SEQ - 1
    const fork = options.frozenAt?.get(feed)
    const last = fork === undefined ? their.seq : Math.min(their.seq, fork - 1)
    if (last > mySeq) {
      cursors.push({ feed, next: mySeq + 1, last })
      missing += last - mySeq
    } else if (fork !== undefined) {
      continue
    } else if (my && their.seq === my.seq && their.id !== my.id) {
      diverged.push({ feed, seq: my.seq, mine: my.id, theirs: their.id })
    } else if (their.seq < mySeq) {
      ahead++
    }
  }
  for (const feed of myHeads.keys()) if (!theirHeads.has(feed)) ahead++

  // round-robin: one request per feed per turn
  const requests: RangeRequest[] = []
  let live = cursors
  while (live.length > 0 && requests.length < maxRequests) {
    for (const c of live) {
      if (requests.length >= maxRequests) break
      const count = Math.min(maxPerRequest, c.last - c.next + 1)
      requests.push({ feed: c.feed, from: c.next, count })
      c.next += count
    }
    live = live.filter((c) => c.next <= c.last)
  }
  const planned = requests.reduce((n, r) => n + r.count, 0)
  return { requests, missing, ahead, diverged, truncated: planned < missing }
}

/** What is still missing of `req` after `received` records came back (a short answer). */
export function remainderOf(req: RangeRequest, received: number): RangeRequest | undefined {
  if (received <= 0 || received >= req.count) return undefined
  return { feed: req.feed, from: req.from + received, count: req.count - received }
}

/** Total seq advance from `before` to `after` over the given feeds (or all of `after`). */
export function progressBetween(before: readonly FeedHead[], after: readonly FeedHead[], feeds?: Iterable<string>): number {
  const b = indexHeads(before)
  const a = indexHeads(after)
  let advance = 0
  for (const feed of feeds ?? a.keys()) {
    advance += Math.max(0, (a.get(feed)?.seq ?? 0) - (b.get(feed)?.seq ?? 0))
  }
  return advance
}

/** True when I hold every record the peer announced (diverged feeds aside). */
export function isCaughtUp(mine: readonly FeedHead[], theirs: readonly FeedHead[]): boolean {
  const myHeads = indexHeads(mine)
  return theirs.every((h) => (myHeads.get(h.feed)?.seq ?? 0) >= h.seq)
}

/**
 * What the node did over the last 24 hours, minute by minute, kept in memory only (a restart starts a
 * new day): records received per member, match requests and hits, and how long records took to arrive
 * (now minus the author's timestamp). Also the feed heads each peer announced at its last sync session
 * and how far that session had to catch up. Feeds the console's charts and its "here vs peers" table;
 * a fixed ring of 1,440 minutes, so its size does not grow with traffic.
 */
import type { SignedRecord } from '../record/types.js'

export const ACTIVITY_MINUTES = 1440
const MINUTE_MS = 60_000

interface Minute {
  /** Minute start (ms since the epoch); 0 for a slot not used yet. */
  at: number
  received: Map<string, number>
  matchRequests: number
  matchHits: number
  delaySumMs: number
  delayCount: number
  delayMaxMs: number
}

export interface ActivityMinute {
  at: number
  /** Records received from others, by author key. */
  received: Record<string, number>
  matchRequests: number
  matchHits: number
  /** Mean and largest propagation delay of the records received this minute (ms), null without any. */
  delayMeanMs: number | null
  delayMaxMs: number | null
}

export interface PeerSyncFacts {
  peerId: string
  at: number
  ok: boolean
  heads: Array<{ feed: string; seq: number }>
  missingAtStart: number
  accepted: number
}

export interface ActivityView {
  since: number
  minutes: ActivityMinute[]
  peers: PeerSyncFacts[]
}

export class ActivityLog {
  private readonly ring: Minute[] = Array.from({ length: ACTIVITY_MINUTES }, () => emptyMinute(0))
  private readonly lastSync = new Map<string, PeerSyncFacts>()
  private readonly started: number

  constructor(private readonly ownKey: string, private readonly now: () => number = Date.now) {
    this.started = now()
  }

  /** Committed records: those by other authors count as received, with their propagation delay. */
  recordsCommitted(records: readonly SignedRecord[]): void {
    const now = this.now()
    const minute = this.slot(now)
    for (const r of records) {
      if (r.author === this.ownKey) continue
      minute.received.set(r.author, (minute.received.get(r.author) ?? 0) + 1)
      const delay = Math.max(0, now - r.timestamp)
      minute.delaySumMs += delay
      minute.delayCount++
      if (delay > minute.delayMaxMs) minute.delayMaxMs = delay
    }
  }

  matched(queries: number, hits: number): void {
    const minute = this.slot(this.now())
    minute.matchRequests += queries
    minute.matchHits += hits
  }

  synced(report: { peerId: string; ok: boolean; peerHeads?: Array<{ feed: string; seq: number }>; missingAtStart: number; records: { accepted: number } }): void {
    const previous = this.lastSync.get(report.peerId)
    // A failed session keeps the heads the peer announced last time, if it announced none now.
    const heads = report.peerHeads ?? previous?.heads ?? []
    this.lastSync.set(report.peerId, { peerId: report.peerId, at: this.now(), ok: report.ok, heads, missingAtStart: report.missingAtStart, accepted: report.records.accepted })
  }

  /** The last `minutes` minutes, oldest first, every minute present (zeros where nothing happened). */
  view(minutes = ACTIVITY_MINUTES): ActivityView {
    const count = Math.max(1, Math.min(ACTIVITY_MINUTES, Math.floor(minutes)))
    const current = Math.floor(this.now() / MINUTE_MS) * MINUTE_MS
    const out: ActivityMinute[] = []
    for (let i = count - 1; i >= 0; i--) {
      const at = current - i * MINUTE_MS
      const m = this.ring[(at / MINUTE_MS) % ACTIVITY_MINUTES]!
      out.push(m.at === at ? minuteView(m) : minuteView(emptyMinute(at)))
    }
    return { since: this.started, minutes: out, peers: [...this.lastSync.values()] }
  }

  private slot(now: number): Minute {
    const at = Math.floor(now / MINUTE_MS) * MINUTE_MS
    const index = (at / MINUTE_MS) % ACTIVITY_MINUTES
    let minute = this.ring[index]!
    if (minute.at !== at) this.ring[index] = minute = emptyMinute(at)
    return minute
  }
}

function emptyMinute(at: number): Minute {
  return { at, received: new Map(), matchRequests: 0, matchHits: 0, delaySumMs: 0, delayCount: 0, delayMaxMs: 0 }
}

function minuteView(m: Minute): ActivityMinute {
  return {
    at: m.at,
    received: Object.fromEntries(m.received),
    matchRequests: m.matchRequests,
    matchHits: m.matchHits,
    delayMeanMs: m.delayCount > 0 ? Math.round(m.delaySumMs / m.delayCount) : null,
    delayMaxMs: m.delayCount > 0 ? m.delayMaxMs : null,
  }
}

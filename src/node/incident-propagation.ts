/**
 * Which members hold each incident contribution, and since when (issue 18: "propagation: when each
 * member had each record"). A node sees three kinds of evidence:
 *
 *   - the author had it when it signed it (the record's timestamp);
 *   - this node had it when it arrived here (the incident book's receivedAt);
 *   - a peer had it at the latest when a sync session with that peer reported its head of the author's
 *     feed at or past the record's seq (sync rounds run after every new incident notice, and
 *     periodically): an upper bound, so the view says "by".
 *
 * In memory only, for the incidents still open (what was known of a closed one's contributions is dropped at
 * the next sync report): at a restart the peers' next sync sessions tell again.
 */
import type { IncidentBook } from './incidents.js'

export interface Holder { member: string; at: number; how: 'signed' | 'received' | 'peer-sync' }

export class IncidentPropagation {
  /** Record id -> member key -> the first time a peer's sync report showed the member holding it. */
  private readonly reported = new Map<string, Map<string, number>>()
  /** Per member: its peer's latest heads report (for contributions this node learnt of after that report). */
  private readonly latest = new Map<string, { at: number; seqOf: Map<string, number> }>()

  constructor(private readonly book: IncidentBook, private readonly now: () => number = Date.now) {}

  /** A sync session's report from `member`'s peer: the heads it holds (feed -> seq). */
  peerHeads(member: string | undefined, heads: ReadonlyArray<{ feed: string; seq: number }> | undefined): void {
    if (member === undefined || !heads || heads.length === 0) return
    const at = this.now()
    const seqOf = new Map(heads.map((h) => [h.feed, h.seq]))
    this.latest.set(member, { at, seqOf })
    const open = this.book.all().filter((s) => this.book.stateOf(s, at) === 'open')
    if (this.reported.size > 0) this.prune(open)
    if (open.length === 0) return
    for (const incident of open) {
      for (const c of incident.contributions.values()) {
        const seq = seqOf.get(c.author)
        if (seq === undefined || seq < c.seq) continue
        let members = this.reported.get(c.record)
        if (!members) this.reported.set(c.record, (members = new Map()))
        if (!members.has(member)) members.set(member, at)
      }
    }
  }

  /** Who holds the contribution: its author, this node, and members whose peers reported it; earliest first. */
  holders(c: { record: string; author: string; seq: number; timestamp: number; receivedAt: number }, self: string): Holder[] {
    const out = new Map<string, Holder>()
    out.set(c.author, { member: c.author, at: c.timestamp, how: 'signed' })
    if (!out.has(self)) out.set(self, { member: self, at: c.receivedAt, how: 'received' })
    for (const [member, at] of this.reported.get(c.record) ?? []) if (!out.has(member)) out.set(member, { member, at, how: 'peer-sync' })
    for (const [member, report] of this.latest) {
      if (!out.has(member) && (report.seqOf.get(c.author) ?? 0) >= c.seq) out.set(member, { member, at: report.at, how: 'peer-sync' })
    }
    return [...out.values()].sort((a, b) => a.at - b.at)
  }

  /** Forgets the contributions of incidents no longer open (what it knew of them is not shown again after a close). */
  private prune(open: ReadonlyArray<{ contributions: Map<string, unknown> }>): void {
    for (const id of this.reported.keys()) if (!open.some((s) => s.contributions.has(id))) this.reported.delete(id)
  }
}

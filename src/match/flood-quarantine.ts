/**
 * Flood quarantine (issue 18): per-member local limits on how many signals another member may add in a
 * burst (any 10 s), a minute and an hour. A record that takes its author over a limit is verified and
 * stored like any other (the replica stays complete, peers get it) but not used for matching here until
 * an operator releases it, or (with `autoRelease`) until the member's windows are back under every limit.
 * Contributions naming an incident count against their own, higher limits.
 *
 *   quar!<record id>  -> QuarantineEntry JSON
 *
 * Counting is by the record's own timestamp, clamped so that it never goes backwards within a feed (a
 * stolen key cannot spread a flood by back-dating it), and only for records signed within the last hour
 * (a node catching up on old history is not flooded by it). The windows live in memory; after a restart
 * they are re-seeded from the quarantined records, the bulk of any flood.
 */
import { safetyCatch } from '../errors.js'
import type { BatchOp, KeyValueStore } from '../store/level-db.js'
import type { SignedRecord } from '../record/types.js'
import type { LocalSuppression } from './local-switches.js'

export interface FloodLimits {
  /** Signals in any 10 seconds. */
  burst: number
  signalsPerMinute: number
  signalsPerHour: number
}

export interface QuarantineSettings {
  enabled: boolean
  limits: FloodLimits
  /** Contributions that name an incident. */
  incidentLimits: FloodLimits
  /** Release a member's quarantined records once its windows are back under every limit. */
  autoRelease: boolean
}

export type FloodRule = 'burst' | 'minute' | 'hour'

export interface QuarantineEntry {
  id: string
  author: string
  seq: number
  signals: number
  /** When this node quarantined it (local clock). */
  at: number
  /** The time it was counted at (its timestamp, clamped; see above). */
  countedAt: number
  rule: FloodRule
  /** Signals in the window that went over, this record included, and the limit. */
  count: number
  limit: number
  incident?: string
}

export interface QuarantineCounters { quarantinedRecords: number; quarantinedSignals: number; releasedRecords: number; autoReleasedRecords: number }

export type QuarantineEvent =
  | { type: 'quarantined'; entry: QuarantineEntry }
  | { type: 'released'; entries: QuarantineEntry[]; by: string; auto: boolean }

/** Burst, minute and hour. */
const SPANS_MS = [10_000, 60_000, 3_600_000] as const
const RULES: readonly FloodRule[] = ['burst', 'minute', 'hour']
/** Records older than this (by their timestamp) when they arrive are history, not a flood. */
const COUNTED_AGE_MS = SPANS_MS[2]
const PREFIX = 'quar!'
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')

/** Signals counted in the last 10 s, minute and hour, with O(1) amortised updates. */
class SlidingWindows {
  private times: number[] = []
  private counts: number[] = []
  private readonly start = [0, 0, 0]
  readonly sums = [0, 0, 0]

  add(time: number, signals: number): void {
    this.times.push(time)
    this.counts.push(signals)
    for (let i = 0; i < 3; i++) this.sums[i]! += signals
    this.advance(time)
  }

  /** Drops what is older than each span at `now`; returns the sums. */
  advance(now: number): readonly number[] {
    for (let i = 0; i < 3; i++) {
      while (this.start[i]! < this.times.length && this.times[this.start[i]!]! <= now - SPANS_MS[i]!) {
        this.sums[i]! -= this.counts[this.start[i]!]!
        this.start[i]!++
      }
    }
    const drop = this.start[2]!
    if (drop > 1024 && drop * 2 > this.times.length) {
      this.times = this.times.slice(drop)
      this.counts = this.counts.slice(drop)
      for (let i = 0; i < 3; i++) this.start[i]! -= drop
    }
    return this.sums
  }

  get empty(): boolean {
    return this.start[2] === this.times.length
  }
}

function overLimit(sums: readonly number[], limits: FloodLimits): { rule: FloodRule; count: number; limit: number } | undefined {
  const bounds = [limits.burst, limits.signalsPerMinute, limits.signalsPerHour]
  for (let i = 0; i < 3; i++) if (sums[i]! > bounds[i]!) return { rule: RULES[i]!, count: sums[i]!, limit: bounds[i]! }
  return undefined
}

interface MemberState { normal: SlidingWindows; incident: SlidingWindows; lastCounted: number }

export class FloodQuarantine {
  private readonly entries = new Map<string, QuarantineEntry>()
  private readonly members = new Map<string, MemberState>()
  private readonly described = new Map<string, LocalSuppression>()
  private readonly listeners: Array<(event: QuarantineEvent) => void> = []
  readonly counters: QuarantineCounters = { quarantinedRecords: 0, quarantinedSignals: 0, releasedRecords: 0, autoReleasedRecords: 0 }
  /** Writes in order (a release never overtakes the quarantine it undoes). */
  private writes: Promise<unknown> = Promise.resolve()

  private constructor(
    private readonly kv: KeyValueStore,
    private readonly settings: QuarantineSettings,
    /** This node's own key: its operator's contributions are never quarantined here. */
    private readonly ownKey: string,
    /** The incident a contribution names, when it names one (incidents have their own limits). */
    private readonly incidentOf: (record: SignedRecord) => string | undefined,
  ) {}

  static async open(kv: KeyValueStore, settings: QuarantineSettings, ownKey: string, incidentOf: (record: SignedRecord) => string | undefined = () => undefined): Promise<FloodQuarantine> {
    const q = new FloodQuarantine(kv, settings, ownKey, incidentOf)
    for await (const [, value] of kv.entries({ gte: PREFIX, lt: PREFIX + '\xff' })) {
      const e = JSON.parse(Buffer.from(value).toString('utf8')) as QuarantineEntry
      q.entries.set(e.id, e)
    }
    for (const e of [...q.entries.values()].sort((a, b) => a.countedAt - b.countedAt)) {
      const m = q.member(e.author)
      ;(e.incident ? m.incident : m.normal).add(e.countedAt, e.signals)
      m.lastCounted = Math.max(m.lastCounted, e.countedAt)
    }
    return q
  }

  get size(): number {
    return this.entries.size
  }

  onEvent(listener: (event: QuarantineEvent) => void): void {
    this.listeners.push(listener)
  }

  private member(key: string): MemberState {
    let m = this.members.get(key)
    if (!m) this.members.set(key, (m = { normal: new SlidingWindows(), incident: new SlidingWindows(), lastCounted: 0 }))
    return m
  }

  /** The hot path of every match: one map lookup. */
  suppression(recordId: string): LocalSuppression | undefined {
    if (this.entries.size === 0) return undefined
    const e = this.entries.get(recordId)
    if (!e) return undefined
    let d = this.described.get(recordId)
    if (!d) {
      const window = e.rule === 'burst' ? '10 s' : e.rule
      const message = `quarantined locally at ${iso(e.at)} by flood control: ${e.count} ${e.incident ? 'incident ' : ''}signals in ${e.rule === 'burst' ? 'any' : 'a'} ${window} from this member, over its limit of ${e.limit}`
      this.described.set(recordId, (d = { state: 'quarantined', since: e.at, by: 'flood control', until: null, reason: `${e.rule} limit`, message }))
    }
    return d
  }

  /**
   * Counts newly stored records (the store's commit listener: synchronous, so a quarantined record is
   * never matchable, not even between its commit and the next query). Returns what it quarantined.
   */
  observe(records: SignedRecord[], now = Date.now()): QuarantineEntry[] {
    if (!this.settings.enabled) return []
    const out: QuarantineEntry[] = []
    for (const record of records) {
      if (record.kind !== 'signals' || record.author === this.ownKey || record.timestamp < now - COUNTED_AGE_MS) continue
      const m = this.member(record.author)
      const countedAt = Math.max(record.timestamp, m.lastCounted)
      m.lastCounted = countedAt
      const incident = this.incidentOf(record)
      const windows = incident ? m.incident : m.normal
      const signals = record.body.signals.length
      windows.add(countedAt, signals)
      const over = overLimit(windows.sums, incident ? this.settings.incidentLimits : this.settings.limits)
      if (!over) continue
      const entry: QuarantineEntry = { id: record.id, author: record.author, seq: record.seq, signals, at: now, countedAt, ...over, ...(incident ? { incident } : {}) }
      this.entries.set(entry.id, entry)
      this.counters.quarantinedRecords++
      this.counters.quarantinedSignals += signals
      out.push(entry)
    }
    if (out.length > 0) {
      // A closed store ends it (the record is then quarantined in memory only, until the process stops).
      void this.write(out.map((e) => ({ type: 'put', key: PREFIX + e.id, value: Buffer.from(JSON.stringify(e)) }))).catch(safetyCatch)
      for (const entry of out) this.emit({ type: 'quarantined', entry })
    }
    return out
  }

  /** Quarantined records, oldest first; of one member when given. */
  list(member?: string): QuarantineEntry[] {
    return [...this.entries.values()].filter((e) => member === undefined || e.author === member).sort((a, b) => a.at - b.at || a.seq - b.seq)
  }

  /** Members with records in quarantine, with their windows' counts now and whether they are still over. */
  memberStates(now = Date.now()): Array<{ member: string; records: number; signals: number; window: { burst: number; minute: number; hour: number }; overLimit: boolean }> {
    const byMember = new Map<string, QuarantineEntry[]>()
    for (const e of this.entries.values()) {
      const list = byMember.get(e.author)
      if (list) list.push(e)
      else byMember.set(e.author, [e])
    }
    return [...byMember].map(([member, entries]) => {
      const m = this.member(member)
      const sums = m.normal.advance(now)
      return {
        member,
        records: entries.length,
        signals: entries.reduce((n, e) => n + e.signals, 0),
        window: { burst: sums[0]!, minute: sums[1]!, hour: sums[2]! },
        overLimit: this.stillOver(m, now),
      }
    })
  }

  private stillOver(m: MemberState, now: number): boolean {
    return overLimit(m.normal.advance(now), this.settings.limits) !== undefined || overLimit(m.incident.advance(now), this.settings.incidentLimits) !== undefined
  }

  /** An operator's release: the given records, or every record (of one member when given). */
  async release(what: { records?: string[]; member?: string; all?: boolean }, by: string): Promise<QuarantineEntry[]> {
    let chosen: QuarantineEntry[]
    if (what.records) chosen = what.records.map((id) => this.entries.get(id)).filter((e): e is QuarantineEntry => e !== undefined)
    else if (what.member !== undefined || what.all) chosen = this.list(what.member)
    else chosen = []
    await this.drop(chosen, by, false)
    return chosen
  }

  /**
   * With autoRelease: frees the records of every member whose windows are back under every limit. The
   * node calls this on a timer; tests call it with a clock.
   */
  async tick(now = Date.now()): Promise<QuarantineEntry[]> {
    if (!this.settings.autoRelease || this.entries.size === 0) return []
    const freed: QuarantineEntry[] = []
    const authors = new Set([...this.entries.values()].map((e) => e.author))
    for (const author of authors) if (!this.stillOver(this.member(author), now)) freed.push(...this.list(author))
    await this.drop(freed, 'flood control (back under its limits)', true)
    return freed
  }

  private async drop(entries: QuarantineEntry[], by: string, auto: boolean): Promise<void> {
    if (entries.length === 0) return
    for (const e of entries) {
      this.entries.delete(e.id)
      this.described.delete(e.id)
    }
    this.counters.releasedRecords += entries.length
    if (auto) this.counters.autoReleasedRecords += entries.length
    this.emit({ type: 'released', entries, by, auto })
    await this.write(entries.map((e) => ({ type: 'del', key: PREFIX + e.id })))
  }

  private write(ops: BatchOp[]): Promise<void> {
    const run = this.writes.then(() => this.kv.batch(ops))
    this.writes = run.catch(() => undefined) // the caller (or the commit listener's safetyCatch) sees the failure
    return run
  }

  /** Waits for the queued writes (tests, and stop before the store closes). */
  async flushed(): Promise<void> {
    await this.writes
  }

  private emit(event: QuarantineEvent): void {
    for (const listener of this.listeners) listener(event)
  }
}

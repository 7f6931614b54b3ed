/**
 * The incidents this node knows (issue 18, docs/protocol.md §9): notices received or signed here, checked
 * against the roster and the clock, with the contributions that name each incident and when they reached
 * this node. Kept in the replica's key-value store:
 *
 *   incident!<incident hex>                   -> the latest notice's bytes (declare, update or close)
 *   incident-rec!<incident hex>!<record id>   -> { author, seq, signals, timestamp, receivedAt } JSON
 *
 * Bad notices are refused with a code and counted: not a member (UNKNOWN_AUTHOR), expiry in the past or
 * more than INCIDENT_LIMITS.maxDurationMs ahead (RECORD_INVALID), an update by someone other than the
 * declarer (REVOKE_NOT_AUTHOR), an update of an unknown incident (NOT_FOUND), more declarations than
 * MAX_DECLARATIONS_PER_HOUR from one member (RATE_LIMITED).
 */
import { fail, isHashmeshError, safetyCatch } from '../errors.js'
import { decodeIncidentNotice, incidentLabelOf, INCIDENT_LIMITS, type EncodedIncidentNotice, type SignedIncidentNotice } from '../record/incident.js'
import type { SignedRecord } from '../record/types.js'
import type { KeyValueStore } from '../store/level-db.js'
import type { ReceiveResult } from '../sync/types.js'

/** Declarations one member may make in any hour; more are refused (RATE_LIMITED). */
export const MAX_DECLARATIONS_PER_HOUR = 5
/** Notices of any kind (updates and closes too) one member may have kept in any hour. */
export const MAX_NOTICES_PER_HOUR = 60
/** Incidents open at once, all members together; a declaration past this is refused (RATE_LIMITED). */
export const MAX_OPEN_INCIDENTS = 64
/**
 * Contributions naming an incident not known yet, kept (in memory) for when its declaration arrives: a
 * node joining mid-incident may sync the records before it has the notice.
 */
export const MAX_WAITING_CONTRIBUTIONS = 10_000
/** A notice may be signed at most this far in the future of this node's clock. */
const MAX_CLOCK_SKEW_MS = 5 * 60_000
const NOTICE = 'incident!'
const CONTRIBUTION = 'incident-rec!'
const json = (v: unknown) => Buffer.from(JSON.stringify(v))

export interface IncidentContribution { record: string; author: string; seq: number; signals: number; timestamp: number; receivedAt: number }
export interface IncidentState {
  notice: SignedIncidentNotice
  bytes: Uint8Array
  /** When this node first had the declaration, and each later notice. */
  history: Array<{ id: string; action: string; revision: number; receivedAt: number }>
  contributions: Map<string, IncidentContribution>
}
export interface IncidentCounters {
  accepted: number
  duplicate: number
  rejected: Record<string, number>
  /** Contributions naming an incident this node does not know, or one closed or expired when they arrived. */
  contributionsUnknownIncident: number
  contributionsClosedIncident: number
}

export class IncidentBook {
  private readonly incidents = new Map<string, IncidentState>()
  private readonly declarations = new Map<string, number[]>()
  private readonly notices = new Map<string, number[]>()
  private readonly waiting = new Map<string, IncidentContribution[]>()
  private waitingTotal = 0
  /** Notices are received one at a time (receive). */
  private receiving: Promise<unknown> = Promise.resolve()
  private readonly listeners: Array<(state: IncidentState, bytes: Uint8Array) => void> = []
  readonly counters: IncidentCounters = { accepted: 0, duplicate: 0, rejected: {}, contributionsUnknownIncident: 0, contributionsClosedIncident: 0 }

  private constructor(private readonly kv: KeyValueStore, private readonly isMember: (key: string) => boolean) {}

  static async open(kv: KeyValueStore, isMember: (key: string) => boolean): Promise<IncidentBook> {
    const book = new IncidentBook(kv, isMember)
    for await (const [, value] of kv.entries({ gte: NOTICE, lt: NOTICE + '\xff' })) {
      try {
        const { notice, bytes } = decodeIncidentNotice(value)
        book.incidents.set(notice.incident, { notice, bytes, history: [], contributions: new Map() })
      } catch (err) {
        if (!isHashmeshError(err)) throw err // a notice stored by another version: left alone
      }
    }
    for await (const [key, value] of kv.entries({ gte: CONTRIBUTION, lt: CONTRIBUTION + '\xff' })) {
      const [, incident] = key.split('!')
      const c = JSON.parse(Buffer.from(value).toString('utf8')) as IncidentContribution
      book.incidents.get(incident!)?.contributions.set(c.record, c)
    }
    return book
  }

  /** Called with each newly accepted notice (the network publishes it on the incidents topic). */
  onNotice(listener: (state: IncidentState, bytes: Uint8Array) => void): void {
    this.listeners.push(listener)
  }

  get(incident: string): IncidentState | undefined {
    return this.incidents.get(incident)
  }

  /** Every incident known, newest declaration first. */
  all(): IncidentState[] {
    return [...this.incidents.values()].sort((a, b) => b.notice.start - a.notice.start || a.notice.incident.localeCompare(b.notice.incident))
  }

  isOpen(incident: string, now = Date.now()): boolean {
    const s = this.incidents.get(incident)
    return s !== undefined && s.notice.action !== 'close' && s.notice.expiry > now
  }

  stateOf(s: IncidentState, now = Date.now()): 'open' | 'closed' | 'expired' {
    return s.notice.action === 'close' ? 'closed' : s.notice.expiry <= now ? 'expired' : 'open'
  }

  /** Encoded latest notices of the incidents still open: what a peer that joins mid-incident needs first. */
  openNotices(now = Date.now()): Uint8Array[] {
    return this.all().filter((s) => this.stateOf(s, now) === 'open').map((s) => s.bytes)
  }

  /** The open incident a record names with its `incident:` label, if any (flood limits, autoAct, the priority topic). */
  incidentOf(record: SignedRecord, now = Date.now()): string | undefined {
    if (record.kind !== 'signals' || this.incidents.size === 0) return undefined
    const id = incidentLabelOf(record.body.labels)
    return id !== undefined && this.isOpen(id, now) ? id : undefined
  }

  /** Refuses a contribution of this node that names an unknown, closed or expired incident. */
  checkContribution(labels: readonly string[] | undefined, now = Date.now()): void {
    const id = labels ? incidentLabelOf(labels) : undefined
    if (id === undefined) return
    const s = this.incidents.get(id)
    if (!s) {
      this.counters.contributionsUnknownIncident++
      fail('NOT_FOUND', `no incident ${id} is known here (declare it, or wait for its notice)`)
    }
    if (this.stateOf(s, now) !== 'open') {
      this.counters.contributionsClosedIncident++
      fail('RECORD_INVALID', `incident ${id} is ${this.stateOf(s, now)}: contributions may name only an open incident`)
    }
  }

  /** Notes stored contributions that name an incident (the store's commit listener). */
  observe(records: SignedRecord[], now = Date.now()): void {
    const ops: Array<{ type: 'put'; key: string; value: Uint8Array }> = []
    for (const record of records) {
      if (record.kind !== 'signals') continue
      const id = incidentLabelOf(record.body.labels)
      if (id === undefined) continue
      const s = this.incidents.get(id)
      const c: IncidentContribution = { record: record.id, author: record.author, seq: record.seq, signals: record.body.signals.length, timestamp: record.timestamp, receivedAt: now }
      if (!s) {
        this.counters.contributionsUnknownIncident++
        if (this.waitingTotal < MAX_WAITING_CONTRIBUTIONS) {
          const list = this.waiting.get(id)
          if (list) list.push(c)
          else this.waiting.set(id, [c])
          this.waitingTotal++
        }
        continue
      }
      if (this.stateOf(s, now) !== 'open') {
        this.counters.contributionsClosedIncident++
        continue
      }
      s.contributions.set(c.record, c)
      ops.push({ type: 'put', key: `${CONTRIBUTION}${id}!${c.record}`, value: json(c) })
    }
    if (ops.length > 0) void this.kv.batch(ops).catch(safetyCatch) // a closed store ends it; the records themselves are in the replica
  }

  /**
   * Checks and keeps a notice (received, or signed here). Never throws for bad input: the verdict says why.
   * One at a time: the same notice arriving at once by gossip and by catch-up (a peer joining) must meet
   * the first one's state, or it would pass the check twice (accepted, kept and republished twice).
   */
  receive(bytes: Uint8Array, now = Date.now()): Promise<ReceiveResult> {
    const run = this.receiving.then(() => this.receiveOne(bytes, now))
    this.receiving = run.catch(() => undefined) // not swallowed: the caller gets the failure from `run`; the queue only orders
    return run
  }

  private async receiveOne(bytes: Uint8Array, now: number): Promise<ReceiveResult> {
    let encoded: EncodedIncidentNotice
    try {
      encoded = decodeIncidentNotice(bytes)
      if (this.check(encoded.notice, now) === 'duplicate') {
        this.counters.duplicate++
        return { verdict: 'duplicate', id: encoded.notice.id }
      }
    } catch (err) {
      if (!isHashmeshError(err)) throw err
      this.counters.rejected[err.code] = (this.counters.rejected[err.code] ?? 0) + 1
      return { verdict: 'rejected', code: err.code, message: err.message }
    }
    const { notice } = encoded
    const previous = this.incidents.get(notice.incident)
    await this.kv.batch([{ type: 'put', key: NOTICE + notice.incident, value: bytes }])
    const state: IncidentState = previous
      ? Object.assign(previous, { notice, bytes })
      : { notice, bytes, history: [], contributions: new Map() }
    state.history.push({ id: notice.id, action: notice.action, revision: notice.revision, receivedAt: now })
    this.incidents.set(notice.incident, state)
    const waiting = this.waiting.get(notice.incident)
    if (waiting) {
      // contributions that arrived before the declaration: theirs now (counted unknown when they came)
      this.waiting.delete(notice.incident)
      this.waitingTotal -= waiting.length
      for (const c of waiting) state.contributions.set(c.record, c)
      void this.kv.batch(waiting.map((c) => ({ type: 'put' as const, key: `${CONTRIBUTION}${notice.incident}!${c.record}`, value: json(c) }))).catch(safetyCatch)
    }
    if (notice.action === 'declare') this.declarations.set(notice.author, [...(this.declarations.get(notice.author) ?? []), now])
    this.notices.set(notice.author, [...(this.notices.get(notice.author) ?? []), now])
    this.counters.accepted++
    for (const listener of this.listeners) listener(state, bytes)
    return { verdict: 'accepted', id: notice.id }
  }

  /** Throws the reason a notice is refused; 'duplicate' when this node has it, or a later one, already. */
  private check(n: SignedIncidentNotice, now: number): 'duplicate' | undefined {
    if (!this.isMember(n.author)) fail('UNKNOWN_AUTHOR', `incident notice by ${n.author.slice(0, 16)}…, not a roster member`)
    if (n.timestamp > now + MAX_CLOCK_SKEW_MS) fail('RECORD_INVALID', 'incident notice signed in the future')
    const existing = this.incidents.get(n.incident)
    if (existing && existing.notice.author === n.author && (existing.notice.id === n.id || existing.notice.revision >= n.revision)) return 'duplicate'
    const lastHour = (this.notices.get(n.author) ?? []).filter((t) => t > now - 3_600_000)
    this.notices.set(n.author, lastHour)
    // A close is never refused for the rate: it ends the incident everywhere, and one a member has sent too
    // many updates could otherwise not close, leaving nodes that refused it with the incident open until expiry.
    if (n.action !== 'close' && lastHour.length >= MAX_NOTICES_PER_HOUR) fail('RATE_LIMITED', `member ${n.author.slice(0, 16)}… sent ${lastHour.length} incident notices in the last hour (limit ${MAX_NOTICES_PER_HOUR})`)
    if (n.action === 'declare') {
      if (existing) fail('RECORD_INVALID', `incident ${n.incident} was already declared`)
      if (n.expiry <= now) fail('RECORD_INVALID', `incident expiry ${new Date(n.expiry).toISOString()} is in the past`)
      if (n.expiry > now + INCIDENT_LIMITS.maxDurationMs) fail('RECORD_INVALID', `incident expiry is more than ${INCIDENT_LIMITS.maxDurationMs / 86_400_000} days ahead`)
      const recent = (this.declarations.get(n.author) ?? []).filter((t) => t > now - 3_600_000)
      this.declarations.set(n.author, recent)
      if (recent.length >= MAX_DECLARATIONS_PER_HOUR) fail('RATE_LIMITED', `member ${n.author.slice(0, 16)}… declared ${recent.length} incidents in the last hour (limit ${MAX_DECLARATIONS_PER_HOUR})`)
      const open = this.all().filter((s) => this.stateOf(s, now) === 'open').length
      if (open >= MAX_OPEN_INCIDENTS) fail('RATE_LIMITED', `${open} incidents are open (limit ${MAX_OPEN_INCIDENTS})`)
      return undefined
    }
    if (!existing) fail('NOT_FOUND', `${n.action} of incident ${n.incident}, which is not known here`)
    if (existing.notice.author !== n.author) fail('REVOKE_NOT_AUTHOR', `only the member that declared incident ${n.incident} may ${n.action} it`)
    if (existing.notice.action === 'close') fail('RECORD_INVALID', `incident ${n.incident} is closed`)
    if (n.action === 'update' && n.expiry > now + INCIDENT_LIMITS.maxDurationMs) fail('RECORD_INVALID', `incident expiry is more than ${INCIDENT_LIMITS.maxDurationMs / 86_400_000} days ahead`)
    return undefined
  }
}

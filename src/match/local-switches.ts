/**
 * Instant local switches (issue 18): an operator's decisions, on this node only, to stop matching a
 * member's feed, one signal or one record, until a time or until resumed. Nothing is signed or sent: a
 * switch takes effect for the next match (the in-memory maps are updated before `set` returns) and the
 * replica is untouched (the switched-off records still replicate and are served to peers).
 *
 *   switch!<kind>!<target>   -> LocalSwitch JSON   (kind: member | signal | record)
 *
 * kept in the replica's key-value store, so a switch survives a restart. An expired switch stops
 * applying at its `until` (checked at match time) and leaves the store at the next `list`.
 */
import type { BatchOp, KeyValueStore } from '../store/level-db.js'

export const SWITCH_KINDS = ['member', 'signal', 'record'] as const
export type SwitchKind = (typeof SWITCH_KINDS)[number]

export interface LocalSwitch {
  kind: SwitchKind
  /** A member's feed key, a signal key `type:value`, or a record id (lowercase hex). */
  target: string
  /** When it was set (ms since the epoch). */
  at: number
  /** Who set it (operator name, free text). */
  by: string
  /** When it stops applying; null = until resumed. */
  until: number | null
  reason: string
}

/** Why a match leaves a record out, in words a moderator reads ("suspended locally at … by …"). */
export interface LocalSuppression {
  state: 'suspended' | 'disabled' | 'quarantined'
  since: number
  by: string
  until: number | null
  reason: string
  message: string
}

const PREFIX = 'switch!'
const keyOf = (kind: SwitchKind, target: string): string => `${PREFIX}${kind}!${target}`
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')

export function describeSwitch(s: LocalSwitch): LocalSuppression {
  const what = s.kind === 'member' ? 'member feed suspended' : `${s.kind} disabled`
  const message = `${what} locally at ${iso(s.at)} by ${s.by}${s.until === null ? '' : ` until ${iso(s.until)}`}${s.reason ? `: ${s.reason}` : ''}`
  return { state: s.kind === 'member' ? 'suspended' : 'disabled', since: s.at, by: s.by, until: s.until, reason: s.reason, message }
}

/** A switch with its words, computed once (a match shows the same words for every record it leaves out). */
interface Entry { s: LocalSwitch; d: LocalSuppression; until: number }

export class SwitchBook {
  private readonly byKind: Record<SwitchKind, Map<string, Entry>> = { member: new Map(), signal: new Map(), record: new Map() }
  private count = 0

  private constructor(private readonly kv: KeyValueStore) {}

  static async open(kv: KeyValueStore): Promise<SwitchBook> {
    const book = new SwitchBook(kv)
    for await (const [, value] of kv.entries({ gte: PREFIX, lt: PREFIX + '\xff' })) {
      const s = JSON.parse(Buffer.from(value).toString('utf8')) as LocalSwitch
      if (SWITCH_KINDS.includes(s.kind)) book.remember(s)
    }
    return book
  }

  get size(): number {
    return this.count
  }

  private remember(s: LocalSwitch): void {
    const map = this.byKind[s.kind]
    if (!map.has(s.target)) this.count++
    map.set(s.target, { s, d: describeSwitch(s), until: s.until ?? Infinity })
  }

  /**
   * The switch that leaves this carrier out of matching now, if any: the hot path of every match (three
   * map lookups, none when no switch is set).
   */
  suppression(author: string, recordId: string, signalKey: string, now: number): LocalSuppression | undefined {
    if (this.count === 0) return undefined
    let e = this.byKind.member.get(author)
    if (e !== undefined && e.until > now) return e.d
    e = this.byKind.record.get(recordId)
    if (e !== undefined && e.until > now) return e.d
    e = this.byKind.signal.get(signalKey)
    return e !== undefined && e.until > now ? e.d : undefined
  }

  /** Sets (or replaces) a switch: stored first, then in force. Targets are validated by the caller. */
  async set(s: LocalSwitch): Promise<LocalSwitch> {
    await this.kv.batch([{ type: 'put', key: keyOf(s.kind, s.target), value: Buffer.from(JSON.stringify(s)) }])
    this.remember(s)
    return s
  }

  /** Lifts a switch; the one lifted, or undefined when there was none. */
  async resume(kind: SwitchKind, target: string): Promise<LocalSwitch | undefined> {
    const existing = this.byKind[kind].get(target)?.s
    if (!existing) return undefined
    await this.kv.batch([{ type: 'del', key: keyOf(kind, target) }])
    this.byKind[kind].delete(target)
    this.count--
    return existing
  }

  get(kind: SwitchKind, target: string, now = Date.now()): LocalSwitch | undefined {
    return live(this.byKind[kind].get(target)?.s, now)
  }

  /** Switches in force, oldest first; expired ones are dropped from the store on the way. */
  async list(now = Date.now()): Promise<LocalSwitch[]> {
    const out: LocalSwitch[] = []
    const expired: BatchOp[] = []
    for (const kind of SWITCH_KINDS) {
      for (const { s } of this.byKind[kind].values()) {
        if (live(s, now)) out.push(s)
        else expired.push({ type: 'del', key: keyOf(kind, s.target) })
      }
    }
    if (expired.length > 0) {
      await this.kv.batch(expired)
      for (const op of expired) {
        const [, kind, target] = op.key.split('!') as [string, SwitchKind, string]
        if (this.byKind[kind].delete(target)) this.count--
      }
    }
    return out.sort((a, b) => a.at - b.at || a.target.localeCompare(b.target))
  }
}

function live(s: LocalSwitch | undefined, now: number): LocalSwitch | undefined {
  return s && (s.until === null || s.until > now) ? s : undefined
}

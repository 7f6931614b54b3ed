/**
 * The local controls' use cases (issue 18): switches (suspend a member's feed, disable a signal or a
 * record, until a time or until resumed) and the flood quarantine (list, release). One contract for
 * the HTTP routes (api/local-controls-routes.ts) and the CLI (cli/local-controls-client.ts over HTTP, or
 * this class in process); input is validated here, once.
 */
import { fail } from '../errors.js'
import { RECORD_LIMITS } from '../constants.js'
import { SWITCH_KINDS, describeSwitch, type LocalSuppression, type LocalSwitch, type SwitchKind } from '../match/local-switches.js'
import type { QuarantineEntry } from '../match/flood-quarantine.js'
import { SIGNAL_TYPES, type SignalType } from '../record/types.js'
import { checkAborted, type AbortOptions } from './abort.js'
import type { HashmeshNode } from './node.js'

/** A switch may be set at most this far ahead (HMA's disable_until_ts allows up to 2100; ten years is plenty). */
export const MAX_SWITCH_MS = 10 * 365 * 24 * 3600_000
export const MAX_SWITCH_BY_LENGTH = 64
/** Records one release names at most. */
export const MAX_RELEASE_RECORDS = 10_000
/** Hex digits of each signal type's value (a vPDQ signal's value is the SHA-256 of its frame list). */
const SIGNAL_HEX: Record<SignalType, number> = { pdq: 64, md5: 32, sha256: 64, vpdq: 64 }
const HEX64 = /^[0-9a-f]{64}$/

export interface SwitchRequest { kind: string; target: string; until?: number | null; reason?: string; by?: string }
export type SwitchView = LocalSwitch & { memberName: string | null; effect: LocalSuppression['message'] }
export type QuarantinedView = QuarantineEntry & { memberName: string | null }
export interface QuarantineView {
  records: QuarantinedView[]
  members: Array<{ member: string; memberName: string | null; records: number; signals: number; window: { burst: number; minute: number; hour: number }; overLimit: boolean }>
  counters: { quarantinedRecords: number; quarantinedSignals: number; releasedRecords: number; autoReleasedRecords: number }
  autoRelease: boolean
}
export interface ReleaseRequest { records?: string[]; member?: string; all?: boolean; by?: string }

export interface LocalControlsApi {
  switches(options?: AbortOptions): Promise<SwitchView[]>
  setSwitch(request: SwitchRequest, options?: AbortOptions): Promise<SwitchView>
  resumeSwitch(kind: string, target: string, options?: AbortOptions): Promise<SwitchView>
  quarantine(options?: AbortOptions): Promise<QuarantineView>
  releaseQuarantine(request: ReleaseRequest, options?: AbortOptions): Promise<{ released: QuarantinedView[] }>
}

export class LocalControlsService implements LocalControlsApi {
  constructor(readonly node: HashmeshNode) {}

  private get controls() {
    return this.node.localControls
  }

  private view(s: LocalSwitch): SwitchView {
    return { ...s, memberName: s.kind === 'member' ? (this.node.memberName(s.target) ?? null) : null, effect: describeSwitch(s).message }
  }

  async switches(): Promise<SwitchView[]> {
    return (await this.controls.switches.list()).map((s) => this.view(s))
  }

  async setSwitch(request: SwitchRequest, options: AbortOptions = {}): Promise<SwitchView> {
    checkAborted(options.signal)
    const kind = switchKind(request.kind)
    const target = switchTarget(kind, request.target)
    const now = Date.now()
    const until = request.until ?? null
    if (until !== null) {
      if (!Number.isSafeInteger(until)) fail('BAD_REQUEST', 'until must be a time in milliseconds since the epoch, or null')
      if (until <= now) fail('BAD_REQUEST', `until (${new Date(until).toISOString()}) is not in the future`)
      if (until > now + MAX_SWITCH_MS) fail('BAD_REQUEST', 'until is more than ten years ahead: leave it out to switch off until resumed')
    }
    const reason = request.reason ?? ''
    if (typeof reason !== 'string' || reason.length > RECORD_LIMITS.maxReasonLength) fail('BAD_REQUEST', `reason must be text of at most ${RECORD_LIMITS.maxReasonLength} characters`)
    const by = request.by ?? 'operator'
    if (typeof by !== 'string' || by.length === 0 || by.length > MAX_SWITCH_BY_LENGTH) fail('BAD_REQUEST', `by must be a name of 1 to ${MAX_SWITCH_BY_LENGTH} characters`)
    if (kind === 'member' && target === this.node.memberKey) fail('BAD_REQUEST', 'this node\'s own feed cannot be suspended here: revoke its records instead')
    return this.view(await this.controls.switches.set({ kind, target, at: now, by, until, reason }))
  }

  async resumeSwitch(kind: string, target: string, options: AbortOptions = {}): Promise<SwitchView> {
    checkAborted(options.signal)
    const k = switchKind(kind)
    const lifted = await this.controls.switches.resume(k, switchTarget(k, target))
    if (!lifted) fail('NOT_FOUND', `no ${k} switch on ${target}`)
    return this.view(lifted)
  }

  async quarantine(): Promise<QuarantineView> {
    const q = this.controls.quarantine
    const name = (key: string) => this.node.memberName(key) ?? null
    return {
      records: q.list().map((e) => ({ ...e, memberName: name(e.author) })),
      members: q.memberStates().map((m) => ({ ...m, memberName: name(m.member) })),
      counters: { ...q.counters },
      autoRelease: this.node.config.quarantine.autoRelease,
    }
  }

  async releaseQuarantine(request: ReleaseRequest, options: AbortOptions = {}): Promise<{ released: QuarantinedView[] }> {
    checkAborted(options.signal)
    const given = [request.records !== undefined, request.member !== undefined, request.all === true].filter(Boolean).length
    if (given !== 1) fail('BAD_REQUEST', 'release exactly one of: records (ids), member (feed key), all (true)')
    const records = request.records?.map((id) => hex64(id, 'record id'))
    if (records && (records.length === 0 || records.length > MAX_RELEASE_RECORDS)) fail('BAD_REQUEST', `records must list 1 to ${MAX_RELEASE_RECORDS} ids`)
    const member = request.member === undefined ? undefined : hex64(request.member, 'member key')
    const by = request.by ?? 'operator'
    if (typeof by !== 'string' || by.length === 0 || by.length > MAX_SWITCH_BY_LENGTH) fail('BAD_REQUEST', `by must be a name of 1 to ${MAX_SWITCH_BY_LENGTH} characters`)
    const released = await this.controls.quarantine.release({ records, member, all: request.all }, by)
    if (records && released.length === 0) fail('NOT_FOUND', 'none of these records is quarantined')
    return { released: released.map((e) => ({ ...e, memberName: this.node.memberName(e.author) ?? null })) }
  }
}

function switchKind(kind: unknown): SwitchKind {
  if (!SWITCH_KINDS.includes(kind as SwitchKind)) fail('BAD_REQUEST', `kind must be one of ${SWITCH_KINDS.join(', ')}`)
  return kind as SwitchKind
}

function hex64(value: unknown, what: string): string {
  const v = typeof value === 'string' ? value.toLowerCase() : ''
  if (!HEX64.test(v)) fail('BAD_REQUEST', `${what} must be 64 hex digits`)
  return v
}

/** A member key, a record id, or a signal `type:value` (lowercase), checked. */
export function switchTarget(kind: SwitchKind, target: unknown): string {
  if (kind === 'member') return hex64(target, 'member key')
  if (kind === 'record') return hex64(target, 'record id')
  const text = typeof target === 'string' ? target.toLowerCase() : ''
  const cut = text.indexOf(':')
  const type = text.slice(0, cut) as SignalType
  if (cut < 0 || !SIGNAL_TYPES.includes(type)) fail('SIGNAL_INVALID', `a signal is TYPE:VALUE with TYPE one of ${SIGNAL_TYPES.join(', ')}`)
  const value = text.slice(cut + 1)
  if (!new RegExp(`^[0-9a-f]{${SIGNAL_HEX[type]}}$`).test(value)) fail('HASH_INVALID', `a ${type} value is ${SIGNAL_HEX[type]} hex digits`)
  return `${type}:${value}`
}

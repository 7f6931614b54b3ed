/**
 * Matching queries against the replica: PDQ by Hamming range search over the in-memory PdqCatalog,
 * MD5/SHA-256 by exact lookup in the store's signal index. Every candidate is then explained from the
 * store (records carrying it, authors, labels, revocations, opinions) and judged by the local policy.
 */
import { parseHash256 } from '../hash/hash256.js'
import { fail, isHashmeshError } from '../errors.js'
import { decodeAndVerify } from '../record/codec.js'
import { signalKey, type SignalType, type SignedRecord } from '../record/types.js'
import type { ReplicaStore } from '../store/replica-store.js'
import { PdqCatalog, type FrameRef } from './pdq-catalog.js'
import { decide, summariseOpinions, type MatchPolicy, type PolicyDecision } from './policy.js'

export interface QuerySignal { type: SignalType; value: string; variant?: string }

export interface MatchRecordView {
  id: string
  member: { key: string; name: string | null }
  labels: string[]
  contentType: string
  timestamp: number
  signalIndex: number
  quality: number | null
  signatureVerified: boolean
}

export interface MatchedSignal {
  type: SignalType
  value: string
  distance: number
  query: QuerySignal
  /** Set when a query image matched a frame of a contributed video. */
  frames?: FrameRef[]
  records: MatchRecordView[]
  status: PolicyDecision['status']
  reasons: string[]
  agreeingMembers: number
  opinions: { summary: Record<string, number>; members: Array<{ member: string; name: string | null; opinion: string; timestamp: number }> }
}

export interface MatcherOptions {
  policy: MatchPolicy
  pdqThreshold: number
  isMember: (key: string) => boolean
  memberName: (key: string) => string | undefined
}

export class Matcher {
  readonly catalog = new PdqCatalog()
  private ready = false

  constructor(private readonly store: ReplicaStore, private readonly options: MatcherOptions) {
    store.onCommit((records) => this.applyCommitted(records))
  }

  get isReady(): boolean {
    return this.ready
  }

  /** Rebuilds the in-memory view from the store. */
  async rebuild(progress?: (done: number) => void): Promise<number> {
    let done = 0
    for await (const { signalKey: key, id } of this.store.iterateSignalIndex()) {
      const cut = key.indexOf(':')
      const type = key.slice(0, cut)
      if (type === 'pdq') this.catalog.addSignal(key.slice(cut + 1))
      else if (type === 'vpdq') await this.addVideoFrames(id, key.slice(cut + 1))
      if (++done % 100_000 === 0) progress?.(done)
    }
    this.ready = true
    return done
  }

  private async addVideoFrames(recordId: string, video: string): Promise<void> {
    const rec = await this.store.getRecord(recordId)
    if (rec?.record.kind !== 'signals') return
    for (const s of rec.record.body.signals) {
      if (s.type === 'vpdq' && s.value === video) for (const f of s.frames ?? []) this.catalog.addFrame(f.hash, { video, ms: f.ms, quality: f.quality })
    }
  }

  private applyCommitted(records: SignedRecord[]): void {
    for (const record of records) {
      if (record.kind === 'signals') {
        for (const s of record.body.signals) {
          if (s.type === 'pdq') this.catalog.addSignal(s.value)
          else if (s.type === 'vpdq') for (const f of s.frames ?? []) this.catalog.addFrame(f.hash, { video: s.value, ms: f.ms, quality: f.quality })
        }
      } else if (record.kind === 'revoke') {
        void this.dropIfFullyRevoked(record.body.target).catch(() => undefined)
      }
    }
  }

  /** After a revocation, hashes no live signal carries leave the in-memory index (queries re-check anyway). */
  private async dropIfFullyRevoked(targetId: string): Promise<void> {
    const target = await this.store.getRecord(targetId)
    if (target?.record.kind !== 'signals') return
    for (const s of target.record.body.signals) {
      const key = signalKey(s)
      const live = await this.liveCarriers(key)
      if (live.length > 0) continue
      if (s.type === 'pdq') this.catalog.removeSignal(s.value)
      if (s.type === 'vpdq') this.catalog.removeVideo(s.value, (s.frames ?? []).map((f) => f.hash))
    }
  }

  /** Records carrying `key` whose author has not revoked it. */
  private async liveCarriers(key: string): Promise<Array<{ record: SignedRecord; bytes: Uint8Array; index: number }>> {
    const refs = await this.store.recordsCarrying(key)
    const records = await this.store.getRecords(refs.map((r) => r.id))
    const out: Array<{ record: SignedRecord; bytes: Uint8Array; index: number }> = []
    for (let i = 0; i < refs.length; i++) {
      const rec = records[i]
      if (!rec || (await this.store.revocation(rec.record.author, key))) continue
      out.push({ ...rec, index: refs[i]!.index })
    }
    return out
  }

  async match(queries: QuerySignal[], options: { threshold?: number } = {}): Promise<MatchedSignal[]> {
    const threshold = options.threshold ?? this.options.pdqThreshold
    if (!Number.isInteger(threshold) || threshold < 0 || threshold > 128) fail('BAD_REQUEST', 'threshold must be an integer from 0 to 128')
    const found = new Map<string, MatchedSignal>()
    for (const query of queries) {
      if (query.type === 'pdq') {
        for (const hit of this.catalog.search(parseHash256(query.value), threshold)) {
          if (hit.isSignal) await this.explain(found, 'pdq', hit.hex, hit.distance, query)
          for (const frame of hit.frames) await this.explain(found, 'vpdq', frame.video, hit.distance, query, { ...frame })
        }
      } else if (query.type === 'md5' || query.type === 'sha256') {
        await this.explain(found, query.type, query.value.toLowerCase(), 0, query)
      } else {
        fail('SIGNAL_INVALID', 'match vpdq signals with a video query (frames), not a single value')
      }
    }
    return [...found.values()].sort((a, b) => a.distance - b.distance || a.value.localeCompare(b.value))
  }

  private async explain(found: Map<string, MatchedSignal>, type: SignalType, value: string, distance: number, query: QuerySignal, frame?: FrameRef): Promise<void> {
    const key = `${type}:${value}`
    const existing = found.get(key)
    if (existing) {
      if (frame && !existing.frames?.some((f) => f.ms === frame.ms)) existing.frames?.push(frame)
      if (distance < existing.distance) Object.assign(existing, { distance, query })
      return
    }
    const carriers = await this.liveCarriers(key)
    if (carriers.length === 0) return
    const opinions = await this.store.opinions(key)
    const records = carriers.map(({ record, bytes, index }) => this.recordView(record, bytes, index))
    const decision = decide(this.options.policy, records.map((r) => ({ author: r.member.key, quality: r.quality ?? undefined })), opinions, this.options.isMember)
    found.set(key, {
      type, value, distance, query,
      ...(frame ? { frames: [frame] } : {}),
      records,
      status: decision.status,
      reasons: decision.reasons,
      agreeingMembers: decision.agreeingMembers,
      opinions: {
        summary: summariseOpinions(opinions),
        members: opinions.map((o) => ({ member: o.member, name: this.options.memberName(o.member) ?? null, opinion: o.opinion, timestamp: o.timestamp })),
      },
    })
  }

  private recordView(record: SignedRecord, bytes: Uint8Array, index: number): MatchRecordView {
    if (record.kind !== 'signals') throw new Error('only signals records carry signals')
    let signatureVerified = true
    try {
      decodeAndVerify(bytes)
    } catch (err) {
      if (!isHashmeshError(err)) throw err
      signatureVerified = false
    }
    const signal = record.body.signals[index]
    return {
      id: record.id,
      member: { key: record.author, name: this.options.memberName(record.author) ?? null },
      labels: record.body.labels,
      contentType: record.body.contentType,
      timestamp: record.timestamp,
      signalIndex: index,
      quality: signal?.quality ?? null,
      signatureVerified,
    }
  }
}

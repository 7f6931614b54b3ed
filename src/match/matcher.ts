/**
 * Matching queries against the replica: PDQ by Hamming range search over the in-memory PdqCatalog,
 * MD5/SHA-256 by exact lookup in the store's signal index. Every candidate is then explained from the
 * store (records carrying it, authors, labels, revocations, opinions) and judged by the local policy.
 */
import { bytesToWordsAt, hexWordsAt, parseHash256 } from '../hash/hash256.js'
import { fail, isHashmeshError, safetyCatch } from '../errors.js'
import { decodeAndVerify, decodeRecord } from '../record/codec.js'
import { hexValue, SIGNAL_VALUE_BYTES } from '../record/body-wire.js'
import { signalKey, type SignalType, type SignedRecord } from '../record/types.js'
import type { ReplicaStore } from '../store/replica-store.js'
import { parseSignalIndexKey } from '../store/keys.js'
import { PdqCatalog, type FrameRef } from './pdq-catalog.js'
import { sharedUint32Array } from './pdq-index.js'
import { Pacer } from './steps.js'
import { decide, summariseOpinions, type MatchPolicy, type PolicyDecision } from './policy.js'
import type { LocalSuppression } from './local-switches.js'
import { matchableFrameHashes, videoOverlap, VIDEO_MATCH_MIN_QUALITY, DEFAULT_VIDEO_MATCH_THRESHOLDS, type VideoMatchThresholds, type VideoOverlap } from './video-match.js'

export interface QuerySignal {
  type: SignalType
  value: string
  variant?: string
  /** A `vpdq` query carries its frames (see matchVideo). */
  frames?: ReadonlyArray<{ hash: string; quality: number }>
}

export interface MatchRecordView {
  id: string
  member: { key: string; name: string | null }
  labels: string[]
  contentType: string
  timestamp: number
  signalIndex: number
  quality: number | null
  signatureVerified: boolean
  /** The author's feed forked at or before this record (an equivocation proof exists): see docs/protocol.md. */
  equivocated: boolean
  /** The open incident this contribution names. */
  incident?: string
  /** Left out of this match by a local switch or the flood quarantine (local-controls.ts), and why. */
  local?: LocalSuppression
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
  opinions: { summary: Record<string, number>; members: Array<{ member: string; name: string | null; opinion: string; timestamp: number; ignored?: string }> }
}

export interface MatcherOptions {
  policy: MatchPolicy
  pdqThreshold: number
  isMember: (key: string) => boolean
  memberName: (key: string) => string | undefined
  /** Frame distance and the query / candidate percentages a video match needs. */
  video?: Partial<VideoMatchThresholds>
  /** The open incident a record names (node/incidents.ts), for incident.autoAct. */
  incidentOf?: (record: SignedRecord) => string | undefined
  /** The node's local switches and flood quarantine (local-controls.ts). */
  local?: { suppression(author: string, recordId: string, signalKey: string, now: number): LocalSuppression | undefined }
  /** The node's PDQ catalog, shared with its banks (a new one when not given). */
  catalog?: PdqCatalog
}

export interface MatchOptions {
  threshold?: number
  /** Called for each bank content item a PDQ query is near (the same search as the federation's). */
  onBankContent?: (contentId: number, distance: number) => void
}

/** Signals added to the index per bulk build during a rebuild (bigger batches build faster). */
const REBUILD_BATCH = 1_000_000
/** Signal index keys (store/keys.ts signalIndexKey) of PDQ and vPDQ signals: `sig!pdq:<64 hex>!<record id>!<index>`. */
const PDQ_INDEX_PREFIX = 'sig!pdq:'
const VPDQ_INDEX_PREFIX = 'sig!vpdq:'
/** Room for at least this many hashes at first (see rebuild). */
const REBUILD_FIRST_ROOM = 65_536
/** Decoded, signature-checked records kept for explaining matches (records never change). */
const RECORD_CACHE_SIZE = 4096

interface CachedRecord { record: SignedRecord; verified: boolean }

export class Matcher {
  readonly catalog: PdqCatalog
  private ready = false
  private readonly recordCache = new Map<string, CachedRecord>()

  constructor(private readonly store: ReplicaStore, private readonly options: MatcherOptions) {
    this.catalog = options.catalog ?? new PdqCatalog()
    store.onCommit((records) => this.applyCommitted(records))
  }

  get isReady(): boolean {
    return this.ready
  }

  /** Rebuilds the in-memory view from the store, yielding to the event loop every few ms (the API answers meanwhile). */
  async rebuild(progress?: (done: number) => void): Promise<number> {
    // PDQ hashes packed into words as they are read (see PdqCatalog.addSignalWordsAsync), not kept as strings.
    // Room for every signal the store counts (PDQ ones are some of them), up to a batch, at once: doubling
    // copied up to 32 MB in one piece (10-20 ms while /status waited), and every discarded array drove a full
    // GC. It still doubles should the count be short. (Shared: the catalog's worker thread reads them where
    // they are.)
    const sink = new WordsSink(Math.min(REBUILD_BATCH, Math.max(REBUILD_FIRST_ROOM, this.store.getCounts().signals)), (words) => this.catalog.addSignalWordsAsync(words), progress)
    const pacer = new Pacer()
    if (this.store.hasPdqColumns()) {
      // One value per record holds its PDQ hashes as bytes: a thousand reads for a million hashes, where the
      // signal index is a key per hash (each a string made on the main thread: seconds of its time).
      for await (const column of this.store.pdqColumns()) {
        if (column.length % 32 !== 0) fail('INTERNAL', `the store holds a PDQ column of ${column.length} bytes (not a multiple of 32)`)
        for (let at = 0; at < column.length; at += 32) {
          if (pacer.due()) await pacer.pause()
          const base = sink.next()
          bytesToWordsAt(column, at, sink.words, base)
          if (sink.full) await sink.flush()
        }
      }
      for await (const keys of this.store.signalIndexKeyBatches(1024, 'vpdq')) {
        for (const key of keys) await this.addVideoIndexKey(key)
      }
    } else {
      // The index's keys are read in arrays and a PDQ hash is parsed where it sits in its key: no object,
      // substring or byte array per key (at a million keys that garbage kept the young generation
      // collecting, pauses of 4-19 ms while /status waited).
      for await (const keys of this.store.signalIndexKeyBatches()) {
        for (const key of keys) {
          if (pacer.due()) await pacer.pause()
          if (key.startsWith(PDQ_INDEX_PREFIX)) {
            const base = sink.next()
            if (!hexWordsAt(key, PDQ_INDEX_PREFIX.length, sink.words, base)) fail('HASH_INVALID', `the signal index holds a malformed PDQ key: ${key.slice(0, 100)}`)
            if (sink.full) await sink.flush()
          } else await this.addVideoIndexKey(key)
        }
      }
    }
    await sink.flush(false) // (the last, short batch: the caller says the index is ready)
    this.ready = true
    return this.store.getCounts().signals
  }

  /** A vPDQ signal's frames into the catalog, from its signal index key (other keys: nothing). */
  private async addVideoIndexKey(key: string): Promise<void> {
    if (!key.startsWith(VPDQ_INDEX_PREFIX)) return
    const { signalKey, id } = parseSignalIndexKey(key)
    await this.addVideoFrames(id, signalKey.slice(signalKey.indexOf(':') + 1))
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
        void this.dropIfFullyRevoked(record.body.target).catch(safetyCatch) // a closed store ends it; queries re-check revocations anyway
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
  private async liveCarriers(key: string): Promise<Array<CachedRecord & { index: number }>> {
    const refs = await this.store.recordsCarrying(key)
    const records = await this.records(refs.map((r) => r.id))
    const out: Array<CachedRecord & { index: number }> = []
    for (let i = 0; i < refs.length; i++) {
      const rec = records[i]
      if (!rec || (await this.store.revocation(rec.record.author, key))) continue
      out.push({ ...rec, index: refs[i]!.index })
    }
    return out
  }

  /**
   * Records by id, decoded and with their signature checked once (a record of 1,000 signals costs
   * milliseconds to decode and verify), then served from a bounded cache.
   */
  private async records(ids: string[]): Promise<(CachedRecord | undefined)[]> {
    const missing = ids.filter((id) => !this.recordCache.has(id))
    if (missing.length > 0) {
      const bytes = await this.store.getRecordsBytes(missing)
      missing.forEach((id, i) => {
        const b = bytes[i]
        if (!b) return
        let entry: CachedRecord
        try {
          entry = { record: decodeAndVerify(b).record, verified: true }
        } catch (err) {
          if (!isHashmeshError(err)) throw err
          entry = { record: decodeRecord(b).record, verified: false }
        }
        if (this.recordCache.size >= RECORD_CACHE_SIZE) this.recordCache.delete(this.recordCache.keys().next().value!)
        this.recordCache.set(id, entry)
      })
    }
    return ids.map((id) => this.recordCache.get(id))
  }

  async match(queries: QuerySignal[], options: MatchOptions = {}): Promise<MatchedSignal[]> {
    const threshold = options.threshold ?? this.options.pdqThreshold
    if (!Number.isInteger(threshold) || threshold < 0 || threshold > 128) fail('BAD_REQUEST', 'threshold must be an integer from 0 to 128')
    const found = new Map<string, MatchedSignal>()
    // a bank's load may still be building the shared catalog (it refuses searches until then)
    if (queries.some((q) => q.type === 'pdq')) await this.catalog.idle()
    for (const query of queries) {
      if (query.type === 'pdq') {
        for (const hit of this.catalog.search(parseHash256(query.value), threshold)) {
          if (options.onBankContent) for (const contentId of hit.bank) options.onBankContent(contentId, hit.distance)
          if (hit.isSignal) await this.explain(found, 'pdq', hit.hex, hit.distance, query)
          for (const frame of hit.frames) await this.explain(found, 'vpdq', frame.video, hit.distance, query, { ...frame })
        }
      } else if (query.type === 'md5' || query.type === 'sha256') {
        // A malformed digest would find nothing and read as "not known": refuse it like a bad PDQ.
        hexValue(query.value, SIGNAL_VALUE_BYTES[query.type], `${query.type} value`)
        await this.explain(found, query.type, query.value.toLowerCase(), 0, query)
      } else if (query.frames) {
        for (const m of await this.matchVideo(query.frames, this.options.video, { type: 'vpdq', value: query.value })) found.set(`vpdq:${m.value}`, m)
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
    const now = Date.now()
    const records = carriers.map(({ record, verified, index }) => this.recordView(record, verified, index, key, now))
    const opinionFacts = opinions.map((o) => ({ ...o, suppressed: this.options.local?.suppression(o.member, o.id, key, now)?.message }))
    const decision = decide(this.options.policy, records.map((r) => ({ author: r.member.key, quality: r.quality ?? undefined, equivocated: r.equivocated, suppressed: r.local?.message, incident: r.incident })), opinionFacts, this.options.isMember)
    found.set(key, {
      type, value, distance, query,
      ...(frame ? { frames: [frame] } : {}),
      records,
      status: decision.status,
      reasons: decision.reasons,
      agreeingMembers: decision.agreeingMembers,
      opinions: {
        summary: summariseOpinions(opinions),
        // an opinion left out of the verdict says why (its member is suspended here)
        members: opinionFacts.map((o) => ({ member: o.member, name: this.options.memberName(o.member) ?? null, opinion: o.opinion, timestamp: o.timestamp, ...(o.suppressed ? { ignored: o.suppressed } : {}) })),
      },
    })
  }

  private recordView(record: SignedRecord, signatureVerified: boolean, index: number, key: string, now: number): MatchRecordView {
    if (record.kind !== 'signals') throw new Error('only signals records carry signals')
    const signal = record.body.signals[index]
    const local = this.options.local?.suppression(record.author, record.id, key, now)
    const incident = this.options.incidentOf?.(record)
    return {
      id: record.id,
      member: { key: record.author, name: this.options.memberName(record.author) ?? null },
      labels: record.body.labels,
      contentType: record.body.contentType,
      timestamp: record.timestamp,
      signalIndex: index,
      quality: signal?.quality ?? null,
      signatureVerified,
      equivocated: isForked(this.store.forkSeq(record.author), record.seq),
      ...(incident ? { incident } : {}),
      ...(local ? { local } : {}),
    }
  }

  /**
   * A query video against every contributed video (Meta's vPDQ rule, see video-match.ts): each unique
   * query frame of quality ≥ 50 is searched in the PDQ index; per contributed video we count the query
   * frames with a hit and the distinct candidate frames hit, over the candidate's own unique frames of
   * quality ≥ 50 (read from the record carrying it). Videos reaching both percentages are explained like
   * any other match, with the overlap attached; best first.
   */
  async matchVideo(
    frames: ReadonlyArray<{ hash: string; quality: number }>,
    thresholds: Partial<VideoMatchThresholds> = {},
    query: QuerySignal = { type: 'vpdq', value: '' },
  ): Promise<Array<MatchedSignal & { video: VideoOverlap }>> {
    const limits: VideoMatchThresholds = { ...DEFAULT_VIDEO_MATCH_THRESHOLDS, ...thresholds }
    const { frameThreshold } = limits
    if (!Number.isInteger(frameThreshold) || frameThreshold < 0 || frameThreshold > 128) fail('BAD_REQUEST', 'frame threshold must be an integer from 0 to 128')
    const queryHashes = matchableFrameHashes(frames)
    const perVideo = new Map<string, { queryMatched: number; candidateHashes: Set<string>; distance: number }>()
    await this.catalog.idle()
    for (const hex of queryHashes) {
      const videosHit = new Set<string>()
      for (const hit of this.catalog.search(parseHash256(hex), frameThreshold)) {
        for (const frame of hit.frames) {
          if (frame.quality < VIDEO_MATCH_MIN_QUALITY) continue
          let tally = perVideo.get(frame.video)
          if (!tally) perVideo.set(frame.video, (tally = { queryMatched: 0, candidateHashes: new Set(), distance: hit.distance }))
          tally.candidateHashes.add(hit.hex)
          tally.distance = Math.min(tally.distance, hit.distance)
          if (!videosHit.has(frame.video)) {
            videosHit.add(frame.video)
            tally.queryMatched++
          }
        }
      }
    }
    const out: Array<MatchedSignal & { video: VideoOverlap }> = []
    for (const [video, tally] of perVideo) {
      const carrier = (await this.liveCarriers(`vpdq:${video}`))[0]
      const signal = carrier?.record.kind === 'signals' ? carrier.record.body.signals[carrier.index] : undefined
      if (!signal) continue
      const overlap = videoOverlap({
        queryFrames: queryHashes.length,
        queryMatched: tally.queryMatched,
        candidateFrames: matchableFrameHashes(signal.frames ?? []).length,
        candidateMatched: tally.candidateHashes.size,
      }, limits)
      if (!overlap.matches) continue
      const found = new Map<string, MatchedSignal>()
      await this.explain(found, 'vpdq', video, tally.distance, query)
      const explained = found.get(`vpdq:${video}`)
      if (explained) out.push({ ...explained, video: overlap })
    }
    return out.sort((a, b) => b.video.candidatePercent + b.video.queryPercent - a.video.candidatePercent - a.video.queryPercent || a.value.localeCompare(b.value))
  }

}

function isForked(forkSeq: number | undefined, seq: number): boolean {
  return forkSeq !== undefined && seq >= forkSeq
}

/** The rebuild's packed PDQ hashes, handed to the catalog's build every REBUILD_BATCH hashes. */
class WordsSink {
  private array: Uint32Array
  private n = 0
  private added = 0

  constructor(room: number, private readonly build: (words: Uint32Array) => Promise<void>, private readonly progress?: (done: number) => void) {
    this.array = sharedUint32Array(room * 8)
  }

  /** Where the next hash's 8 words go in `words` (read `words` after: it may have grown). */
  next(): number {
    if (this.n * 8 === this.array.length) {
      const grown = sharedUint32Array(this.array.length * 2)
      grown.set(this.array)
      this.array = grown
    }
    this.added++
    return this.n++ * 8
  }

  get words(): Uint32Array {
    return this.array
  }

  /** A batch is complete: flush() it. */
  get full(): boolean {
    return this.n === REBUILD_BATCH
  }

  /** Builds what was added since the last flush; `report`: tells the caller's progress. */
  async flush(report = true): Promise<void> {
    await this.build(this.array.subarray(0, this.n * 8))
    this.n = 0
    if (report) this.progress?.(this.added)
  }
}

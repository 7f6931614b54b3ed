/**
 * The local replica: every member's feed, verified, in LevelDB. How it fits together:
 *
 *   appendVerified(records) / appendOwn(build)  ->  one writer at a time (a promise chain); callers of
 *     appendVerified that arrive while a write runs share the next one (group commit)
 *     -> AppendPlan decides verdicts and LevelDB ops against committed state
 *     -> one atomic batch  -> only then the in-memory heads / pending / counts are updated
 *     -> listeners (the match index) see the committed records in feed order
 *
 * Records must already be decoded and signature-verified (VerifiedRecord); membership is the caller's job.
 *
 * Every public async method takes `{ signal }`: an aborted signal is a typed error (TIMEOUT, or the
 * signal's HashmeshError reason) and nothing is read or written. A write that waited for the writer checks
 * again when its turn comes; records already handed to a LevelDB batch are committed whole (the caller
 * stops waiting, the batch is never cut in half).
 */
import { mkdirSync } from 'node:fs'
import { checkAborted, raceAbort, type AbortOptions } from '../abort.js'
import { fail } from '../errors.js'
import { decodeRecord } from '../record/codec.js'
import { decodeProofPair, encodeProofPair, isBetterProof, type EquivocationProof } from '../record/equivocation.js'
import type { SignedRecord, VerifiedRecord } from '../record/types.js'
import type { FeedHead, ReceiveResult } from './types.js'
import { AppendPlan, pdqColumn, type Counts, type Head } from './append-plan.js'
import {
  COUNTS_KEY, parseSignalIndexKey, pdqColumnKey, pendingKey, prefixRange, proofKey, recordKey, revocationKey, rosterKey, seqKey,
} from './keys.js'
import { WHOLE_SCAN, openLevel, type BatchOp, type KeyValueStore } from './level-db.js'
import { decodeJson, decodeText, encodeJson } from './text.js'


export interface Revocation { by: string; reason: string; seq: number; target: string }
export interface OpinionEntry { member: string; opinion: string; id: string; seq: number; timestamp: number }
export type { EquivocationProof } from '../record/equivocation.js'
export type CommitListener = (records: SignedRecord[]) => void

/** A group of appendVerified calls waiting for the writer, committed as one batch. */
interface AppendGroup {
  records: VerifiedRecord[]
  callers: Array<{ start: number; count: number; resolve: (results: ReceiveResult[]) => void; reject: (err: unknown) => void }>
}

/** A group stops taking callers at this many records (a sync hands over 1,024 at a time). */
export const MAX_GROUP_RECORDS = 4096

export class ReplicaStore {
  private readonly heads = new Map<string, Head>()
  /** feed -> seq -> id -> bytes (null: on disk only). */
  private readonly pending = new Map<string, Map<number, Map<string, Uint8Array | null>>>()
  private pendingTotal = 0
  private counts: Counts = { records: 0, signals: 0, byKind: {}, equivocations: 0 }
  /** The best equivocation proof of each flagged feed (record/equivocation.ts), all read at open. */
  private readonly proofs = new Map<string, EquivocationProof>()
  private readonly listeners: CommitListener[] = []
  private readonly proofListeners: Array<(proof: EquivocationProof) => void> = []
  private writeQueue: Promise<unknown> = Promise.resolve()
  private closed = false
  /** The group waiting for the writer, if any: new appendVerified calls join it. */
  private openGroup: AppendGroup | null = null
  /** LevelDB batches written by appends (fewer than appends when calls were grouped). */
  appendBatches = 0

  private constructor(private readonly db: KeyValueStore) {}

  static async open(path: string): Promise<ReplicaStore> {
    mkdirSync(path, { recursive: true })
    const store = new ReplicaStore(await openLevel(path))
    await store.load()
    return store
  }

  /** A replica over any KeyValueStore (tests use memory-kv.ts); the replica owns it and closes it on close(). */
  static async openWith(kv: KeyValueStore): Promise<ReplicaStore> {
    const store = new ReplicaStore(kv)
    await store.load()
    return store
  }

  private async load(): Promise<void> {
    for await (const [key, value] of this.db.entries(prefixRange('head!'))) this.heads.set(key.slice(5), decodeJson<Head>(value))
    for await (const key of this.db.keys(prefixRange('pend!'))) {
      const [, feed, seq, id] = key.split('!')
      this.trackPending(feed!, Number(seq), id!, null)
    }
    const idOf = (bytes: Uint8Array) => decodeRecord(bytes).record.id
    for await (const [key, value] of this.db.entries(prefixRange('eq!'))) {
      const [, feed, seq] = key.split('!')
      const proof = decodeProofPair(feed!, Number(seq), value, idOf)
      const current = this.proofs.get(proof.feed)
      // stores written before proofs were kept one per feed may hold several: the best one counts
      if (!current || isBetterProof(proof, current)) this.proofs.set(proof.feed, proof)
    }
    const counts = await this.db.get(COUNTS_KEY)
    if (counts) this.counts = decodeJson<Counts>(counts)
    else this.counts.pdqColumns = 0 // (no record yet: every record's PDQ column is kept from the first on)
    this.counts.equivocations = this.proofs.size
  }

  private trackPending(feed: string, seq: number, id: string, bytes: Uint8Array | null): void {
    let bySeq = this.pending.get(feed)
    if (!bySeq) this.pending.set(feed, (bySeq = new Map()))
    let byId = bySeq.get(seq)
    if (!byId) bySeq.set(seq, (byId = new Map()))
    if (!byId.has(id)) this.pendingTotal++
    byId.set(id, bytes)
  }

  private untrackPending(feed: string, seq: number, id: string): void {
    const bySeq = this.pending.get(feed)
    const byId = bySeq?.get(seq)
    if (!byId?.delete(id)) return
    this.pendingTotal--
    if (byId.size === 0) bySeq!.delete(seq)
    if (bySeq!.size === 0) this.pending.delete(feed)
  }

  onCommit(listener: CommitListener): void {
    this.listeners.push(listener)
  }

  /** Called once for each new equivocation proof (detected here or received from a peer). */
  onEquivocation(listener: (proof: EquivocationProof) => void): void {
    this.proofListeners.push(listener)
  }

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    if (this.closed) fail('STORE_CLOSED', 'the store is closed')
    const run = this.writeQueue.then(task, task)
    this.writeQueue = run.catch(() => undefined) // not swallowed: the caller gets the failure from `run`; the queue only orders writes
    return run
  }

  /**
   * Appends verified records (any feeds, any order) atomically. Calls made while the writer is busy wait
   * together and go into one batch, in call order: gossip delivers records one at a time, and on a busy
   * host one LevelDB write per record (a thread-pool round trip each) made the writer the bottleneck.
   * Verdicts are the same as for separate calls in that order; a failed write fails every call in it.
   */
  appendVerified(records: VerifiedRecord[], options: AbortOptions = {}): Promise<ReceiveResult[]> {
    const joined = new Promise<ReceiveResult[]>((resolve, reject) => {
      if (this.closed) fail('STORE_CLOSED', 'the store is closed') // a rejection, as from the writer
      checkAborted(options.signal)
      let group = this.openGroup
      if (!group || group.records.length + records.length > MAX_GROUP_RECORDS) {
        group = { records: [], callers: [] }
        this.openGroup = group
        this.writeGroup(group)
      }
      group.callers.push({ start: group.records.length, count: records.length, resolve, reject })
      for (const r of records) group.records.push(r)
    })
    return raceAbort(joined, options.signal)
  }

  private writeGroup(group: AppendGroup): void {
    const run = this.exclusive(async () => {
      if (this.openGroup === group) this.openGroup = null // later calls start the next group
      const plan = this.newPlan()
      for (const item of group.records) await plan.add(item)
      await this.commit(plan)
      return plan.results
    })
    run.then(
      (results) => {
        for (const c of group.callers) c.resolve(results.slice(c.start, c.start + c.count))
      },
      (err: unknown) => {
        for (const c of group.callers) c.reject(err)
      },
    )
  }

  /** Builds own records from the current head of `feed` and appends them atomically. */
  appendOwn(feed: string, build: (head: { seq: number; id: string | null }) => VerifiedRecord[], options: AbortOptions = {}): Promise<VerifiedRecord[]> {
    checkAborted(options.signal)
    return this.exclusive(async () => {
      checkAborted(options.signal) // waited behind other writes: nothing built or signed yet
      const head = this.heads.get(feed)
      const records = build(head ? { seq: head.seq, id: head.id } : { seq: 0, id: null })
      const plan = this.newPlan()
      for (const item of records) await plan.add(item)
      const bad = plan.results.find((r) => r.verdict !== 'accepted')
      if (bad) fail('INTERNAL', `own record not accepted: ${bad.code} ${bad.message ?? ''}`)
      await this.commit(plan)
      return records
    })
  }

  private newPlan(): AppendPlan {
    const reader = {
      idAtSeq: async (feed: string, seq: number) => {
        const v = await this.db.get(seqKey(feed, seq))
        return v ? decodeText(v) : undefined
      },
      recordBytes: (id: string) => this.db.get(recordKey(id)),
      pendingBytes: async (feed: string, seq: number, id: string) =>
        this.pending.get(feed)?.get(seq)?.get(id) ?? (await this.db.get(pendingKey(feed, seq, id))),
    }
    return new AppendPlan(this.heads, reader, this.pending, this.pendingTotal, this.counts, this.proofs)
  }

  private async commit(plan: AppendPlan): Promise<void> {
    if (plan.ops.length === 0) return
    plan.finish()
    await this.db.batch(plan.ops)
    this.appendBatches++
    for (const [feed, head] of plan.heads) this.heads.set(feed, head)
    for (const [feed, bySeq] of plan.pendingChanges) {
      for (const [seq, byId] of bySeq) {
        for (const [id, bytes] of byId) {
          if (bytes === null) this.untrackPending(feed, seq, id)
          else this.trackPending(feed, seq, id, null)
        }
      }
    }
    for (const [feed, proof] of plan.newProofs) this.proofs.set(feed, proof)
    for (const proof of plan.newProofs.values()) for (const listener of this.proofListeners) listener(proof)
    this.counts = plan.counts
    if (plan.committed.length > 0) for (const listener of this.listeners) listener(plan.committed)
  }

  // ---- reads ----

  feedHeads(): FeedHead[] {
    return [...this.heads].map(([feed, h]) => ({ feed, seq: h.seq, id: h.id }))
  }

  head(feed: string): Head | undefined {
    return this.heads.get(feed)
  }

  getCounts(): Counts & { feeds: number; pending: number } {
    const { pdqColumns: _internal, ...counts } = structuredClone(this.counts)
    return { ...counts, feeds: this.heads.size, pending: this.pendingTotal }
  }

  /** Whether every stored PDQ hash is in a record's PDQ column (pdqColumns()); else read the signal index. */
  hasPdqColumns(): boolean {
    return this.counts.pdqColumns === this.counts.signals
  }

  async getRecordBytes(id: string, options: AbortOptions = {}): Promise<Uint8Array | undefined> {
    checkAborted(options.signal)
    return this.db.get(recordKey(id))
  }

  async getRecordsBytes(ids: string[], options: AbortOptions = {}): Promise<(Uint8Array | undefined)[]> {
    checkAborted(options.signal)
    return this.db.getMany(ids.map(recordKey))
  }

  async getRecord(id: string, options: AbortOptions = {}): Promise<VerifiedRecord | undefined> {
    checkAborted(options.signal)
    const bytes = await this.db.get(recordKey(id))
    return bytes ? { record: decodeRecord(bytes).record, bytes } : undefined
  }

  async getRecords(ids: string[], options: AbortOptions = {}): Promise<(VerifiedRecord | undefined)[]> {
    checkAborted(options.signal)
    const values = await this.db.getMany(ids.map(recordKey))
    return values.map((bytes) => (bytes ? { record: decodeRecord(bytes).record, bytes } : undefined))
  }

  /** Encoded records of `feed` with seq in [fromSeq, fromSeq + limit). */
  async readRange(feed: string, fromSeq: number, limit: number, options: AbortOptions = {}): Promise<Uint8Array[]> {
    checkAborted(options.signal)
    const head = this.heads.get(feed)
    if (!head || fromSeq > head.seq || limit <= 0) return []
    const ids: string[] = []
    const range = { gte: seqKey(feed, Math.max(1, fromSeq)), lt: seqKey(feed, Math.min(head.seq, fromSeq + limit - 1) + 1) }
    for await (const [, id] of this.db.entries(range)) ids.push(decodeText(id))
    checkAborted(options.signal)
    const values = await this.db.getMany(ids.map(recordKey))
    return values.filter((v): v is Uint8Array => v !== undefined)
  }

  async *iterateFeed(feed: string, fromSeq = 1, options: AbortOptions = {}): AsyncIterable<Uint8Array> {
    const head = this.heads.get(feed)
    if (!head) return
    for (let seq = fromSeq; seq <= head.seq; seq += 512) {
      for (const bytes of await this.readRange(feed, seq, 512, options)) yield bytes
    }
  }

  /**
   * The signal index's keys (signalIndexKey), in arrays of up to `size`: for reading all of them at once (the
   * matcher's rebuild); only those of one signal type with `type`.
   */
  signalIndexKeyBatches(size = 1024, type?: string): AsyncIterable<string[]> {
    return this.db.keyBatches(prefixRange(type === undefined ? 'sig!' : `sig!${type}:`), size)
  }

  /**
   * Writes the PDQ column of every stored signals record (a store begun before columns were kept, or written
   * meanwhile by a hashmesh that did not keep them), then counts them complete, so the next rebuild reads
   * them instead of the signal index. Records appended meanwhile write their own. Safe to stop anywhere:
   * rewriting a column writes the same bytes, and the count is set last. Yields to the event loop after
   * each record. Returns how many columns it wrote (0: they were complete).
   */
  async completePdqColumns(options: AbortOptions = {}): Promise<number> {
    if (this.hasPdqColumns()) return 0
    let written = 0
    let ops: BatchOp[] = []
    for await (const [, bytes] of this.db.entries(prefixRange('rec!'))) {
      checkAborted(options.signal)
      const { record } = decodeRecord(bytes)
      if (record.kind === 'signals') {
        const column = pdqColumn(record.body.signals)
        if (column) ops.push({ type: 'put', key: pdqColumnKey(record.id), value: column })
      }
      if (ops.length === 64) {
        await this.db.batch(ops)
        written += ops.length
        ops = []
      }
      await new Promise((resolve) => setImmediate(resolve))
    }
    checkAborted(options.signal)
    await this.exclusive(async () => {
      const counts = { ...this.counts, pdqColumns: this.counts.signals }
      await this.db.batch([...ops, { type: 'put', key: COUNTS_KEY, value: encodeJson(counts) }])
      this.counts = counts
    })
    return written + ops.length
  }

  /** Every record's PDQ column (keys.ts pdqColumnKey): all stored PDQ hashes when hasPdqColumns(). */
  async *pdqColumns(): AsyncIterable<Uint8Array> {
    for await (const [, value] of this.db.entries(prefixRange('pdq!'), WHOLE_SCAN)) yield value
  }

  async recordsCarrying(signalKey: string, options: AbortOptions = {}): Promise<{ id: string; index: number }[]> {
    checkAborted(options.signal)
    const out: { id: string; index: number }[] = []
    for await (const key of this.db.keys(prefixRange(`sig!${signalKey}!`))) {
      const { id, index } = parseSignalIndexKey(key)
      out.push({ id, index })
    }
    return out
  }

  async revocation(author: string, signalKey: string, options: AbortOptions = {}): Promise<Revocation | undefined> {
    checkAborted(options.signal)
    const v = await this.db.get(revocationKey(author, signalKey))
    return v ? decodeJson<Revocation>(v) : undefined
  }

  async *iterateRevocations(): AsyncIterable<{ author: string; signalKey: string; revocation: Revocation }> {
    for await (const [key, value] of this.db.entries(prefixRange('rev!'))) {
      const [, author, signalKey] = key.split('!')
      yield { author: author!, signalKey: signalKey!, revocation: decodeJson<Revocation>(value) }
    }
  }

  async opinions(signalKey: string, options: AbortOptions = {}): Promise<OpinionEntry[]> {
    checkAborted(options.signal)
    const out: OpinionEntry[] = []
    for await (const [key, value] of this.db.entries(prefixRange(`op!${signalKey}!`))) {
      out.push({ member: key.split('!')[2]!, ...decodeJson<Omit<OpinionEntry, 'member'>>(value) })
    }
    return out
  }

  async *iterateOpinions(): AsyncIterable<{ signalKey: string } & OpinionEntry> {
    for await (const [key, value] of this.db.entries(prefixRange('op!'))) {
      const [, signalKey, member] = key.split('!')
      yield { signalKey: signalKey!, member: member!, ...decodeJson<Omit<OpinionEntry, 'member'>>(value) }
    }
  }

  isEquivocating(feed: string): boolean {
    return this.proofs.has(feed)
  }

  /** The seq of the feed's fork (its best proof), from which the feed is frozen; undefined when not flagged. */
  forkSeq(feed: string): number | undefined {
    return this.proofs.get(feed)?.seq
  }

  /** Every flagged feed with the seq it is frozen from. */
  forks(): Map<string, number> {
    return new Map([...this.proofs].map(([feed, proof]) => [feed, proof.seq]))
  }

  /** The id of the record this replica holds at (feed, seq). */
  async idAtSeq(feed: string, seq: number, options: AbortOptions = {}): Promise<string | undefined> {
    checkAborted(options.signal)
    const v = await this.db.get(seqKey(feed, seq))
    return v ? decodeText(v) : undefined
  }

  /** The best proof of every flagged feed. */
  async equivocationProofs(options: AbortOptions = {}): Promise<EquivocationProof[]> {
    checkAborted(options.signal)
    return [...this.proofs.values()]
  }

  /**
   * Offers a proof received from a peer (already verified by the caller): kept when the feed has none or
   * it is better than the one held (an earlier fork), which it then replaces. 'duplicate' otherwise.
   */
  async storeEquivocationProof(proof: EquivocationProof, options: AbortOptions = {}): Promise<'accepted' | 'duplicate'> {
    checkAborted(options.signal)
    return this.exclusive(async () => {
      checkAborted(options.signal)
      const current = this.proofs.get(proof.feed)
      if (current && !isBetterProof(proof, current)) return 'duplicate'
      const counts = { ...this.counts, equivocations: this.counts.equivocations + (current ? 0 : 1) }
      await this.db.batch([
        ...(current && current.seq !== proof.seq ? [{ type: 'del' as const, key: proofKey(proof.feed, current.seq) }] : []),
        { type: 'put', key: proofKey(proof.feed, proof.seq), value: encodeProofPair(proof) },
        { type: 'put', key: COUNTS_KEY, value: encodeJson(counts) },
      ])
      this.proofs.set(proof.feed, proof)
      this.counts = counts
      for (const listener of this.proofListeners) listener(proof)
      return 'accepted'
    })
  }

  /** Roster versions, by serial (validated by the caller before they are put). */
  async putRosterVersion(serial: number, bytes: Uint8Array, options: AbortOptions = {}): Promise<void> {
    checkAborted(options.signal)
    return this.exclusive(async () => {
      checkAborted(options.signal)
      await this.db.batch([{ type: 'put', key: rosterKey(serial), value: bytes }])
    })
  }

  async rosterVersions(options: AbortOptions = {}): Promise<Uint8Array[]> {
    checkAborted(options.signal)
    const out: Uint8Array[] = []
    for await (const [, value] of this.db.entries(prefixRange('roster!'))) out.push(value)
    return out
  }

  async close(): Promise<void> {
    if (this.closed) return
    await this.writeQueue
    this.closed = true
    await this.db.close()
  }
}


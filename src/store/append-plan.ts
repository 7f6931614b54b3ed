/**
 * Planning one atomic append: given verified records and a read view of the store, decide each record's
 * verdict and produce the LevelDB operations. Nothing is written here, and the in-memory state of the
 * store is only changed by the caller after the batch has been committed (a crash leaves it consistent).
 */
import { STORE_LIMITS } from '../constants.js'
import { parseHash256 } from '../hash/hash256.js'
import { decodeRecord } from '../record/codec.js'
import { canonicalProof, encodeProofPair, isBetterProof, type EquivocationProof } from '../record/equivocation.js'
import { signalKey, type SignedRecord, type VerifiedRecord } from '../record/types.js'
import type { ReceiveResult } from './types.js'
import {
  COUNTS_KEY, headKey, opinionKey, pendingKey, proofKey, pdqColumnKey, recordKey, revocationKey, seqKey, signalIndexKey,
} from './keys.js'
import type { BatchOp } from './level-db.js'
import { encodeJson, encodeText } from './text.js'

/** The value of a signal index key (the key says it all); one array for all of them (LevelDB copies it). */
const NO_VALUE = new Uint8Array(0)

export interface Head { seq: number; id: string }
export interface Counts {
  records: number; signals: number; byKind: Record<string, number>; equivocations: number
  /**
   * Signals of the records whose PDQ column (keys.ts pdqColumnKey) was written. Kept from a store's first
   * record on; a store begun before columns existed has none, and one written meanwhile by a hashmesh that
   * did not keep them falls behind `signals`. Equal to it: the columns hold every stored PDQ hash.
   */
  pdqColumns?: number
}

/** Read access the planner needs; reads see committed data only. */
export interface PlanReader {
  idAtSeq(feed: string, seq: number): Promise<string | undefined>
  recordBytes(id: string): Promise<Uint8Array | undefined>
  pendingBytes(feed: string, seq: number, id: string): Promise<Uint8Array | undefined>
}

export interface PendingIndex { get(feed: string): Map<number, Map<string, Uint8Array | null>> | undefined }


export class AppendPlan {
  readonly ops: BatchOp[] = []
  readonly results: ReceiveResult[] = []
  readonly committed: SignedRecord[] = []
  readonly heads = new Map<string, Head>()
  readonly counts: Counts
  /** Changes to the pending index: feed -> seq -> id -> bytes (null = delete). */
  readonly pendingChanges = new Map<string, Map<number, Map<string, Uint8Array | null>>>()
  /** Proofs this plan adds or improves (at most one per feed: the best). */
  readonly newProofs = new Map<string, EquivocationProof>()
  private readonly localIds = new Map<string, string>()
  private readonly localBytes = new Map<string, Uint8Array>()

  constructor(
    private readonly committedHeads: Map<string, Head>,
    private readonly reader: PlanReader,
    private readonly pending: PendingIndex,
    private readonly pendingTotal: number,
    counts: Counts,
    private readonly committedProofs: ReadonlyMap<string, EquivocationProof>,
  ) {
    this.counts = structuredClone(counts)
  }

  head(feed: string): Head | undefined {
    return this.heads.get(feed) ?? this.committedHeads.get(feed)
  }

  proof(feed: string): EquivocationProof | undefined {
    return this.newProofs.get(feed) ?? this.committedProofs.get(feed)
  }

  async add(item: VerifiedRecord): Promise<void> {
    this.results.push(await this.place(item))
  }

  private async place({ record, bytes }: VerifiedRecord): Promise<ReceiveResult> {
    const id = record.id
    const head = this.head(record.author) ?? { seq: 0, id: '' }
    const proof = this.proof(record.author)
    if (proof && record.seq >= proof.seq) return this.onFrozenFeed(record, proof)
    if (record.seq <= head.seq) {
      const existing = this.localIds.get(`${record.author}/${record.seq}`) ?? (await this.reader.idAtSeq(record.author, record.seq))
      if (existing === id) return { verdict: 'duplicate', id }
      await this.recordEquivocation(record.author, record.seq, existing, bytes)
      return { verdict: 'rejected', id, code: 'EQUIVOCATION', message: `feed ${record.author.slice(0, 16)}… has two records at seq ${record.seq}` }
    }
    if (record.seq > head.seq + 1) return this.addPending(record, bytes)
    if (record.prev !== (head.seq === 0 ? null : head.id)) {
      return { verdict: 'rejected', id, code: 'PREV_MISMATCH', message: `record ${id} at seq ${record.seq} does not link to the stored head` }
    }
    await this.apply(record, bytes)
    await this.drainPending(record.author)
    return { verdict: 'accepted', id }
  }

  /**
   * A feed with an equivocation proof at seq f is frozen from f on: what we hold stays (and is flagged for
   * matching), nothing new at f or later is appended, so honest nodes stop chasing either branch. The
   * author's fault, not the relay's: the verdict says so with its own code.
   */
  private async onFrozenFeed(record: SignedRecord, proof: EquivocationProof): Promise<ReceiveResult> {
    const id = record.id
    if (proof.ids.includes(id)) return { verdict: 'duplicate', id }
    const existing = this.localIds.get(`${record.author}/${record.seq}`) ?? (await this.reader.idAtSeq(record.author, record.seq))
    if (existing === id) return { verdict: 'duplicate', id }
    return { verdict: 'rejected', id, code: 'FEED_EQUIVOCATED', message: `feed ${record.author.slice(0, 16)}… forked at seq ${proof.seq}; nothing from there on is appended` }
  }

  private pendingAt(feed: string, seq: number): Map<string, Uint8Array | null> {
    const merged = new Map(this.pending.get(feed)?.get(seq) ?? [])
    for (const [id, bytes] of this.pendingChanges.get(feed)?.get(seq) ?? []) {
      if (bytes === null) merged.delete(id)
      else merged.set(id, bytes)
    }
    return merged
  }

  private changePending(feed: string, seq: number, id: string, bytes: Uint8Array | null): void {
    let bySeq = this.pendingChanges.get(feed)
    if (!bySeq) this.pendingChanges.set(feed, (bySeq = new Map()))
    let byId = bySeq.get(seq)
    if (!byId) bySeq.set(seq, (byId = new Map()))
    byId.set(id, bytes)
    this.ops.push(bytes === null ? { type: 'del', key: pendingKey(feed, seq, id) } : { type: 'put', key: pendingKey(feed, seq, id), value: bytes })
  }

  private addPending(record: SignedRecord, bytes: Uint8Array): ReceiveResult {
    const id = record.id
    if (this.pendingAt(record.author, record.seq).has(id)) return { verdict: 'pending', id, code: 'SEQ_GAP' }
    const feedPending = [...(this.pending.get(record.author)?.values() ?? [])].reduce((n, m) => n + m.size, 0)
    if (feedPending >= STORE_LIMITS.maxPendingPerFeed || this.pendingTotal >= STORE_LIMITS.maxPendingTotal) {
      return { verdict: 'rejected', id, code: 'SEQ_GAP', message: `seq ${record.seq} is ahead of the head and the pending buffer is full` }
    }
    this.changePending(record.author, record.seq, id, bytes)
    return { verdict: 'pending', id, code: 'SEQ_GAP', message: `waiting for earlier records of the feed` }
  }

  /** After a record is applied, records waiting for it may now fit; others at the same seq are forks. */
  private async drainPending(feed: string): Promise<void> {
    for (;;) {
      const head = this.head(feed)!
      const waiting = this.pendingAt(feed, head.seq + 1)
      if (waiting.size === 0) return
      const proof = this.proof(feed)
      if (proof && head.seq + 1 >= proof.seq) {
        for (const id of waiting.keys()) this.changePending(feed, head.seq + 1, id, null) // frozen: never appended
        return
      }
      let next: { record: SignedRecord; bytes: Uint8Array } | undefined
      for (const [id, stored] of waiting) {
        const bytes = stored ?? (await this.reader.pendingBytes(feed, head.seq + 1, id))
        this.changePending(feed, head.seq + 1, id, null)
        if (!bytes) continue
        const { record } = decodeRecord(bytes) // verified before it was parked
        if (!next && record.prev === head.id) next = { record, bytes }
        else if (next) await this.recordEquivocation(feed, record.seq, next.record.id, bytes, next.bytes)
      }
      if (!next) return
      await this.apply(next.record, next.bytes)
    }
  }

  private async recordEquivocation(feed: string, seq: number, existingId: string | undefined, other: Uint8Array, existingBytes?: Uint8Array): Promise<void> {
    const first = existingBytes ?? (existingId ? (this.localBytes.get(existingId) ?? (await this.reader.recordBytes(existingId))) : undefined)
    if (!first) return
    const candidate = canonicalProof(feed, seq, { id: decodeRecord(first).record.id, bytes: first }, { id: decodeRecord(other).record.id, bytes: other })
    const current = this.proof(feed)
    if (current && !isBetterProof(candidate, current)) return
    if (current && current.seq !== seq) this.ops.push({ type: 'del', key: proofKey(feed, current.seq) })
    this.ops.push({ type: 'put', key: proofKey(feed, seq), value: encodeProofPair(candidate) })
    this.newProofs.set(feed, candidate)
    if (!current) this.counts.equivocations++
  }

  private async apply(record: SignedRecord, bytes: Uint8Array): Promise<void> {
    const { id, author, seq } = record
    this.ops.push({ type: 'put', key: recordKey(id), value: bytes })
    this.ops.push({ type: 'put', key: seqKey(author, seq), value: encodeText(id) })
    this.heads.set(author, { seq, id })
    this.localIds.set(`${author}/${seq}`, id)
    this.localBytes.set(id, bytes)
    this.counts.records++
    this.counts.byKind[record.kind] = (this.counts.byKind[record.kind] ?? 0) + 1
    if (record.kind === 'signals') {
      record.body.signals.forEach((signal, index) => {
        this.ops.push({ type: 'put', key: signalIndexKey(signalKey(signal), id, index), value: NO_VALUE })
      })
      this.counts.signals += record.body.signals.length
      // (written even while the store's columns are incomplete: completePdqColumns may be filling them in)
      const column = pdqColumn(record.body.signals)
      if (column) this.ops.push({ type: 'put', key: pdqColumnKey(id), value: column })
      if (this.counts.pdqColumns !== undefined) this.counts.pdqColumns += record.body.signals.length
    } else if (record.kind === 'revoke') {
      await this.applyRevoke(record)
    } else {
      const value = { opinion: record.body.opinion, id, seq, timestamp: record.timestamp }
      this.ops.push({ type: 'put', key: opinionKey(signalKey(record.body.signal), author), value: encodeJson(value) })
    }
    this.committed.push(record)
  }

  /** Only the author's own earlier records can be revoked; anything else is stored but has no effect. */
  private async applyRevoke(record: Extract<SignedRecord, { kind: 'revoke' }>): Promise<void> {
    const targetBytes = this.localBytes.get(record.body.target) ?? (await this.reader.recordBytes(record.body.target))
    if (!targetBytes) return
    const target = decodeRecord(targetBytes).record
    if (target.author !== record.author || target.kind !== 'signals') return
    const signals = record.body.signal === undefined ? target.body.signals : [target.body.signals[record.body.signal]].filter((s) => s !== undefined)
    for (const signal of signals) {
      const value = { by: record.id, reason: record.body.reason, seq: record.seq, target: target.id }
      this.ops.push({ type: 'put', key: revocationKey(record.author, signalKey(signal)), value: encodeJson(value) })
    }
  }

  finish(): void {
    // One head write per feed per batch: only the last record of each feed in the batch is its head.
    for (const [feed, head] of this.heads) this.ops.push({ type: 'put', key: headKey(feed), value: encodeJson(head) })
    this.ops.push({ type: 'put', key: COUNTS_KEY, value: encodeJson(this.counts) })
  }
}

/**
 * A signals record's PDQ hashes packed, 32 bytes each in signal order (undefined: it has none): what the
 * matcher's start-up rebuild reads, one value per record instead of one index key per hash.
 */
export function pdqColumn(signals: readonly { type: string; value?: string }[]): Uint8Array | undefined {
  const pdq = signals.filter((s) => s.type === 'pdq')
  if (pdq.length === 0) return undefined
  const out = new Uint8Array(pdq.length * 32)
  pdq.forEach((s, i) => out.set(parseHash256(s.value!), i * 32)) // (a stored record was verified: 64 hex digits each)
  return out
}

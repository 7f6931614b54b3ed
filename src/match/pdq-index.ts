/**
 * PdqIndex: exact Hamming range search over PDQ hashes (every stored hash within distance <= t).
 *
 * How it fits together. Hashes live in slots: one Uint32Array of 8 words per slot, plus the entry
 * id and a tombstone byte per slot; an open-addressing table maps entry id -> slot. Slots are
 * appended in order and fall into three ranges, like a tiny LSM tree:
 *
 *   [0, mainEnd)         main segment: multi-index hashing tables (see pdq-segment.ts), bulk built
 *   [mainEnd, deltaEnd)  delta segment: same structure, rebuilt over recent adds when the tail grows
 *   [deltaEnd, used)     overflow tail: scanned linearly, at most a few thousand slots
 *
 * When the tail exceeds its limit the delta is rebuilt; when delta + tail exceed a quarter of main,
 * everything is rebuilt (and tombstones compacted). Both costs are amortised over the adds that
 * caused them. Removal sets a tombstone; compaction happens when tombstones pass a quarter of size.
 */
import { fail } from '../errors.js'
import { HASH256_BYTES, bytesToWordsAt, type Hash256 } from '../hash/hash256.js'
import { PdqSegment, WORDS_PER_HASH, scanSlots, type PdqMatch, type SegmentParts, type SlotStorage } from './pdq-segment.js'
import { SlotHashTable, mixUint32 } from './slot-hash-table.js'
import { STEP_ELEMENTS, rampedStep, runSteps, runStepsAsync, type Steps } from './steps.js'

export type { PdqMatch } from './pdq-segment.js'

export const DEFAULT_PDQ_THRESHOLD = 31
export const MAX_PDQ_THRESHOLD = 128
const MIN_OVERFLOW_LIMIT = 512
const MAX_OVERFLOW_LIMIT = 8192
/** The tail may grow to this fraction of the delta before the delta is rebuilt. */
const OVERFLOW_FRACTION_OF_DELTA = 1 / 16
/** Delta + tail may grow to this fraction of main before a full rebuild. */
const DELTA_FRACTION_OF_MAIN = 1 / 4
const MIN_TOMBSTONES_TO_COMPACT = 1024
const TOMBSTONE_FRACTION_TO_COMPACT = 1 / 4
const MIN_CAPACITY = 1024
const GROWTH = 1.5
const APPEND_BLOCK = 64
let appendSink = 0

export interface PdqIndexOptions {
  /** Number of hashes to reserve room for up front. */
  initialCapacity?: number
}

export interface PdqIndexStats {
  mainEntries: number
  deltaEntries: number
  overflowEntries: number
  tombstones: number
}

/** A PdqIndex as plain data (typed arrays and numbers): what the build process takes and gives back (see lend). */
export interface PdqIndexState {
  storage: SlotStorage
  capacity: number
  used: number
  live: number
  tombstones: number
  main: SegmentParts | null
  delta: SegmentParts | null
  mainEnd: number
  deltaEnd: number
  slotById: { buckets: Uint32Array; count: number }
}

export class PdqIndex {
  private storage: SlotStorage
  private capacity: number
  private used = 0
  private live = 0
  private tombstones = 0
  private main: PdqSegment | null = null
  private delta: PdqSegment | null = null
  private mainEnd = 0
  private deltaEnd = 0
  private readonly slotById: SlotHashTable
  private wantedId = 0
  private readonly holdsWantedId = (slot: number): boolean => this.storage.slotIds[slot] === this.wantedId
  private readonly scratchWords = new Uint32Array(WORDS_PER_HASH)
  /** True while a stepped bulk add runs (addManyAsync): every other write and search is refused meanwhile. */
  private building = false

  constructor(options: PdqIndexOptions = {}) {
    this.capacity = Math.max(MIN_CAPACITY, options.initialCapacity ?? 0)
    this.storage = allocateStorage(this.capacity)
    this.slotById = new SlotHashTable((slot) => mixUint32(this.storage.slotIds[slot]!), options.initialCapacity ?? 0)
  }

  get size(): number {
    return this.live
  }

  /** Adds or replaces the hash of `entryId`; adding the same id with the same hash is a no-op. */
  add(entryId: number, hash: Hash256): void {
    this.assertIdle()
    checkEntryId(entryId)
    hashToWords(hash, this.scratchWords)
    this.append(entryId, this.scratchWords, 0)
    this.maintain()
  }

  /** Bulk add: `hashes` holds 8 words per entry (see hashToWords), in the order of `ids`. */
  addMany(entries: { ids: Uint32Array; hashes: Uint32Array }): void {
    this.assertIdle()
    const { ids, hashes } = checkBulk(entries)
    this.ensureCapacity(this.used + ids.length)
    // Size the id table once instead of rehashing ~log2(n) times on the way up.
    if (this.slotById.size === 0 && this.used === 0) this.slotById.clear(ids.length)
    this.appendRange(ids, hashes, 0, ids.length)
    this.maintain()
  }

  /**
   * addMany for the start-up builds (millions of hashes): the same work in steps (storage growth, appends,
   * the segment build), yielding to the event loop every few ms, so the HTTP API keeps answering. The
   * resulting index is the same as addMany's. Nothing else may use the index until it resolves: add,
   * addMany, remove and search throw meanwhile (at start-up nothing else writes: the API answers 503
   * and the network is not started).
   */
  async addManyAsync(entries: { ids: Uint32Array; hashes: Uint32Array }, sliceMs?: number): Promise<void> {
    this.assertIdle()
    await runStepsAsync(this.addManySteps(entries, STEP_ELEMENTS), sliceMs)
  }

  /** addManyAsync as steps of `step` elements, for a caller composing a larger stepped build. */
  *addManySteps(entries: { ids: Uint32Array; hashes: Uint32Array }, step: number): Steps<void> {
    this.assertIdle()
    const { ids, hashes } = checkBulk(entries)
    this.building = true
    try {
      yield* this.growSteps(this.used + ids.length, step)
      if (this.slotById.size === 0 && this.used === 0) yield* this.slotById.clearSteps(ids.length, step)
      else yield* this.slotById.reserveSteps(this.slotById.size + ids.length, step)
      for (let from = 0, k = 0; from < ids.length; k++) {
        const to = Math.min(ids.length, from + rampedStep(k, step))
        this.appendRange(ids, hashes, from, to)
        from = to
        yield
      }
      const next = this.nextMaintenance()
      if (next === 'all') yield* this.rebuildAllSteps(step)
      else if (next === 'delta') yield* this.rebuildDeltaSteps(step)
    } finally {
      this.building = false
    }
  }

  /**
   * Hands the whole index over as plain data, for a build elsewhere (the build process: pdq-build-process.ts),
   * until restore() gives it back; meanwhile everything but `size` throws, as during addManyAsync. The index
   * keeps no reference to the arrays it handed over.
   */
  lend(): PdqIndexState {
    this.assertIdle()
    const state = this.toState()
    this.building = true
    this.storage = allocateStorage(0)
    this.capacity = 0
    this.used = this.mainEnd = this.deltaEnd = 0
    this.main = this.delta = null
    this.slotById.clear(0)
    return state
  }

  /** Takes back what lend() handed over, as built elsewhere (or unchanged). */
  restore(state: PdqIndexState): void {
    if (!this.building) throw new Error('restore() without lend()')
    this.adoptState(state)
    this.building = false
  }

  /** Becomes the index of a lent state (in the build process): the arrays are adopted, not copied. */
  adopt(state: PdqIndexState): void {
    this.assertIdle()
    this.adoptState(state)
  }

  /** The index as plain data; it still owns the arrays (see lend). */
  toState(): PdqIndexState {
    return {
      storage: this.storage, capacity: this.capacity, used: this.used, live: this.live, tombstones: this.tombstones,
      main: this.main?.toParts() ?? null, delta: this.delta?.toParts() ?? null, mainEnd: this.mainEnd, deltaEnd: this.deltaEnd,
      slotById: this.slotById.state,
    }
  }

  private adoptState(state: PdqIndexState): void {
    const { storage, capacity, used } = state
    if (storage.hashWords.length !== capacity * WORDS_PER_HASH || storage.slotIds.length !== capacity || storage.removed.length !== capacity || used > capacity) {
      throw new RangeError('PdqIndex state: its storage does not match its capacity')
    }
    this.slotById.adopt(state.slotById)
    this.storage = storage
    this.capacity = capacity
    this.used = used
    this.live = state.live
    this.tombstones = state.tombstones
    this.main = state.main && PdqSegment.fromParts(state.main)
    this.delta = state.delta && PdqSegment.fromParts(state.delta)
    this.mainEnd = state.mainEnd
    this.deltaEnd = state.deltaEnd
  }

  remove(entryId: number): boolean {
    this.assertIdle()
    checkEntryId(entryId)
    const slot = this.slotOf(entryId)
    if (slot < 0) return false
    this.tombstone(slot)
    this.maintain()
    return true
  }

  /** The stored hash of `entryId`, or undefined when it is not in the index. */
  hashOf(entryId: number): Hash256 | undefined {
    this.assertIdle()
    checkEntryId(entryId)
    const slot = this.slotOf(entryId)
    return slot < 0 ? undefined : wordsToHash(this.storage.hashWords, slot * WORDS_PER_HASH)
  }

  has(entryId: number): boolean {
    this.assertIdle()
    checkEntryId(entryId)
    return this.slotOf(entryId) >= 0
  }

  /** Every entry within `threshold` of `query`, sorted by distance then entry id. Reuses `out`. */
  search(query: Hash256, threshold: number = DEFAULT_PDQ_THRESHOLD, out: PdqMatch[] = []): PdqMatch[] {
    this.assertIdle()
    if (!Number.isInteger(threshold) || threshold < 0 || threshold > MAX_PDQ_THRESHOLD) {
      fail('BAD_REQUEST', `threshold must be an integer from 0 to ${MAX_PDQ_THRESHOLD}`)
    }
    const words = hashToWords(query, this.scratchWords)
    out.length = 0
    this.main?.search(this.storage, words, threshold, out)
    this.delta?.search(this.storage, words, threshold, out)
    scanSlots(this.storage, this.deltaEnd, this.used, words, threshold, out)
    if (out.length > 1) out.sort((a, b) => a.distance - b.distance || a.entryId - b.entryId)
    return out
  }

  memoryBytes(): number {
    const { hashWords, slotIds, removed } = this.storage
    return (
      hashWords.byteLength + slotIds.byteLength + removed.byteLength + this.slotById.memoryBytes() +
      (this.main?.memoryBytes() ?? 0) + (this.delta?.memoryBytes() ?? 0)
    )
  }

  stats(): PdqIndexStats {
    return {
      mainEntries: this.main?.entries ?? 0,
      deltaEntries: this.delta?.entries ?? 0,
      overflowEntries: this.used - this.deltaEnd,
      tombstones: this.tombstones,
    }
  }

  private assertIdle(): void {
    if (this.building) throw new Error('the PDQ index is being built (addManyAsync, or lent to the build process): nothing may use it until that resolves')
  }

  /** In blocks: first load each id's home bucket (independent misses overlap), then append from cache. */
  private appendRange(ids: Uint32Array, hashes: Uint32Array, start: number, end: number): void {
    let touched = 0
    for (let from = start; from < end; from += APPEND_BLOCK) {
      const to = Math.min(end, from + APPEND_BLOCK)
      for (let i = from; i < to; i++) touched ^= this.slotById.touch(mixUint32(ids[i]!))
      for (let i = from; i < to; i++) this.append(ids[i]!, hashes, i * WORDS_PER_HASH)
    }
    appendSink ^= touched
  }

  private slotOf(entryId: number): number {
    this.wantedId = entryId
    return this.slotById.find(mixUint32(entryId), this.holdsWantedId)
  }

  private append(entryId: number, words: Uint32Array, base: number): void {
    const existing = this.slotOf(entryId)
    if (existing >= 0) {
      if (sameWords(this.storage.hashWords, existing * WORDS_PER_HASH, words, base)) return
      this.tombstone(existing)
    }
    this.ensureCapacity(this.used + 1)
    const slot = this.used++
    const hashWords = this.storage.hashWords
    const to = slot * WORDS_PER_HASH
    for (let w = 0; w < WORDS_PER_HASH; w++) hashWords[to + w] = words[base + w]!
    this.storage.slotIds[slot] = entryId
    this.storage.removed[slot] = 0
    this.slotById.insert(slot, mixUint32(entryId))
    this.live++
  }

  private tombstone(slot: number): void {
    this.slotById.delete(slot, mixUint32(this.storage.slotIds[slot]!))
    this.storage.removed[slot] = 1
    this.live--
    this.tombstones++
  }

  /** Keeps the tail short and tombstones few; each rebuild is paid for by the adds/removes before it. */
  private maintain(): void {
    const next = this.nextMaintenance()
    if (next === 'all') runSteps(this.rebuildAllSteps(Infinity))
    else if (next === 'delta') runSteps(this.rebuildDeltaSteps(Infinity))
  }

  private nextMaintenance(): 'none' | 'all' | 'delta' {
    if (this.tombstones > Math.max(MIN_TOMBSTONES_TO_COMPACT, this.live * TOMBSTONE_FRACTION_TO_COMPACT)) return 'all'
    const deltaSlots = this.deltaEnd - this.mainEnd
    const overflowLimit = clamp(deltaSlots * OVERFLOW_FRACTION_OF_DELTA, MIN_OVERFLOW_LIMIT, MAX_OVERFLOW_LIMIT)
    if (this.used - this.deltaEnd <= overflowLimit) return 'none'
    return this.used - this.mainEnd > this.mainEnd * DELTA_FRACTION_OF_MAIN ? 'all' : 'delta'
  }

  private *rebuildDeltaSteps(step: number): Steps<void> {
    this.delta = null
    this.delta = yield* PdqSegment.buildSteps(this.storage, this.mainEnd, this.used, step)
    this.deltaEnd = this.used
  }

  private *rebuildAllSteps(step: number): Steps<void> {
    this.main = null // let the old tables go before the new ones are allocated
    this.delta = null
    this.compact() // one pass, and none at start-up (a fresh index has no tombstones)
    this.main = yield* PdqSegment.buildSteps(this.storage, 0, this.used, step)
    this.mainEnd = this.deltaEnd = this.used
  }

  /** Moves live slots down over tombstones (keeping order) and renumbers the id table. */
  private compact(): void {
    if (this.tombstones === 0) return
    const { hashWords, slotIds, removed } = this.storage
    let to = 0
    for (let from = 0; from < this.used; from++) {
      if (removed[from] !== 0) continue
      if (to !== from) {
        hashWords.copyWithin(to * WORDS_PER_HASH, from * WORDS_PER_HASH, (from + 1) * WORDS_PER_HASH)
        slotIds[to] = slotIds[from]!
      }
      to++
    }
    removed.fill(0, 0, this.used)
    this.used = to
    this.tombstones = 0
    this.slotById.clear(to)
    for (let slot = 0; slot < to; slot++) this.slotById.insert(slot, mixUint32(slotIds[slot]!))
  }

  /** ensureCapacity, copying in steps of `step` slots. */
  private *growSteps(slots: number, step: number): Steps<void> {
    if (slots <= this.capacity) return
    const capacity = Math.max(slots, Math.ceil(this.capacity * GROWTH))
    const grown = allocateStorage(capacity)
    const old = this.storage
    for (let from = 0; from < this.used; from += step) {
      const to = Math.min(this.used, from + step)
      grown.hashWords.set(old.hashWords.subarray(from * WORDS_PER_HASH, to * WORDS_PER_HASH), from * WORDS_PER_HASH)
      grown.slotIds.set(old.slotIds.subarray(from, to), from)
      grown.removed.set(old.removed.subarray(from, to), from)
      yield
    }
    this.storage = grown
    this.capacity = capacity
  }

  private ensureCapacity(slots: number): void {
    if (slots <= this.capacity) return
    const capacity = Math.max(slots, Math.ceil(this.capacity * GROWTH))
    const grown = allocateStorage(capacity)
    grown.hashWords.set(this.storage.hashWords.subarray(0, this.used * WORDS_PER_HASH))
    grown.slotIds.set(this.storage.slotIds.subarray(0, this.used))
    grown.removed.set(this.storage.removed.subarray(0, this.used))
    this.storage = grown
    this.capacity = capacity
  }
}

/** Packs a 32-byte hash into 8 uint32 words, big-endian: word 0 = bytes 0..3, byte 0 most significant. */
export function hashToWords(hash: Hash256, out: Uint32Array = new Uint32Array(WORDS_PER_HASH), base = 0): Uint32Array {
  if (!(hash instanceof Uint8Array) || hash.length !== HASH256_BYTES) fail('HASH_INVALID', 'a PDQ hash must be 32 bytes')
  bytesToWordsAt(hash, 0, out, base)
  return out
}

/**
 * A Uint32Array on a SharedArrayBuffer: what a start-up build collects its packed hashes (and bank content
 * ids) into: the mark of a build that may run in the build process (PdqCatalog.addSignalWordsAsync; a caller
 * that may reuse its input passes a plain array, built here). V8 does not count shared memory as the isolate's
 * external memory, so these large arrays drive no full collection.
 */
export function sharedUint32Array(length: number): Uint32Array {
  return new Uint32Array(new SharedArrayBuffer(length * 4))
}

/** The inverse of hashToWords for the 8 words at `words[base..base+8)`. */
export function wordsToHash(words: Uint32Array, base = 0): Hash256 {
  const hash = new Uint8Array(HASH256_BYTES)
  for (let w = 0; w < WORDS_PER_HASH; w++) {
    const word = words[base + w]!
    hash[w * 4] = word >>> 24
    hash[w * 4 + 1] = word >>> 16
    hash[w * 4 + 2] = word >>> 8
    hash[w * 4 + 3] = word
  }
  return hash
}

function allocateStorage(capacity: number): SlotStorage {
  return {
    hashWords: new Uint32Array(capacity * WORDS_PER_HASH),
    slotIds: new Uint32Array(capacity),
    removed: new Uint8Array(capacity),
  }
}

function checkBulk(entries: { ids: Uint32Array; hashes: Uint32Array }): { ids: Uint32Array; hashes: Uint32Array } {
  const { ids, hashes } = entries
  if (!(ids instanceof Uint32Array)) fail('BAD_REQUEST', 'ids must be a Uint32Array')
  if (!(hashes instanceof Uint32Array) || hashes.length !== ids.length * WORDS_PER_HASH) {
    fail('HASH_INVALID', `hashes must be a Uint32Array of ${ids.length * WORDS_PER_HASH} words (8 per id)`)
  }
  return entries
}

function checkEntryId(entryId: number): void {
  if (!Number.isInteger(entryId) || entryId < 0 || entryId > 0xffffffff) {
    fail('BAD_REQUEST', 'entry id must be an integer from 0 to 2^32 - 1')
  }
}

function sameWords(a: Uint32Array, aBase: number, b: Uint32Array, bBase: number): boolean {
  for (let w = 0; w < WORDS_PER_HASH; w++) if (a[aBase + w] !== b[bBase + w]) return false
  return true
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value))
}

/**
 * ExactIndex: exact-value lookup for MD5 (16 bytes) or SHA-256 (32 bytes) digests -> entry ids.
 *
 * Values live in slots of one Uint32Array (4 or 8 words per slot) with the entry id beside them;
 * two open-addressing tables of slot numbers index them by value (a multi-map: several members
 * may report the same digest) and by entry id. No JS object or string per entry, so a few million
 * entries cost a few tens of bytes each instead of the ~150 a Map of hex strings would.
 */
import { randomBytes } from 'node:crypto'
import { fail } from '../errors.js'
import { SlotHashTable, mixUint32 } from './slot-hash-table.js'
import type { Steps } from './steps.js'

export type ExactDigestBytes = 16 | 32

export interface ExactIndexOptions {
  /** 16 for MD5, 32 for SHA-256. */
  digestBytes: ExactDigestBytes
  initialCapacity?: number
}

const MIN_CAPACITY = 1024
const GROWTH = 1.5
/** Per-process seed so crafted digests cannot be chosen to pile onto one probe run. */
const SEED = randomBytes(4).readUInt32LE(0)

/** An ExactIndex as plain data, to move between threads (a start-up build on a worker: pdq-catalog.ts). */
export interface ExactIndexState {
  digestBytes: ExactDigestBytes
  seed: number
  valueWords: Uint32Array
  slotIds: Uint32Array
  capacity: number
  used: number
  freeSlots: number[]
  byValue: { buckets: Uint32Array; count: number }
  byId: { buckets: Uint32Array; count: number }
}

export class ExactIndex {
  readonly digestBytes: ExactDigestBytes
  private readonly wordsPerValue: number
  private valueWords: Uint32Array
  private slotIds: Uint32Array
  private capacity: number
  private used = 0
  private readonly freeSlots: number[] = []
  private readonly byValue: SlotHashTable
  private readonly byId: SlotHashTable
  private readonly scratch: Uint32Array
  private wantedId = 0
  private readonly holdsWantedId = (slot: number): boolean => this.slotIds[slot] === this.wantedId
  private firstId = -1
  /** SEED, or the seed of the index this one was made from (its table positions depend on it). */
  private seed = SEED
  /** firstWords' visitor, made once (not a closure per call). */
  private readonly keepFirstId = (slot: number): void => {
    if (!this.slotHolds(slot, this.scratch)) return
    const id = this.slotIds[slot]!
    if (this.firstId < 0 || id < this.firstId) this.firstId = id
  }

  constructor(options: ExactIndexOptions) {
    if (options.digestBytes !== 16 && options.digestBytes !== 32) fail('BAD_REQUEST', 'digestBytes must be 16 (MD5) or 32 (SHA-256)')
    this.digestBytes = options.digestBytes
    this.wordsPerValue = options.digestBytes / 4
    this.capacity = Math.max(MIN_CAPACITY, options.initialCapacity ?? 0)
    this.valueWords = new Uint32Array(this.capacity * this.wordsPerValue)
    this.slotIds = new Uint32Array(this.capacity)
    this.scratch = new Uint32Array(this.wordsPerValue)
    this.byValue = new SlotHashTable((slot) => this.hashOfSlotValue(slot), options.initialCapacity ?? 0)
    this.byId = new SlotHashTable((slot) => mixUint32(this.slotIds[slot]!), options.initialCapacity ?? 0)
  }

  get size(): number {
    return this.byId.size
  }

  /** Maps `entryId` to `value`; re-adding an id replaces its value (the same value is a no-op). */
  add(entryId: number, value: Uint8Array): void {
    checkEntryId(entryId)
    this.addValueWords(entryId, this.toWords(value))
  }

  /**
   * add() for an id this index does not hold (the caller allocates ids, e.g. a counter, and removes before
   * reusing one): no lookup of the id first, which was most of an add's time at a million entries (a probe
   * run of the id table, each probe a random read of the slot's id).
   */
  addFresh(entryId: number, value: Uint8Array): void {
    checkEntryId(entryId)
    this.insertSlot(entryId, this.toWords(value))
  }

  /** addFresh() for a value given as big-endian words (words[base .. base + digestBytes / 4)): no byte array per value. */
  addFreshWords(entryId: number, words: Uint32Array, base = 0): void {
    checkEntryId(entryId)
    for (let w = 0; w < this.wordsPerValue; w++) this.scratch[w] = words[base + w]!
    this.insertSlot(entryId, this.scratch)
  }

  /** add() for a value given as big-endian words (words[base .. base + digestBytes / 4)), as PDQ hashes are packed. */
  addWords(entryId: number, words: Uint32Array, base = 0): void {
    checkEntryId(entryId)
    for (let w = 0; w < this.wordsPerValue; w++) this.scratch[w] = words[base + w]!
    this.addValueWords(entryId, this.scratch)
  }

  private addValueWords(entryId: number, words: Uint32Array): void {
    const existing = this.slotOf(entryId)
    if (existing >= 0) {
      if (this.slotHolds(existing, words)) return
      this.release(existing)
    }
    this.insertSlot(entryId, words)
  }

  private insertSlot(entryId: number, words: Uint32Array): void {
    const slot = this.allocateSlot()
    this.valueWords.set(words, slot * this.wordsPerValue)
    this.slotIds[slot] = entryId
    this.byValue.insert(slot, hashWords(words, this.seed))
    this.byId.insert(slot, mixUint32(entryId))
  }

  remove(entryId: number): boolean {
    checkEntryId(entryId)
    const slot = this.slotOf(entryId)
    if (slot < 0) return false
    this.release(slot)
    return true
  }

  has(entryId: number): boolean {
    checkEntryId(entryId)
    return this.slotOf(entryId) >= 0
  }

  /** lookup() for a value given as big-endian words (words[base .. base + digestBytes / 4)). */
  lookupWords(words: Uint32Array, base = 0): number[] {
    for (let w = 0; w < this.wordsPerValue; w++) this.scratch[w] = words[base + w]!
    return this.lookupScratch(this.scratch)
  }

  /**
   * The smallest entry id holding exactly the value at words[base .. base + digestBytes / 4), or -1: lookupWords
   * without an array and a closure per call (a start-up build asks once per hash, millions of times).
   */
  firstWords(words: Uint32Array, base = 0): number {
    for (let w = 0; w < this.wordsPerValue; w++) this.scratch[w] = words[base + w]!
    this.firstId = -1
    this.byValue.forEachOnRun(hashWords(this.scratch, this.seed), this.keepFirstId)
    return this.firstId
  }

  /** Entry ids holding exactly `value`, ascending. */
  lookup(value: Uint8Array): number[] {
    return this.lookupScratch(this.toWords(value))
  }

  private lookupScratch(words: Uint32Array): number[] {
    const ids: number[] = []
    this.byValue.forEachOnRun(hashWords(words, this.seed), (slot) => {
      if (this.slotHolds(slot, words)) ids.push(this.slotIds[slot]!)
    })
    return ids.length > 1 ? ids.sort((a, b) => a - b) : ids
  }

  memoryBytes(): number {
    return this.valueWords.byteLength + this.slotIds.byteLength + this.byValue.memoryBytes() + this.byId.memoryBytes() + this.freeSlots.length * 8
  }

  /**
   * Makes room for `size` entries in all (value slots and both tables) in steps of `step` elements (see
   * steps.ts), so a bulk load that follows never stops for a large resize. No add or remove meanwhile.
   */
  *reserveSteps(size: number, step: number): Steps<void> {
    if (size > this.capacity) {
      const capacity = size
      const values = new Uint32Array(capacity * this.wordsPerValue)
      const ids = new Uint32Array(capacity)
      const used = this.used
      for (let from = 0; from < used; from += step) {
        const to = Math.min(used, from + step)
        values.set(this.valueWords.subarray(from * this.wordsPerValue, to * this.wordsPerValue), from * this.wordsPerValue)
        ids.set(this.slotIds.subarray(from, to), from)
        yield
      }
      if (this.used !== used) throw new Error('ExactIndex changed while it was growing')
      this.valueWords = values
      this.slotIds = ids
      this.capacity = capacity
    }
    yield* this.byValue.reserveSteps(size, step)
    yield* this.byId.reserveSteps(size, step)
  }

  /** The index as plain data; it still owns the arrays. */
  toState(): ExactIndexState {
    return {
      digestBytes: this.digestBytes, seed: this.seed, valueWords: this.valueWords, slotIds: this.slotIds, capacity: this.capacity,
      used: this.used, freeSlots: this.freeSlots, byValue: this.byValue.state, byId: this.byId.state,
    }
  }

  /** An index made of another's toState() (in another thread); the arrays are adopted, not copied. */
  static fromState(state: ExactIndexState): ExactIndex {
    const index = new ExactIndex({ digestBytes: state.digestBytes })
    const words = index.wordsPerValue
    if (state.valueWords.length !== state.capacity * words || state.slotIds.length !== state.capacity || state.used > state.capacity) {
      throw new RangeError('ExactIndex state: its arrays do not match its capacity')
    }
    index.seed = state.seed
    index.valueWords = state.valueWords
    index.slotIds = state.slotIds
    index.capacity = state.capacity
    index.used = state.used
    for (const slot of state.freeSlots) index.freeSlots.push(slot)
    index.byValue.adopt(state.byValue)
    index.byId.adopt(state.byId)
    return index
  }

  private slotOf(entryId: number): number {
    this.wantedId = entryId
    return this.byId.find(mixUint32(entryId), this.holdsWantedId)
  }

  private release(slot: number): void {
    this.byValue.delete(slot, this.hashOfSlotValue(slot))
    this.byId.delete(slot, mixUint32(this.slotIds[slot]!))
    this.freeSlots.push(slot)
  }

  private allocateSlot(): number {
    const reused = this.freeSlots.pop()
    if (reused !== undefined) return reused
    if (this.used === this.capacity) {
      this.capacity = Math.ceil(this.capacity * GROWTH)
      const values = new Uint32Array(this.capacity * this.wordsPerValue)
      values.set(this.valueWords)
      const ids = new Uint32Array(this.capacity)
      ids.set(this.slotIds)
      this.valueWords = values
      this.slotIds = ids
    }
    return this.used++
  }

  private slotHolds(slot: number, words: Uint32Array): boolean {
    const base = slot * this.wordsPerValue
    for (let w = 0; w < this.wordsPerValue; w++) if (this.valueWords[base + w] !== words[w]) return false
    return true
  }

  private hashOfSlotValue(slot: number): number {
    // (no subarray: a table resize rehashes every slot, and a view per slot was most of it)
    const base = slot * this.wordsPerValue
    const values = this.valueWords
    let h = this.seed
    for (let w = 0; w < this.wordsPerValue; w++) h = mixUint32(h ^ values[base + w]!)
    return h
  }

  private toWords(value: Uint8Array): Uint32Array {
    if (!(value instanceof Uint8Array) || value.length !== this.digestBytes) {
      fail('HASH_INVALID', `digest must be ${this.digestBytes} bytes`)
    }
    for (let w = 0; w < this.wordsPerValue; w++) {
      const i = w * 4
      this.scratch[w] = ((value[i]! << 24) | (value[i + 1]! << 16) | (value[i + 2]! << 8) | value[i + 3]!) >>> 0
    }
    return this.scratch
  }
}

function hashWords(words: Uint32Array, seed: number): number {
  let h = seed
  for (let w = 0; w < words.length; w++) h = mixUint32(h ^ words[w]!)
  return h
}

function checkEntryId(entryId: number): void {
  if (!Number.isInteger(entryId) || entryId < 0 || entryId > 0xffffffff) {
    fail('BAD_REQUEST', 'entry id must be an integer from 0 to 2^32 - 1')
  }
}

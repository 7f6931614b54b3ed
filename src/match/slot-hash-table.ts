/**
 * An open-addressing hash table of slot numbers (uint32) on one Uint32Array: the keys live with the
 * caller (in its own typed arrays, indexed by slot), so the table costs 4 bytes per bucket and no JS
 * object per entry. Several slots may share a key hash (multi-map): callers walk the probe run and
 * compare keys themselves. Linear probing with backward-shift deletion, so no tombstones build up.
 */
import type { Steps } from './steps.js'

const EMPTY = 0 // buckets hold slot + 1
const MAX_LOAD = 0.7
const MIN_CAPACITY = 16

export class SlotHashTable {
  private buckets: Uint32Array
  private mask: number
  private count = 0

  constructor(
    private readonly hashOfSlot: (slot: number) => number,
    expectedSize = 0,
  ) {
    const capacity = capacityFor(expectedSize)
    this.buckets = new Uint32Array(capacity)
    this.mask = capacity - 1
  }

  get size(): number {
    return this.count
  }

  memoryBytes(): number {
    return this.buckets.byteLength
  }

  insert(slot: number, hash: number): void {
    if (this.count + 1 > this.buckets.length * MAX_LOAD) this.resize(this.buckets.length * 2)
    this.place(slot, hash)
    this.count++
  }

  /** Reads `hash`'s home bucket and returns it: lets bulk callers load many buckets in parallel first. */
  touch(hash: number): number {
    return this.buckets[hash & this.mask]!
  }

  /** First slot on `hash`'s probe run accepted by `matches`, or -1. */
  find(hash: number, matches: (slot: number) => boolean): number {
    const buckets = this.buckets
    for (let pos = hash & this.mask; buckets[pos] !== EMPTY; pos = (pos + 1) & this.mask) {
      const slot = buckets[pos]! - 1
      if (matches(slot)) return slot
    }
    return -1
  }

  /** Calls `visit` for every slot on `hash`'s probe run (callers filter by key). */
  forEachOnRun(hash: number, visit: (slot: number) => void): void {
    const buckets = this.buckets
    for (let pos = hash & this.mask; buckets[pos] !== EMPTY; pos = (pos + 1) & this.mask) visit(buckets[pos]! - 1)
  }

  delete(slot: number, hash: number): boolean {
    const buckets = this.buckets
    const mask = this.mask
    let pos = hash & mask
    while (buckets[pos] !== slot + 1) {
      if (buckets[pos] === EMPTY) return false
      pos = (pos + 1) & mask
    }
    // Backward shift: pull later members of the run into the hole when their home allows it.
    let hole = pos
    for (let next = (hole + 1) & mask; buckets[next] !== EMPTY; next = (next + 1) & mask) {
      const home = this.hashOfSlot(buckets[next]! - 1) & mask
      const distanceToHole = (hole - home) & mask
      const distanceToNext = (next - home) & mask
      if (distanceToHole <= distanceToNext) {
        buckets[hole] = buckets[next]!
        hole = next
      }
    }
    buckets[hole] = EMPTY
    this.count--
    return true
  }

  /** The table as plain data (see adopt): its buckets array itself, not a copy. */
  get state(): { buckets: Uint32Array; count: number } {
    return { buckets: this.buckets, count: this.count }
  }

  /** Takes over a table's `state` (from another thread: a worker's build); the caller's slots must agree with it. */
  adopt(state: { buckets: Uint32Array; count: number }): void {
    const size = state.buckets.length
    if (size < MIN_CAPACITY || (size & (size - 1)) !== 0 || state.count > size * MAX_LOAD) throw new RangeError('not a slot hash table')
    this.buckets = state.buckets
    this.mask = size - 1
    this.count = state.count
  }

  /** Empties the table, keeping room for `expectedSize` slots (used after the caller renumbers). */
  clear(expectedSize = 0): void {
    this.buckets = new Uint32Array(capacityFor(expectedSize))
    this.mask = this.buckets.length - 1
    this.count = 0
  }

  /** clear() in steps of `step` elements (see touchedBucketsSteps); the caller must not use the table meanwhile. */
  *clearSteps(expectedSize: number, step: number): Steps<void> {
    const buckets = yield* touchedBucketsSteps(capacityFor(expectedSize), step)
    this.buckets = buckets
    this.mask = buckets.length - 1
    this.count = 0
  }

  /**
   * Grows the table (if needed) so `expectedSize` slots fit without a resize, rehashing in steps of
   * `step` buckets (see steps.ts). Lookups see the old table until the new one is complete; the caller
   * must not insert or delete meanwhile.
   */
  *reserveSteps(expectedSize: number, step: number): Steps<void> {
    const capacity = capacityFor(expectedSize)
    if (capacity <= this.buckets.length) return
    const old = this.buckets
    const count = this.count
    const grown = yield* touchedBucketsSteps(capacity, step)
    const mask = capacity - 1
    for (let from = 0; from < old.length; from += step) {
      const to = Math.min(old.length, from + step)
      for (let i = from; i < to; i++) {
        if (old[i] === EMPTY) continue
        let pos = this.hashOfSlot(old[i]! - 1) & mask
        while (grown[pos] !== EMPTY) pos = (pos + 1) & mask
        grown[pos] = old[i]!
      }
      yield
    }
    if (this.buckets !== old || this.count !== count) throw new Error('SlotHashTable changed while it was growing')
    this.buckets = grown
    this.mask = mask
  }

  private place(slot: number, hash: number): void {
    const buckets = this.buckets
    let pos = hash & this.mask
    while (buckets[pos] !== EMPTY) pos = (pos + 1) & this.mask
    buckets[pos] = slot + 1
  }

  private resize(capacity: number): void {
    const old = this.buckets
    this.buckets = new Uint32Array(capacity)
    this.mask = capacity - 1
    for (let i = 0; i < old.length; i++) {
      if (old[i] !== EMPTY) this.place(old[i]! - 1, this.hashOfSlot(old[i]! - 1))
    }
  }
}

/**
 * An empty table of `capacity` buckets whose memory is written once in steps of 16 * `step` buckets. A
 * large typed array's pages are only mapped at their first write, and inserts write at random: the first
 * steps of a start-up build into fresh 8-16 MB tables faulted in thousands of pages each (10-30 ms
 * without a turn of the event loop), where touching them in order costs a few ms in all.
 */
function* touchedBucketsSteps(capacity: number, step: number): Steps<Uint32Array> {
  const buckets = new Uint32Array(capacity)
  for (let from = 0; from < capacity; from += step * 16) {
    buckets.fill(EMPTY, from, Math.min(capacity, from + step * 16))
    yield
  }
  return buckets
}

function capacityFor(expectedSize: number): number {
  let capacity = MIN_CAPACITY
  while (capacity * MAX_LOAD < expectedSize) capacity *= 2
  return capacity
}

/** A 32-bit integer mix (murmur3 finaliser) so sequential or crafted ids spread over the table. */
export function mixUint32(x: number): number {
  x ^= x >>> 16
  x = Math.imul(x, 0x85ebca6b)
  x ^= x >>> 13
  x = Math.imul(x, 0xc2b2ae35)
  x ^= x >>> 16
  return x >>> 0
}

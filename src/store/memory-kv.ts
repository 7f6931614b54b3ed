/**
 * KeyValueStore in memory: what the layers above the store are tested on when the disk is not the point
 * (the contract it shares with LevelDB is test/store/key-value-contract.test.ts). Keys are kept sorted in
 * UTF-8 byte order, as LevelDB orders them; keys with lone surrogates (which LevelDB stores as U+FFFD)
 * are outside the contract.
 */
import { HashmeshError } from '../errors.js'
import type { BatchOp, KeyRange, KeyValueStore } from './level-db.js'

/** UTF-16 code unit -> rank in UTF-8 byte order: surrogates (code points >= U+10000) after U+E000..U+FFFF. */
function utf8Rank(unit: number): number {
  if (unit < 0xd800) return unit
  return unit < 0xe000 ? unit + 0x2000 : unit - 0x800
}

/** Compares two keys as LevelDB compares their UTF-8 bytes. */
function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x !== y) return utf8Rank(x) - utf8Rank(y)
  }
  return a.length - b.length
}

/** A fresh Buffer, as level's 'view' encoding returns in Node. */
function copyOut(value: Uint8Array | undefined): Uint8Array | undefined {
  return value === undefined ? undefined : Buffer.from(value)
}

export class MemoryKeyValueStore implements KeyValueStore {
  private readonly values = new Map<string, Uint8Array>()
  /** Every key of `values`, sorted by compareKeys. */
  private sorted: string[] = []
  private closed = false

  async get(key: string): Promise<Uint8Array | undefined> {
    this.checkOpen()
    return copyOut(this.values.get(key))
  }

  async getMany(keys: string[]): Promise<(Uint8Array | undefined)[]> {
    this.checkOpen()
    return keys.map((key) => copyOut(this.values.get(key)))
  }

  /** All or nothing: every op is checked before the first is applied. */
  async batch(ops: BatchOp[]): Promise<void> {
    this.checkOpen()
    for (const op of ops) {
      if (typeof op.key !== 'string') throw new HashmeshError('INTERNAL', `bad key for the store: ${String(op.key)}`)
      if (op.type === 'put' && !(op.value instanceof Uint8Array)) throw new HashmeshError('INTERNAL', `bad value for the store at ${op.key}`)
    }
    const added: string[] = []
    const removed = new Set<string>()
    for (const op of ops) {
      const had = this.values.has(op.key)
      if (op.type === 'put') {
        this.values.set(op.key, Uint8Array.from(op.value)) // a copy even of a Buffer, whose slice() is a view
        if (!had) {
          if (removed.has(op.key)) removed.delete(op.key)
          else added.push(op.key)
        }
      } else if (had) {
        this.values.delete(op.key)
        removed.add(op.key)
      }
    }
    if (added.length > 0 || removed.size > 0) this.reindex(added, removed)
  }

  /** Merges the new keys into the sorted list, dropping the removed ones: O(n + k log k) per batch. */
  private reindex(added: string[], removed: Set<string>): void {
    const fresh = added.filter((key) => this.values.has(key)).sort(compareKeys)
    const out: string[] = []
    let i = 0
    for (const key of this.sorted) {
      if (removed.has(key)) continue
      while (i < fresh.length && compareKeys(fresh[i]!, key) < 0) out.push(fresh[i++]!)
      out.push(key)
    }
    while (i < fresh.length) out.push(fresh[i++]!)
    this.sorted = out
  }

  entries(range: KeyRange): AsyncIterable<[string, Uint8Array]> {
    const snapshot = this.closed ? undefined : this.select(range).map((key): [string, Uint8Array] => [key, this.values.get(key)!])
    return this.iterate(snapshot, ([key, value]): [string, Uint8Array] => [key, copyOut(value)!])
  }

  keys(range: KeyRange): AsyncIterable<string> {
    return this.iterate(this.closed ? undefined : this.select(range), (key) => key)
  }

  async *keyBatches(range: KeyRange, size: number): AsyncIterable<string[]> {
    let batch: string[] = []
    for await (const key of this.keys(range)) {
      batch.push(key)
      if (batch.length === size) {
        yield batch
        batch = []
      }
    }
    if (batch.length > 0) yield batch
  }

  async close(): Promise<void> {
    this.closed = true
  }

  /** Taken when the iterator is made (values are never changed in place, so holding them is a snapshot). */
  private async *iterate<S, T>(snapshot: S[] | undefined, emit: (item: S) => T): AsyncIterable<T> {
    if (snapshot === undefined) this.checkOpen()
    for (const item of snapshot!) {
      this.checkOpen()
      yield emit(item)
    }
  }

  /** The keys in range, in iteration order, at most `limit`. */
  private select(range: KeyRange): string[] {
    const lower = range.gte ?? range.gt
    const upper = range.lte ?? range.lt
    const start = lower === undefined ? 0 : this.firstIndex(lower, range.gte === undefined)
    const end = upper === undefined ? this.sorted.length : this.firstIndex(upper, range.lte !== undefined)
    if (start >= end) return []
    const limit = Number.isInteger(range.limit) && range.limit! >= 0 ? range.limit! : Infinity
    const count = Math.min(end - start, limit)
    return range.reverse ? this.sorted.slice(end - count, end).reverse() : this.sorted.slice(start, start + count)
  }

  /** Index of the first key > bound (after = true) or >= bound (after = false). */
  private firstIndex(bound: string, after: boolean): number {
    let lo = 0
    let hi = this.sorted.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const c = compareKeys(this.sorted[mid]!, bound)
      if (c < 0 || (after && c === 0)) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  private checkOpen(): void {
    if (this.closed) throw new HashmeshError('STORE_CLOSED', 'the store is closed')
  }
}

/**
 * A set of signals by type and value, for the duplicate checks of a list import (a million values and more):
 * PDQ hashes as packed words (a list import hands most of them over packed: lists' PackedPdq), other hex
 * values in an open-addressing table keyed by a hash of their digits (one probe of a typed array per
 * lookup, against a JS Set's bucket, chain entry and key string), anything else in a plain Set.
 */
import { randomBytes } from 'node:crypto'
import { copyHashWords, hexToWords, mixHashWords } from '../hash/hash256.js'
import { hexDigitValue } from '../hash/hex.js'

/** A 32-bit hash of the first 16 hex digits (hashes are uniform, but a list may hold near neighbours), or -1. */
function hexHash(value: string): number {
  if (value.length < 16) return -1
  let a = 0
  let b = 0
  for (let i = 0; i < 8; i++) {
    const c = value.charCodeAt(i)
    const d = value.charCodeAt(i + 8)
    const x = hexDigitValue(c)
    const y = hexDigitValue(d)
    if (x < 0 || y < 0) return -1
    a = (a << 4) | x
    b = (b << 4) | y
  }
  let h = Math.imul(a ^ Math.imul(b, 0x9e3779b1), 0x85ebca6b)
  h ^= h >>> 15
  return h >>> 0
}

/**
 * An open-addressing table of (entry + 1, 32-bit hash) pairs, slot 0 of a pair meaning empty; subclasses
 * keep their entries and probe it, confirming a hash hit against the entry itself.
 */
abstract class EntryTable {
  protected slots = new Int32Array(2 * 1024)
  protected mask = 1023

  protected clearTable(): void {
    this.slots.fill(0)
  }

  /** Places entry number `entry` (1-based) under `hash`, growing the table to keep it at most half full. */
  protected insert(entry: number, hash: number): void {
    if (2 * entry > this.mask + 1) this.grow()
    this.place(this.slots, this.mask, entry, hash)
  }

  private place(slots: Int32Array, mask: number, entry: number, hash: number): void {
    let i = hash & mask
    while (slots[2 * i] !== 0) i = (i + 1) & mask
    slots[2 * i] = entry
    slots[2 * i + 1] = hash
  }

  private grow(): void {
    const old = this.slots
    const mask = 2 * (this.mask + 1) - 1
    const slots = new Int32Array(2 * (mask + 1))
    for (let i = 0; i < old.length; i += 2) if (old[i] !== 0) this.place(slots, mask, old[i]!, old[i + 1]!)
    this.slots = slots
    this.mask = mask
  }
}

/** Hex strings (of 16 digits or more), exactly: a hash hit is confirmed by comparing the strings. */
class HexSet extends EntryTable {
  private readonly values: string[] = []

  has(value: string, hash: number): boolean {
    const slots = this.slots
    for (let i = hash & this.mask; ; i = (i + 1) & this.mask) {
      const entry = slots[2 * i]!
      if (entry === 0) return false
      if (slots[2 * i + 1] === (hash | 0) && this.values[entry - 1] === value) return true
    }
  }

  add(value: string, hash: number): void {
    if (this.has(value, hash)) return
    this.values.push(value)
    this.insert(this.values.length, hash | 0)
  }

  addAll(other: HexSet): void {
    for (const value of other.values) this.add(value, hexHash(value))
  }
}

/** 256-bit hashes packed as 8 words, exactly: stored in one growing array; a hash hit is confirmed word by word. */
class PdqWordSet extends EntryTable {
  private words = new Uint32Array(8 * 256)
  private count = 0

  has(words: Uint32Array, base: number): boolean {
    return this.find(words, base, wordsHash(words, base))
  }

  add(words: Uint32Array, base: number): void {
    const hash = wordsHash(words, base)
    if (this.find(words, base, hash)) return
    if ((this.count + 1) * 8 > this.words.length) {
      const grown = new Uint32Array(this.words.length * 2)
      grown.set(this.words)
      this.words = grown
    }
    copyHashWords(words, base, this.words, this.count * 8) // (a subarray per add made a view object to collect)
    this.count++
    this.insert(this.count, hash)
  }

  clear(): void {
    this.count = 0
    this.clearTable()
  }

  addAll(other: PdqWordSet): void {
    for (let i = 0; i < other.count; i++) this.add(other.words, i * 8)
  }

  private find(words: Uint32Array, base: number, hash: number): boolean {
    const slots = this.slots
    const held = this.words
    for (let i = hash & this.mask; ; i = (i + 1) & this.mask) {
      const entry = slots[2 * i]!
      if (entry === 0) return false
      if (slots[2 * i + 1] !== hash) continue
      const at = (entry - 1) * 8
      let same = true
      for (let w = 0; w < 8 && same; w++) same = held[at + w] === words[base + w]
      if (same) return true
    }
  }
}

/**
 * Per-process seed (as bank/pdq-holder.ts): with a fixed one, a list crafted so that its hashes collide
 * would pile onto one run of the table, and an import's probes would grow with the square of its size.
 */
const SEED = randomBytes(4).readInt32LE(0)
const wordsHash = (words: Uint32Array, base: number): number => mixHashWords(words, base, SEED)

export class SignalKeys {
  private readonly hex = new Map<string, HexSet>()
  private readonly other = new Map<string, Set<string>>()
  private readonly pdq = new PdqWordSet()
  private readonly scratch = new Uint32Array(8)

  /** Whether the PDQ hash packed at words[base .. base + 8) is held (the same set as has('pdq', hex)). */
  hasPdqWords(words: Uint32Array, base: number): boolean {
    return this.pdq.has(words, base)
  }

  addPdqWords(words: Uint32Array, base: number): void {
    this.pdq.add(words, base)
  }

  /** Empties the set, keeping its memory for what comes next. */
  clear(): this {
    this.pdq.clear()
    this.hex.clear()
    this.other.clear()
    return this
  }

  /** Adds every signal of `other`. */
  addAll(other: SignalKeys): void {
    this.pdq.addAll(other.pdq)
    for (const [type, values] of other.hex) {
      let mine = this.hex.get(type)
      if (!mine) this.hex.set(type, (mine = new HexSet()))
      mine.addAll(values)
    }
    for (const [type, values] of other.other) {
      let mine = this.other.get(type)
      if (!mine) this.other.set(type, (mine = new Set()))
      for (const value of values) mine.add(value)
    }
  }

  has(type: string, value: string): boolean {
    if (type === 'pdq' && hexToWords(value, this.scratch)) return this.pdq.has(this.scratch, 0)
    const hash = hexHash(value)
    if (hash === -1) return this.other.get(type)?.has(value) ?? false
    return this.hex.get(type)?.has(value, hash) ?? false
  }

  add(type: string, value: string): void {
    if (type === 'pdq' && hexToWords(value, this.scratch)) return this.pdq.add(this.scratch, 0)
    const hash = hexHash(value)
    if (hash === -1) {
      let values = this.other.get(type)
      if (!values) this.other.set(type, (values = new Set()))
      values.add(value)
      return
    }
    let values = this.hex.get(type)
    if (!values) this.hex.set(type, (values = new HexSet()))
    values.add(value, hash)
  }
}

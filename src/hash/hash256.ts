import { fail } from '../errors.js'
import { hexDigitValue as hexValue } from './hex.js'

/** A 256-bit hash (PDQ) as 32 bytes, byte 0 = the first two hex digits (most significant). */
export type Hash256 = Uint8Array

export const HASH256_BYTES = 32
export const HASH256_HEX_LENGTH = 64
/**
 * Parses 64 hex digits (any case) into 32 bytes; anything else is HASH_INVALID. Validates and parses in
 * one pass: every stored PDQ signal goes through here when the index is built (a regex, a lower-case copy
 * and two buffers per hash cost 0.4 s of a 200,000-signal catch-up).
 */
export function parseHash256(hex: string): Hash256 {
  if (typeof hex !== 'string') fail('HASH_INVALID', 'hash must be a string of 64 hex digits')
  const out = new Uint8Array(32)
  let bad = hex.length !== 64
  for (let i = 0; i < 32 && !bad; i++) {
    const high = hexValue(hex.charCodeAt(2 * i))
    const low = hexValue(hex.charCodeAt(2 * i + 1))
    if ((high | low) < 0) bad = true
    out[i] = (high << 4) | low
  }
  if (bad) fail('HASH_INVALID', `hash must be 64 hex digits, got ${describe(hex)}`)
  return out
}

/**
 * parseHash256 into 8 big-endian 32-bit words (out[base .. base + 8)), as the match indexes pack hashes,
 * without a byte array per hash; false (out unspecified) when `hex` is not 64 hex digits.
 */
export function hexToWords(hex: string, out: Uint32Array, base = 0): boolean {
  return hex.length === 64 && hexWordsAt(hex, 0, out, base)
}

/** hexToWords of the 64 characters of `text` from `at` (a cell of a list line, without cutting it out). */
export function hexWordsAt(text: string, at: number, out: Uint32Array, base = 0): boolean {
  if (at < 0 || at + 64 > text.length) return false
  for (let w = 0; w < 8; w++) {
    let word = 0
    for (let i = at + w * 8; i < at + w * 8 + 8; i++) {
      const digit = hexValue(text.charCodeAt(i))
      if (digit < 0) return false
      word = (word << 4) | digit
    }
    out[base + w] = word >>> 0
  }
  return true
}

/**
 * The 32 bytes at `at` of `bytes` packed as hexToWords packs their hex (8 big-endian words), into `out` at
 * `base`: for hashes stored back to back (a bank chunk's column, a record's PDQ column), read where they sit
 * with no view made per hash. The caller checks that the 32 bytes are there.
 */
export function bytesToWordsAt(bytes: Uint8Array, at: number, out: Uint32Array, base = 0): void {
  for (let w = 0; w < 8; w++, at += 4) out[base + w] = ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0
}

/** The lower-case hex of the hash packed at words[base .. base + 8) (the inverse of hexToWords). */
export function wordsToHex(words: Uint32Array, base = 0): string {
  const bytes = Buffer.allocUnsafe(32)
  for (let w = 0; w < 8; w++) bytes.writeUInt32BE(words[base + w]!, w * 4)
  return bytes.toString('hex')
}

/** Copies the 8 words of a packed hash (src[base .. base + 8) to out[at .. at + 8)) without a view per copy. */
export function copyHashWords(src: Uint32Array, base: number, out: Uint32Array, at: number): void {
  for (let w = 0; w < 8; w++) out[at + w] = src[base + w]!
}

/**
 * A 32-bit hash of all 8 words of a packed hash, for hash tables keyed by hash value (near neighbours in a
 * list differ in a few bits anywhere, so every word counts); `seed` varies it per table or per process.
 */
export function mixHashWords(words: Uint32Array, base: number, seed: number): number {
  let h = seed
  for (let w = 0; w < 8; w++) {
    h = Math.imul(h ^ words[base + w]!, 0x9e3779b1)
    h ^= h >>> 15
  }
  return h | 0
}

export function formatHash256(hash: Hash256): string {
  return Buffer.from(hash.buffer, hash.byteOffset, hash.byteLength).toString('hex')
}

const POPCOUNT8 = new Uint8Array(256)
for (let i = 1; i < 256; i++) POPCOUNT8[i] = (i & 1) + POPCOUNT8[i >> 1]!

export function popcount32(x: number): number {
  x = x - ((x >>> 1) & 0x55555555)
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333)
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24
}

/** Hamming distance between two 32-byte hashes. */
export function hammingDistance(a: Hash256, b: Hash256): number {
  let d = 0
  for (let i = 0; i < HASH256_BYTES; i++) d += POPCOUNT8[a[i]! ^ b[i]!]!
  return d
}

export function hammingDistanceHex(a: string, b: string): number {
  return hammingDistance(parseHash256(a), parseHash256(b))
}

function describe(value: string): string {
  return value.length > 80 ? `${value.length} characters` : JSON.stringify(value)
}

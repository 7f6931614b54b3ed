/**
 * Canonical dag-cbor encoding of a record's wire form, written straight into bytes (no token per value, as
 * cborg makes): the node's own records are encoded here on every contribution. It knows only what a record
 * holds — maps with ASCII keys, arrays, byte strings, text, null and non-negative safe integers — and answers
 * undefined for anything else, which the caller then gives to @ipld/dag-cbor. Its output is dag-cbor's
 * byte for byte (test/record/canonical-encode.test.ts compares the two).
 */

class Unsupported extends Error {}
const UNSUPPORTED = new Unsupported()

class Writer {
  bytes = new Uint8Array(1024)
  length = 0

  private room(n: number): void {
    if (this.length + n <= this.bytes.length) return
    let size = this.bytes.length * 2
    while (size < this.length + n) size *= 2
    const grown = new Uint8Array(size)
    grown.set(this.bytes.subarray(0, this.length))
    this.bytes = grown
  }

  /** A CBOR head: major type and argument, in the fewest bytes. */
  head(major: number, n: number): void {
    this.room(9)
    const b = this.bytes
    const m = major << 5
    if (n < 24) b[this.length++] = m | n
    else if (n < 0x100) {
      b[this.length++] = m | 24
      b[this.length++] = n
    } else if (n < 0x10000) {
      b[this.length++] = m | 25
      b[this.length++] = n >>> 8
      b[this.length++] = n & 0xff
    } else if (n <= 0xffffffff) {
      b[this.length++] = m | 26
      b[this.length++] = n >>> 24
      b[this.length++] = (n >>> 16) & 0xff
      b[this.length++] = (n >>> 8) & 0xff
      b[this.length++] = n & 0xff
    } else {
      const hi = Math.floor(n / 0x100000000)
      const lo = n >>> 0
      b[this.length++] = m | 27
      b[this.length++] = hi >>> 24
      b[this.length++] = (hi >>> 16) & 0xff
      b[this.length++] = (hi >>> 8) & 0xff
      b[this.length++] = hi & 0xff
      b[this.length++] = lo >>> 24
      b[this.length++] = (lo >>> 16) & 0xff
      b[this.length++] = (lo >>> 8) & 0xff
      b[this.length++] = lo & 0xff
    }
  }

  raw(bytes: Uint8Array): void {
    this.room(bytes.length)
    this.bytes.set(bytes, this.length)
    this.length += bytes.length
  }

  /** Text: ASCII is copied as is; other text goes through UTF-8 (a lone surrogate is left to dag-cbor). */
  text(s: string): void {
    let ascii = true
    for (let i = 0; i < s.length; i++) {
      if (s.charCodeAt(i) >= 0x80) {
        ascii = false
        break
      }
    }
    if (ascii) {
      this.head(3, s.length)
      this.room(s.length)
      const b = this.bytes
      for (let i = 0; i < s.length; i++) b[this.length++] = s.charCodeAt(i)
      return
    }
    if (!s.isWellFormed()) throw UNSUPPORTED
    const utf8 = Buffer.from(s, 'utf8')
    this.head(3, utf8.length)
    this.raw(utf8)
  }
}

/** dag-cbor's key order: shorter first, then bytewise (for ASCII keys, by code unit). */
function keyOrder(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0)
}

/** Sorted keys of maps whose keys are not listed in order yet, by the keys as listed. */
const sortedKeys = new Map<string, string[]>()

/** A map's keys in dag-cbor order: as listed when they already are (a record's wire maps are built so). */
function keysOf(map: Record<string, unknown>): string[] {
  const keys = Object.keys(map)
  let ordered = true
  for (let k = 0; k < keys.length; k++) {
    const key = keys[k]!
    for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) >= 0x80) throw UNSUPPORTED
    if (k > 0 && keyOrder(keys[k - 1]!, key) >= 0) ordered = false
  }
  if (ordered) return keys
  const shape = keys.join('\u0000')
  let sorted = sortedKeys.get(shape)
  if (!sorted) {
    sorted = [...keys].sort(keyOrder)
    if (sortedKeys.size < 256) sortedKeys.set(shape, sorted)
  }
  return sorted
}

function write(w: Writer, value: unknown): void {
  if (typeof value === 'string') w.text(value)
  else if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) throw UNSUPPORTED
    w.head(0, value)
  } else if (value === null) w.head(7, 22)
  else if (value instanceof Uint8Array) {
    w.head(2, value.length)
    w.raw(value)
  } else if (Array.isArray(value)) {
    w.head(4, value.length)
    for (const item of value) write(w, item)
  } else if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const map = value as Record<string, unknown>
    const keys = keysOf(map)
    let count = 0
    for (const k of keys) if (map[k] !== undefined) count++
    w.head(5, count)
    for (const k of keys) {
      const v = map[k]
      if (v === undefined) continue // dag-cbor refuses undefined: leave that refusal to it
      w.text(k)
      write(w, v)
    }
    if (count !== keys.length) throw UNSUPPORTED
  } else throw UNSUPPORTED
}

/** The canonical dag-cbor bytes of a record's wire form, or undefined when it holds anything else. */
export function encodeWire(value: unknown): Uint8Array | undefined {
  const w = new Writer()
  try {
    write(w, value)
  } catch (err) {
    if (err === UNSUPPORTED) return undefined
    throw err
  }
  return w.bytes.slice(0, w.length)
}

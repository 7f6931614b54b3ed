/**
 * Decoding that accepts only canonical dag-cbor, checked token by token while cborg decodes (no second
 * encode pass). Together with cborg's own strict options this refuses every way one value could be
 * written twice:
 *
 *   - integers and lengths in more bytes than needed, indefinite lengths   (cborg `strict`, `allowIndefinite`)
 *   - duplicate or non-string map keys                                     (cborg `rejectDuplicateMapKeys`)
 *   - map keys out of dag-cbor order (shorter encoded key first, then bytewise)       (checked here)
 *   - floats, `undefined`, tags: records never contain them                          (checked here)
 *   - text that is not valid UTF-8 (it would decode to U+FFFD and re-encode differently) (checked here)
 */
import { decode, Token, Tokenizer, Type, type DecodeOptions } from 'cborg'

const OPTIONS: DecodeOptions = {
  strict: true,
  allowIndefinite: false,
  allowUndefined: false,
  allowNaN: false,
  allowInfinity: false,
  allowBigInt: false,
  useMaps: false,
  rejectDuplicateMapKeys: true,
}

/**
 * The open containers, innermost last, as parallel arrays (no object per container or key): items still
 * to come in each, whether it is a map, and where its previous key's encoding sits in the input.
 */
class CanonicalTokenizer extends Tokenizer {
  private depth = 0
  private readonly remaining: number[] = []
  private readonly isMap: boolean[] = []
  private readonly keyStart: number[] = []
  private readonly keyEnd: number[] = []
  private readonly bytes: Uint8Array

  constructor(data: Uint8Array) {
    super(data, OPTIONS)
    this.bytes = data
  }

  override next(): Token {
    const start = this.pos()
    const head = this.bytes[start]!
    const token = (head >= 0x40 && head <= 0x58 ? this.shortBytes(start, head) : head >= 0x60 && head <= 0x77 ? this.shortText(start, head - 0x60) : undefined) ?? super.next()
    const type = token.type
    if (type === Type.float || type === Type.undefined || type === Type.tag || type === Type.break) {
      throw new Error(`non-canonical: ${type.name} is not allowed in a record`)
    }
    const top = this.depth - 1
    if (top >= 0) {
      // In a map, items alternate key, value: an even count still to come means this is a key.
      if (this.isMap[top] && this.remaining[top]! % 2 === 0) this.checkKeyOrder(top, start, this.pos())
      this.remaining[top]!--
    }
    if (type === Type.string && (token.value as string).includes('\uFFFD')) this.checkUtf8(token.value as string, start)
    if ((type === Type.map || type === Type.array) && (token.value as number) > 0) {
      const d = this.depth++
      this.remaining[d] = type === Type.map ? 2 * (token.value as number) : (token.value as number)
      this.isMap[d] = type === Type.map
      this.keyStart[d] = -1
      this.keyEnd[d] = -1
    } else {
      while (this.depth > 0 && this.remaining[this.depth - 1] === 0) this.depth--
    }
    return token
  }

  /**
   * A byte string shorter than 256 bytes as a view into the input (cborg copies each one; a record has
   * five or more: author, prev, signature, signal values). The record's own bytes are already a view of
   * the frame they arrived in, so this keeps nothing alive that was not already. Truncated input and a
   * one-byte length under 24 (not the shortest form) are left to cborg, which refuses them.
   */
  private shortBytes(start: number, head: number): Token | undefined {
    const header = head === 0x58 ? 2 : 1
    if (start + header > this.bytes.length) return undefined
    const length = head === 0x58 ? this.bytes[start + 1]! : head - 0x40
    if (head === 0x58 && length < 24) return undefined
    const end = start + header + length
    if (end > this.bytes.length) return undefined
    this._pos = end
    return new Token(Type.bytes, this.bytes.subarray(start + header, end), header + length)
  }

  /**
   * An ASCII text of at most 23 bytes (every map key and kind, signal type and most labels in a record)
   * from a shared table instead of cborg's character-by-character concatenation, which allocated 4.4 KB
   * of intermediate strings per record. Anything else is left to cborg.
   */
  private shortText(start: number, length: number): Token | undefined {
    const from = start + 1
    const end = from + length
    if (end > this.bytes.length) return undefined
    const text = internedAscii(this.bytes, from, end)
    if (text === undefined) return undefined
    this._pos = end
    return new Token(Type.string, text, 1 + length)
  }

  /** U+FFFD is either in the text or stands for bytes that were not UTF-8: encode it back to see which. */
  private checkUtf8(text: string, start: number): void {
    const raw = this.bytes.subarray(start, this.pos())
    const utf8 = Buffer.from(text, 'utf8')
    const header = utf8.length < 24 ? 1 : utf8.length < 0x100 ? 2 : utf8.length < 0x10000 ? 3 : 5
    if (raw.length !== header + utf8.length || !utf8.equals(raw.subarray(header))) throw new Error('non-canonical: text is not valid UTF-8')
  }

  /** dag-cbor key order: the shorter encoded key first, equal lengths bytewise; strictly increasing. */
  private checkKeyOrder(frame: number, start: number, end: number): void {
    const lastStart = this.keyStart[frame]!
    const lastEnd = this.keyEnd[frame]!
    this.keyStart[frame] = start
    this.keyEnd[frame] = end
    if (lastStart < 0) return
    const lastLength = lastEnd - lastStart
    if (lastLength < end - start) return
    if (lastLength === end - start) {
      const b = this.bytes
      for (let i = 0; i < lastLength; i++) {
        const x = b[lastStart + i]!
        const y = b[start + i]!
        if (x !== y) {
          if (x < y) return
          break
        }
      }
    }
    throw new Error('non-canonical: map keys are not in dag-cbor order')
  }
}

/** Interned short ASCII strings by an FNV-1a hash of their bytes; bounded, so hostile input cannot grow it. */
const INTERNED_MAX = 4096
const interned = new Map<number, string>()

function internedAscii(bytes: Uint8Array, from: number, end: number): string | undefined {
  let hash = 0x811c9dc5
  for (let i = from; i < end; i++) {
    const b = bytes[i]!
    if (b >= 0x80) return undefined
    hash = Math.imul(hash ^ b, 0x01000193)
  }
  const known = interned.get(hash)
  if (known !== undefined && sameAscii(known, bytes, from, end)) return known
  const text = String.fromCharCode.apply(null, bytes.subarray(from, end) as unknown as number[])
  if (known === undefined && interned.size < INTERNED_MAX) interned.set(hash, text)
  return text
}

function sameAscii(text: string, bytes: Uint8Array, from: number, end: number): boolean {
  if (text.length !== end - from) return false
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) !== bytes[from + i]) return false
  return true
}

/** Decodes `bytes` if they are the canonical dag-cbor encoding of their value; throws otherwise. */
export function decodeCanonical(bytes: Uint8Array): unknown {
  return decode(bytes, { ...OPTIONS, tokenizer: new CanonicalTokenizer(bytes) })
}

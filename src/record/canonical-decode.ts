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
import { decode, Tokenizer, Type, type DecodeOptions, type Token } from 'cborg'

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
    const token = super.next()
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

/** Decodes `bytes` if they are the canonical dag-cbor encoding of their value; throws otherwise. */
export function decodeCanonical(bytes: Uint8Array): unknown {
  return decode(bytes, { ...OPTIONS, tokenizer: new CanonicalTokenizer(bytes) })
}

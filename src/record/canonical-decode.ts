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

interface Frame {
  isMap: boolean
  /** Items still to come: array elements, or map keys and values. */
  remaining: number
  total: number
  lastKey: Uint8Array | null
}

class CanonicalTokenizer extends Tokenizer {
  private readonly frames: Frame[] = []
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
    const frame = this.frames[this.frames.length - 1]
    if (frame !== undefined) {
      const index = frame.total - frame.remaining
      if (frame.isMap && index % 2 === 0) this.checkKeyOrder(frame, this.bytes.subarray(start, this.pos()))
      frame.remaining--
    }
    if (type === Type.string && (token.value as string).includes('\uFFFD')) this.checkUtf8(token.value as string, start)
    if ((type === Type.map || type === Type.array) && (token.value as number) > 0) {
      const items = type === Type.map ? 2 * (token.value as number) : (token.value as number)
      this.frames.push({ isMap: type === Type.map, remaining: items, total: items, lastKey: null })
    } else {
      while (this.frames.length > 0 && this.frames[this.frames.length - 1]!.remaining === 0) this.frames.pop()
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

  private checkKeyOrder(frame: Frame, key: Uint8Array): void {
    const last = frame.lastKey
    if (last !== null && !(last.length < key.length || (last.length === key.length && Buffer.compare(last, key) < 0))) {
      throw new Error('non-canonical: map keys are not in dag-cbor order')
    }
    frame.lastKey = key
  }
}

/** Decodes `bytes` if they are the canonical dag-cbor encoding of their value; throws otherwise. */
export function decodeCanonical(bytes: Uint8Array): unknown {
  return decode(bytes, { ...OPTIONS, tokenizer: new CanonicalTokenizer(bytes) })
}

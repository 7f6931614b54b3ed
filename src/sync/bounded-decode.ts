/**
 * dag-cbor decoding that counts while it decodes. A byte bound alone does not bound what decoding
 * allocates: 2 MiB of one-byte items is two million values, built into arrays and objects before anyone
 * counts them. Here cborg's tokenizer is wrapped so that every token is counted as it is read, and the
 * input is refused at the token that announces a list or map longer than `maxItems`, opens a container
 * deeper than `maxDepth`, or makes the values (keys and containers included) more than `maxValues`.
 * Otherwise the result is exactly `@ipld/dag-cbor`'s `decode` (same options, byte strings copied).
 *
 * This module, the record codec (record/) and the sync wire (sync/) are the only importers of cborg and
 * `@ipld/dag-cbor` (scripts/import-graph.ts checks it).
 */
import { decodeOptions as DAG_CBOR_DECODE_OPTIONS } from '@ipld/dag-cbor'
import { decode, Tokenizer, Type, type DecodeOptions, type Token } from 'cborg'
import { fail, type ErrorCode } from '../errors.js'

export interface DecodeBounds {
  /** Items one list, or entries one map, may announce. */
  maxItems: number
  /** Containers open at once: 1 lets the top value be a list or map of scalars. */
  maxDepth: number
  /** Values in the whole input: scalars, map keys, lists and maps. */
  maxValues: number
}

/** What over-count input is refused with: the caller's code and how it names the input ("sync message"). */
interface Refusal {
  code: ErrorCode
  what: string
}

/**
 * Items still to come in each open container, innermost last (a map's count is keys plus values). A tag
 * (dag-cbor's CID, tag 42) is not an item of its own: the value it wraps takes the slot.
 */
class CountingTokenizer extends Tokenizer {
  private values = 0
  private depth = 0
  private readonly remaining: number[] = []
  private readonly maxItems: number
  private readonly maxDepth: number
  private readonly maxValues: number

  constructor(data: Uint8Array, options: DecodeOptions, bounds: DecodeBounds, private readonly refusal: Refusal) {
    super(data, options)
    this.maxItems = bounds.maxItems
    this.maxDepth = bounds.maxDepth
    this.maxValues = bounds.maxValues
  }

  override next(): Token {
    const token = super.next()
    if (++this.values > this.maxValues) this.refuse(`holds more than ${this.maxValues} values`)
    const type = token.type
    if (type === Type.tag) return token
    let depth = this.depth
    if (depth > 0) this.remaining[depth - 1]!--
    if (type === Type.array || type === Type.map) {
      const items = token.value as number
      if (items > this.maxItems) this.refuse(`has a ${type.name} of ${items} items, more than ${this.maxItems}`)
      if (items > 0) {
        if (depth >= this.maxDepth) this.refuse(`nests deeper than ${this.maxDepth}`)
        this.remaining[depth] = type === Type.map ? 2 * items : items
        this.depth = depth + 1
        return token
      }
    }
    while (depth > 0 && this.remaining[depth - 1] === 0) depth--
    this.depth = depth
    return token
  }

  private refuse(why: string): never {
    fail(this.refusal.code, `${this.refusal.what} ${why}`)
  }
}

/**
 * Decodes dag-cbor `bytes` within `bounds`; over-count input throws HashmeshError `refusal.code`. Other
 * decoding errors (not dag-cbor, truncated, trailing bytes) are cborg's own and are thrown as they are.
 */
export function decodeDagCborBounded(bytes: Uint8Array, bounds: DecodeBounds, refusal: Refusal): unknown {
  // As dag-cbor's decode does (through cborg): a Buffer's own slice() is a view, and byte strings must be copies.
  const data = Object.getPrototypeOf(bytes) === Uint8Array.prototype ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return decode(data, { ...DAG_CBOR_DECODE_OPTIONS, tokenizer: new CountingTokenizer(data, DAG_CBOR_DECODE_OPTIONS, bounds, refusal) })
}

/**
 * Bank content added in bulk (a list import, an exchange fill) is stored as chunks: up to CHUNK_ITEMS items
 * with consecutive ids in one store value, instead of one JSON value per item. LevelDB took ~100,000 puts/s
 * of per-item JSON here; a 1,000,000-line import is one put per chunk and a third of the bytes. At open,
 * a chunk's hashes are read from its columns (no JSON parsed, no object per item).
 *
 * Layout, version 1 (every integer big-endian):
 *
 *   u8 1 | u32 count | u32 header length | header JSON { bank, createdAt, columns: [type…], extras: length }
 *   per column (a fixed-size signal type): a presence bitmap of ceil(count / 8) bytes (bit i%8 of byte
 *     i/8: item i has it), then the present values packed in item order (16 or 32 bytes each)
 *   extras (when header.extras > 0): UTF-8 JSON array of `count` entries, null or { note, metadata,
 *     records, vpdq } for the fields an item has
 *
 * A chunk item is created and never rewritten in place: an update or a deletion writes the item's own key
 * (bank-store.ts), which wins over its chunk.
 */
import { fail } from '../errors.js'
import { bytesToWordsAt } from '../hash/hash256.js'
import { BANK_SIGNAL_TYPES, type BankContent, type BankContentMetadata } from './types.js'

export const CHUNK_VERSION = 1
/** Items per chunk: one chunk read answers a page of content; a single-item read decodes at most this many. */
export const CHUNK_ITEMS = 1024

export const CHUNK_COLUMNS = { pdq: 32, video_md5: 16, md5: 16, sha256: 32 } as const
export type ColumnType = keyof typeof CHUNK_COLUMNS
const COLUMN_TYPES = Object.keys(CHUNK_COLUMNS) as ColumnType[]

/** What a chunk holds of one item (its id, times and disable_until_ts come from the chunk). */
export interface ChunkItem {
  signals: BankContent['signals']
  note: string | null
  metadata: BankContentMetadata | null
  records?: string[]
}

interface Header { bank: string; createdAt: number; columns: ColumnType[]; extras: number }
interface Extras { note?: string; metadata?: BankContentMetadata; records?: string[]; vpdq?: string }

/** Items of one bank, signals already normalised (lower-case hex of the right length). */
export function encodeChunk(bank: string, createdAt: number, items: readonly ChunkItem[]): Uint8Array {
  const count = items.length
  if (count === 0 || count > CHUNK_ITEMS) throw new RangeError(`a chunk holds 1..${CHUNK_ITEMS} items`)
  const columns = COLUMN_TYPES.filter((type) => items.some((item) => item.signals[type] !== undefined))
  const hasExtras = (item: ChunkItem): boolean => item.note !== null || item.metadata !== null || !!item.records?.length || item.signals.vpdq !== undefined
  const extrasBytes = items.some(hasExtras)
    ? Buffer.from(JSON.stringify(items.map((item): Extras | null => {
      if (!hasExtras(item)) return null
      const extra: Extras = {}
      if (item.note !== null) extra.note = item.note
      if (item.metadata !== null) extra.metadata = item.metadata
      if (item.records?.length) extra.records = item.records
      if (item.signals.vpdq !== undefined) extra.vpdq = item.signals.vpdq
      return extra
    })))
    : undefined
  const header = Buffer.from(JSON.stringify({ bank, createdAt, columns, extras: extrasBytes?.length ?? 0 } satisfies Header))
  const bitmapBytes = Math.ceil(count / 8)
  let size = 9 + header.length + (extrasBytes?.length ?? 0)
  for (const type of columns) {
    let n = 0
    for (const item of items) if (item.signals[type] !== undefined) n++
    size += bitmapBytes + n * CHUNK_COLUMNS[type]
  }
  const out = Buffer.alloc(size)
  out[0] = CHUNK_VERSION
  out.writeUInt32BE(count, 1)
  out.writeUInt32BE(header.length, 5)
  let at = 9 + header.copy(out, 9)
  for (const type of columns) {
    const bitmap = at
    at += bitmapBytes
    const width = CHUNK_COLUMNS[type]
    for (let i = 0; i < count; i++) {
      const hex = items[i]!.signals[type]
      if (hex === undefined) continue
      out[bitmap + (i >>> 3)]! |= 1 << (i & 7)
      if (out.write(hex, at, width, 'hex') !== width) fail('HASH_INVALID', `Invalid ${type} signal: expected ${width * 2} hex digits`)
      at += width
    }
  }
  if (extrasBytes) extrasBytes.copy(out, at)
  return out
}

/**
 * The chunk encodeChunk makes of `count` items that each have only a PDQ hash (no note, metadata or
 * records), from the hashes packed as words (8 big-endian words each, as lists' PackedPdq): a list
 * import's bare hashes, with no item object or hex string made.
 */
export function encodePdqChunk(bank: string, createdAt: number, words: Uint32Array, count: number): Uint8Array {
  if (count === 0 || count > CHUNK_ITEMS || words.length < count * 8) throw new RangeError(`a chunk holds 1..${CHUNK_ITEMS} items`)
  const header = Buffer.from(JSON.stringify({ bank, createdAt, columns: ['pdq'], extras: 0 } satisfies Header))
  const bitmapBytes = Math.ceil(count / 8)
  const out = Buffer.alloc(9 + header.length + bitmapBytes + count * CHUNK_COLUMNS.pdq)
  out[0] = CHUNK_VERSION
  out.writeUInt32BE(count, 1)
  out.writeUInt32BE(header.length, 5)
  let at = 9 + header.copy(out, 9)
  out.fill(0xff, at, at + bitmapBytes)
  if (count % 8 !== 0) out[at + bitmapBytes - 1] = (1 << (count % 8)) - 1
  at += bitmapBytes
  for (let w = 0; w < count * 8; w++, at += 4) out.writeUInt32BE(words[w]!, at)
  return out
}

/** A chunk read back: columns are views into the stored bytes (nothing is copied until asked for). */
export class DecodedChunk {
  readonly count: number
  readonly bank: string
  readonly createdAt: number
  private readonly columns = new Map<ColumnType, { bitmap: Uint8Array; values: Uint8Array; width: number; rank: Uint32Array | undefined }>()
  /** The types of the chunk's fixed-size columns (one array: the open reads it for each of a million items). */
  readonly columnTypes: readonly ColumnType[]
  private readonly header: Header
  private readonly extrasBytes: Uint8Array | undefined
  private extras: Array<Extras | null> | undefined

  constructor(private readonly bytes: Uint8Array) {
    if (bytes.length < 9 || bytes[0] !== CHUNK_VERSION) fail('INTERNAL', 'a bank content chunk of an unknown version')
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    this.count = view.getUint32(1)
    const headerLength = view.getUint32(5)
    const header = (this.header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 9, headerLength).toString('utf8')) as Header)
    this.bank = header.bank
    this.createdAt = header.createdAt
    const bitmapBytes = Math.ceil(this.count / 8)
    let at = 9 + headerLength
    for (const type of header.columns) {
      if (!Object.hasOwn(CHUNK_COLUMNS, type)) fail('INTERNAL', `a bank content chunk with an unknown column ${JSON.stringify(type)}`)
      const width = CHUNK_COLUMNS[type]
      const bitmap = bytes.subarray(at, at + bitmapBytes)
      at += bitmapBytes
      let present = 0
      for (let i = 0; i < this.count; i++) present += (bitmap[i >>> 3]! >>> (i & 7)) & 1
      this.columns.set(type, { bitmap, values: bytes.subarray(at, at + present * width), width, rank: present === this.count ? undefined : ranks(bitmap, this.count) })
      at += present * width
    }
    this.columnTypes = [...this.columns.keys()]
    this.extrasBytes = header.extras > 0 ? bytes.subarray(at, at + header.extras) : undefined
    if (at + header.extras !== bytes.length) fail('INTERNAL', 'a bank content chunk of the wrong length')
  }

  /** Whether item i has a value of this fixed-size type. */
  has(type: ColumnType, i: number): boolean {
    const column = this.columns.get(type)
    return column !== undefined && hasBit(column.bitmap, i)
  }

  /** Item i's value of a fixed-size type (a view into the chunk), or undefined when it has none. */
  value(type: ColumnType, i: number): Uint8Array | undefined {
    const column = this.columns.get(type)
    if (!column || !hasBit(column.bitmap, i)) return undefined
    const k = column.rank ? column.rank[i]! : i
    return column.values.subarray(k * column.width, (k + 1) * column.width)
  }

  /**
   * Item i's PDQ hash written as 8 big-endian words into `out` at `base` (as hashToWords), read where it
   * sits: the open packs a million hashes, and a view per item was garbage that kept the young generation
   * collecting while /status waited. False when the item has no PDQ hash.
   */
  pdqWords(i: number, out: Uint32Array, base: number): boolean {
    const column = this.columns.get('pdq')
    if (!column || !hasBit(column.bitmap, i)) return false
    bytesToWordsAt(column.values, (column.rank ? column.rank[i]! : i) * 32, out, base)
    return true
  }

  /** Whether every item has a PDQ hash and nothing else (a list import's bare hashes): packPdq serves them all. */
  get onlyPdq(): boolean {
    const column = this.columns.get('pdq')
    return column !== undefined && column.rank === undefined && this.columns.size === 1 && this.extrasBytes === undefined
  }

  /** Every item's PDQ hash packed as pdqWords does, item i's at `base` + 8i: for a chunk that is onlyPdq. */
  packPdq(out: Uint32Array, base: number): void {
    if (!this.onlyPdq) throw new RangeError('packPdq: the chunk has items other than bare PDQ hashes')
    const values = this.columns.get('pdq')!.values
    for (let i = 0; i < this.count; i++) bytesToWordsAt(values, i * 32, out, base + i * 8)
  }

  /** Item i's vpdq value (kept with the extras: free-form). */
  vpdq(i: number): string | undefined {
    return this.extra(i)?.vpdq
  }

  private extra(i: number): Extras | null {
    if (!this.extrasBytes) return null
    this.extras ??= JSON.parse(Buffer.from(this.extrasBytes.buffer, this.extrasBytes.byteOffset, this.extrasBytes.byteLength).toString('utf8')) as Array<Extras | null>
    return this.extras[i] ?? null
  }

  /** Item i as bank content, given the chunk's first id. */
  content(firstId: number, i: number): BankContent {
    const signals: BankContent['signals'] = {}
    for (const type of BANK_SIGNAL_TYPES) {
      if (type === 'vpdq') {
        const vpdq = this.vpdq(i)
        if (vpdq !== undefined) signals.vpdq = vpdq
        continue
      }
      const bytes = this.value(type, i)
      if (bytes) signals[type] = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
    }
    const extra = this.extra(i)
    return {
      id: firstId + i, bank: this.bank, signals, note: extra?.note ?? null, metadata: extra?.metadata ?? null,
      disableUntilTs: 0, createdAt: this.createdAt, updatedAt: this.createdAt, ...(extra?.records ? { records: extra.records } : {}),
    }
  }

  /** The same chunk under another bank name (a bank rename). */
  renamed(bank: string): Uint8Array {
    const headerLength = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength).getUint32(5)
    const next = Buffer.from(JSON.stringify({ ...this.header, bank }))
    const out = Buffer.alloc(this.bytes.length - headerLength + next.length)
    out.set(this.bytes.subarray(0, 9))
    out.writeUInt32BE(next.length, 5)
    next.copy(out, 9)
    out.set(this.bytes.subarray(9 + headerLength), 9 + next.length)
    return out
  }
}

/** Whether a column's presence bitmap has item i. */
function hasBit(bitmap: Uint8Array, i: number): boolean {
  return ((bitmap[i >>> 3]! >>> (i & 7)) & 1) === 1
}

/** Per item, how many items before it have the column's value (for a column some items lack). */
function ranks(bitmap: Uint8Array, count: number): Uint32Array {
  const rank = new Uint32Array(count)
  let k = 0
  for (let i = 0; i < count; i++) {
    rank[i] = k
    k += (bitmap[i >>> 3]! >>> (i & 7)) & 1
  }
  return rank
}

/** Whether a stored bank value is a chunk (item values are JSON objects, whose first byte is '{'). */
export function isChunk(bytes: Uint8Array): boolean {
  return bytes[0] === CHUNK_VERSION
}

/**
 * Where the bank store keeps its content's PDQ hashes. A serving node gives the node's PDQ catalog
 * (match/pdq-catalog.ts): near-neighbour searches, one index with the federation's signals. A process
 * that only writes banks (an offline `hashmesh import`) gives an ExactPdqHolder: exact lookups for the
 * duplicate check and no match index, so a million hashes cost ~50 MB instead of ~200 MB. The node
 * builds its index from the store when it starts.
 */
import { randomBytes } from 'node:crypto'
import { fail } from '../errors.js'
import { mixHashWords, type Hash256 } from '../hash/hash256.js'

export interface BankPdqHolder {
  /** Bank content items with a PDQ hash here. */
  readonly bankSize: number
  /**
   * Items per add that bulk writers should aim for: the catalog's index maintenance costs per add (a list
   * import in batches of 2,000 ran at 19,000 lines/s into it, 50,000 at 51,000), while the exact holder costs
   * per item and smaller batches let the import's objects die young (JS heap +5 MB instead of +100 MB).
   */
  readonly preferredAddBatch: number
  /** Resolves when no build runs (searches and writes wait for it). */
  idle(): Promise<void>
  /** Before an open of about `expectedHashes`: readies what its build will need until the returned function is called (PdqCatalog: its build process). */
  holdBuildProcess?(expectedHashes: number): () => Promise<void>
  /** At open: contentIds[i]'s hash is packed[i * 8 .. i * 8 + 8) (hashToWords). */
  addBankContentWordsAsync(contentIds: Uint32Array, packed: Uint32Array): Promise<void>
  /** Bank content added now; the caller waits for idle() first. */
  addBankContentWords(contentIds: Uint32Array, packed: Uint32Array): void
  removeBankContent(contentId: number): void
  /** Content ids whose hash is exactly the one packed as 8 words at packed[base .. base + 8). */
  bankContentWithWords(packed: Uint32Array, base: number): number[]
  /** Content within `threshold` of `hash`. */
  searchBanks(hash: Hash256, threshold: number): Array<{ contentId: number; distance: number }>
}

/**
 * Bank content's PDQ hashes for exact lookups only. Content ids are dense (1, 2, …), so a hash is stored at
 * its content id, in pages of 65,536 hashes (growing never copies what is stored); open-addressing tables of
 * (content id + 1, a 32-bit tag of the hash) pairs find them by value, one of 64 by the tag's top bits. A
 * lookup that misses, as nearly every line of an import does, walks one short run of one table and reads no
 * stored hash (tags differ). ~48 bytes per hash; ExactIndex, with its table by entry id, took 51 MB and
 * 1.7 µs per add at 1 M. A table that fills is doubled on its own: one table of all pairs left its old
 * half (8 MB at 1 M) as garbage in the import's RSS until a full GC.
 */
export class ExactPdqHolder implements BankPdqHolder {
  readonly preferredAddBatch = 2000
  private readonly pages: Uint32Array[] = []
  /** Per table: pairs of content id + 1 (0: empty) and tag. */
  private readonly tables: Int32Array[] = Array.from({ length: TABLES }, () => new Int32Array(2 * FIRST_TABLE_SLOTS))
  private readonly masks = new Int32Array(TABLES).fill(FIRST_TABLE_SLOTS - 1)
  private readonly counts = new Int32Array(TABLES)
  private count = 0
  /** The highest content id added (ids are never reused: one past it was never held). */
  private maxId = 0

  get bankSize(): number {
    return this.count
  }

  idle(): Promise<void> {
    return Promise.resolve()
  }

  async addBankContentWordsAsync(contentIds: Uint32Array, packed: Uint32Array): Promise<void> {
    this.addBankContentWords(contentIds, packed)
  }

  addBankContentWords(contentIds: Uint32Array, packed: Uint32Array): void {
    for (let i = 0; i < contentIds.length; i++) this.add(contentIds[i]!, packed, i * 8)
  }

  private add(contentId: number, packed: Uint32Array, base: number): void {
    if (!Number.isInteger(contentId) || contentId < 1 || contentId > 0xfffffffe) throw new RangeError('bank content ids are 1 .. 2^32 - 2')
    // Re-added: its hash may differ. An id past every one added is new (an import's), and needs no look.
    if (contentId <= this.maxId && this.holds(contentId)) this.removeBankContent(contentId)
    if (contentId > this.maxId) this.maxId = contentId
    const page = contentId >>> PAGE_BITS
    while (this.pages.length <= page) this.pages.push(new Uint32Array(0))
    if (this.pages[page]!.length === 0) this.pages[page] = new Uint32Array(PAGE_SIZE * 8)
    const words = this.pages[page]!
    const at = (contentId & PAGE_MASK) * 8
    for (let w = 0; w < 8; w++) words[at + w] = packed[base + w]!
    const tag = tagOf(packed, base)
    const t = tag >>> TABLE_SHIFT
    if (this.counts[t]! + 1 > (this.masks[t]! + 1) * MAX_LOAD) this.grow(t)
    place(this.tables[t]!, this.masks[t]!, contentId + 1, tag)
    this.counts[t]!++
    this.count++
  }

  removeBankContent(contentId: number): void {
    const words = this.pages[contentId >>> PAGE_BITS]
    if (!words || words.length === 0) return
    const tag = tagOf(words, (contentId & PAGE_MASK) * 8)
    const t = tag >>> TABLE_SHIFT
    const table = this.tables[t]!
    const mask = this.masks[t]!
    let i = tag & mask
    while (table[2 * i] !== contentId + 1) {
      if (table[2 * i] === 0) return
      i = (i + 1) & mask
    }
    // Backward shift: later members of the run move into the hole when their home allows it.
    let hole = i
    for (let next = (hole + 1) & mask; table[2 * next] !== 0; next = (next + 1) & mask) {
      const home = table[2 * next + 1]! & mask
      if (((hole - home) & mask) <= ((next - home) & mask)) {
        table[2 * hole] = table[2 * next]!
        table[2 * hole + 1] = table[2 * next + 1]!
        hole = next
      }
    }
    table[2 * hole] = 0
    this.counts[t]!--
    this.count--
  }

  private holds(contentId: number): boolean {
    const words = this.pages[contentId >>> PAGE_BITS]
    if (!words || words.length === 0) return false
    const tag = tagOf(words, (contentId & PAGE_MASK) * 8)
    const t = tag >>> TABLE_SHIFT
    const table = this.tables[t]!
    const mask = this.masks[t]!
    for (let i = tag & mask; table[2 * i] !== 0; i = (i + 1) & mask) if (table[2 * i] === contentId + 1) return true
    return false
  }

  bankContentWithWords(packed: Uint32Array, base: number): number[] {
    const tag = tagOf(packed, base)
    const t = tag >>> TABLE_SHIFT
    const table = this.tables[t]!
    const mask = this.masks[t]!
    let out: number[] | undefined
    for (let i = tag & mask; table[2 * i] !== 0; i = (i + 1) & mask) {
      if (table[2 * i + 1] !== tag) continue
      const id = table[2 * i]! - 1
      const words = this.pages[id >>> PAGE_BITS]!
      const at = (id & PAGE_MASK) * 8
      let same = true
      for (let w = 0; w < 8 && same; w++) same = words[at + w] === packed[base + w]
      if (same) (out ??= []).push(id)
    }
    return out ? out.sort((a, b) => a - b) : []
  }

  searchBanks(): never {
    fail('INTERNAL', 'the banks were opened to write only (an offline import): they have no match index')
  }

  private grow(t: number): void {
    const old = this.tables[t]!
    const mask = 2 * (this.masks[t]! + 1) - 1
    const table = new Int32Array(2 * (mask + 1))
    for (let i = 0; i < old.length; i += 2) if (old[i] !== 0) place(table, mask, old[i]!, old[i + 1]!)
    this.tables[t] = table
    this.masks[t] = mask
  }
}

function place(table: Int32Array, mask: number, entry: number, tag: number): void {
  let i = tag & mask
  while (table[2 * i] !== 0) i = (i + 1) & mask
  table[2 * i] = entry
  table[2 * i + 1] = tag
}

const PAGE_BITS = 16
const PAGE_SIZE = 1 << PAGE_BITS
const PAGE_MASK = PAGE_SIZE - 1
const MAX_LOAD = 0.7
/** 64 tables, chosen by a tag's top 6 bits (its low bits choose the slot). */
const TABLE_SHIFT = 26
const TABLES = 1 << (32 - TABLE_SHIFT)
const FIRST_TABLE_SLOTS = 64
/** Per-process seed: crafted hashes cannot be chosen to pile onto one run of the table. */
const SEED = randomBytes(4).readInt32LE(0)

/** A 32-bit tag of a packed hash (its words mixed with the seed). */
function tagOf(words: Uint32Array, base: number): number {
  return mixHashWords(words, base, SEED)
}

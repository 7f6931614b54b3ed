/**
 * Banks and their content in the replica's key-value store, with an in-memory view for lookups that
 * holds no object per content item: bank configs in a map; per content id, typed-array columns (its
 * bank's slot, disable_until_ts, which signal types it has); PDQ hashes in the node's PDQ catalog
 * (match/pdq-catalog.ts, shared with the federation's signals, so HMA's lookup is one search); MD5 and
 * SHA-256 in ExactIndexes. A content item's note, metadata and records are read from the store when
 * asked for. (Content as JS objects was ~650 bytes of heap each: a million of them made the full GCs
 * of a start-up pause /status for 100 ms and more.) Writes go to the store first (one atomic batch),
 * then the view.
 *
 *   bank!cfg!<NAME>           -> BankConfig JSON
 *   bank!chunk!<firstId:16>   -> up to 1,024 items added in bulk, with consecutive ids (content-chunk.ts)
 *   bank!item!<id:16>         -> BankContent JSON; empty: deleted (an item of a chunk). An item's own key
 *                                wins over its chunk: updates and deletions of chunk items are written here
 *   bank!next                 -> next content id (JSON number)
 *
 * Content ids are global across banks (as HMA's), so a lookup can name content without its bank.
 */
import { fail } from '../errors.js'
import { hexToWords, parseHash256, wordsToHex } from '../hash/hash256.js'
import { ExactIndex } from '../match/exact-index.js'
import { PdqCatalog } from '../match/pdq-catalog.js'
import { hashToWords, sharedUint32Array } from '../match/pdq-index.js'
import { CHUNK_ITEMS, DecodedChunk, encodeChunk, encodePdqChunk, type ChunkItem } from './content-chunk.js'
import type { BankPdqHolder } from './pdq-holder.js'
import { Pacer } from '../match/steps.js'
import { WHOLE_SCAN, type BatchOp, type KeyValueStore } from '../store/level-db.js'
import {
  BANK_SIGNAL_TYPES, checkBankName, contentEnabled, isBankSignalType, MAX_DISABLE_UNTIL_TS, METADATA_KEYS, normaliseSignal,
  type BankConfig, type BankContent, type BankContentMetadata, type BankKind, type BankSignalType,
} from './types.js'

const CFG = 'bank!cfg!'
const ITEM = 'bank!item!'
const CHUNK = 'bank!chunk!'
const NEXT = 'bank!next'
/** An add of at least this many items is written as chunks; fewer, as one value per item. */
const CHUNK_MIN_ITEMS = 32
/** PDQ hashes added at once from which the catalog's build runs in steps (smaller adds are quick enough). */
const STEPPED_PDQ_ADD = 4096
/** Initial room for the PDQ hashes collected at open, at least (see open). */
const OPEN_PDQ_BATCH = 65_536
/** ...and at most this many (36 bytes each); beyond it they grow by doubling as the ids are read. */
const OPEN_PRESIZE_MAX = 4_194_304
/** Content items read from the store per request when a bank's content is walked. */
const READ_CHUNK = 1000
/** Banks are numbered in a Uint16Array column (slot 0: no content). */
const MAX_BANKS = 65_535
const itemKey = (id: number): string => ITEM + id.toString().padStart(16, '0')
const chunkKey = (firstId: number): string => CHUNK + firstId.toString().padStart(16, '0')
const idOfKey = (key: string, prefix: string): number => Number(key.slice(prefix.length))
/** typeBits' high bit: the content is read from its chunk (no item key of its own). */
const IN_CHUNK = 0x80
const json = (value: unknown): Uint8Array => Buffer.from(JSON.stringify(value))
const parse = <T>(bytes: Uint8Array): T => JSON.parse(Buffer.from(bytes).toString('utf8')) as T

export interface BankHit { contentId: number; bank: BankConfig; type: BankSignalType; distance: number; disableUntilTs: number }
export interface BankUpdate { name?: string; matchingEnabledRatio?: number; kind?: BankKind }
export interface ContentInput { signals: Record<string, unknown>; note?: string | null; metadata?: unknown; records?: string[] }
export interface ContentUpdate { disableUntilTs?: unknown; note?: string | null; metadata?: unknown }

const TYPE_BIT = Object.fromEntries(BANK_SIGNAL_TYPES.map((type, i) => [type, 1 << i])) as Record<BankSignalType, number>
const EXACT_BYTES = { md5: 16, video_md5: 16, sha256: 32 } as const
type ExactType = keyof typeof EXACT_BYTES
const isExactType = (type: BankSignalType): type is ExactType => type in EXACT_BYTES

export class BankStore {
  private readonly banks = new Map<string, BankConfig>()
  /** Bank name -> its slot in `bankOf` (slots are never reused while the process runs). */
  private readonly slots = new Map<string, number>()
  private readonly slotNames: (string | undefined)[] = [undefined]
  private readonly perBank = new Map<number, number>()
  /** Per content id: its bank's slot (0: no such content), disable_until_ts, and a bit per signal type it has. */
  private bankOf = new Uint16Array(1024)
  private disabledUntil = new Uint32Array(1024)
  private typeBits = new Uint8Array(1024)
  private readonly signalCounts = Object.fromEntries(BANK_SIGNAL_TYPES.map((t) => [t, 0])) as Record<BankSignalType, number>
  private readonly exact = Object.fromEntries(Object.entries(EXACT_BYTES).map(([type, digestBytes]) => [type, new ExactIndex({ digestBytes })])) as Record<ExactType, ExactIndex>
  /** vpdq values are free-form (a video id): value -> content ids, and content id -> value. */
  private readonly vpdq = new Map<string, Set<number>>()
  private readonly vpdqOf = new Map<number, string>()
  private items = 0
  private nextId = 1
  private readonly scratchWords = new Uint32Array(8)
  /** The chunks, ascending: first id, item count, bank slot. */
  private readonly chunkStarts: number[] = []
  private readonly chunkCounts: number[] = []
  private readonly chunkSlots: number[] = []
  /** Writes one at a time, so ids and renames never interleave. */
  private queue: Promise<unknown> = Promise.resolve()

  private constructor(private readonly kv: KeyValueStore, private readonly pdq: BankPdqHolder) {}

  /**
   * Loads every bank and indexes every content item: PDQ hashes into `pdq`, the node's catalog (or an
   * ExactPdqHolder in a process that only writes banks).
   */
  static async open(kv: KeyValueStore, pdq: BankPdqHolder = new PdqCatalog()): Promise<BankStore> {
    const store = new BankStore(kv, pdq)
    for await (const [, value] of kv.entries({ gte: CFG, lt: CFG + '\xff' })) store.addBankSlot(parse<BankConfig>(value))
    // PDQ hashes are packed into words as they are read and indexed in one stepped bulk build (not one
    // maintenance pass per item: at 1 M items that was minutes); the loop yields every few ms, also within
    // a LevelDB chunk, so /status answers meanwhile.
    // Every id is below the stored next id, so the per-id columns and the PDQ arrays get their size once
    // (ids of deleted content make it an upper bound): growing them by doubling copied up to 32 MB at a time,
    // 10-20 ms in one piece while /status waited, and each copy's garbage drove a full GC. They still grow
    // by doubling should a store hold ids beyond it.
    // (capped: a store whose content was mostly deleted, or a damaged next id, must not size them to gigabytes)
    const next = await kv.get(NEXT)
    const storedNext = next ? parse<number>(next) : 1
    const expected = Math.min(OPEN_PRESIZE_MAX, Math.max(OPEN_PDQ_BATCH, storedNext - 1))
    store.room(expected)
    const releaseBuild = pdq.holdBuildProcess?.(expected)
    try {
      await store.load(kv, pdq, storedNext, expected)
    } finally {
      void releaseBuild?.()
    }
    return store
  }

  /** open()'s reading of the stored content, into this store's view and `pdq`. */
  private async load(kv: KeyValueStore, pdq: BankPdqHolder, storedNext: number, expected: number): Promise<void> {
    // (shared: the mark of a start-up build, which runs in the catalog's build process)
    let ids = sharedUint32Array(expected)
    let words = sharedUint32Array(expected * 8)
    let pending = 0
    let maxId = 0
    const room = (n = 1): void => {
      while (pending + n > ids.length) {
        ids = grow(ids, sharedUint32Array(ids.length * 2))
        words = grow(words, sharedUint32Array(words.length * 2))
      }
    }
    const pacer = new Pacer()
    // Items with a key of their own first: they win over their chunk (an update, or empty: deleted).
    const ownKey = new Set<number>()
    for await (const [key, value] of kv.entries({ gte: ITEM, lt: ITEM + '\xff' }, WHOLE_SCAN)) {
      if (pacer.due()) await pacer.pause()
      const id = idOfKey(key, ITEM)
      if (id > maxId) maxId = id // (content of a bank that is gone still holds its id)
      ownKey.add(id)
      if (value.length === 0) continue
      const content = parse<BankContent>(value)
      if (!this.index(content)) continue
      if (content.signals.pdq === undefined) continue
      room()
      ids[pending] = content.id
      hashToWords(parseHash256(content.signals.pdq), words, pending * 8)
      pending++
    }
    for await (const [key, value] of kv.entries({ gte: CHUNK, lt: CHUNK + '\xff' }, WHOLE_SCAN)) {
      const first = idOfKey(key, CHUNK)
      const chunk = new DecodedChunk(value)
      if (first + chunk.count - 1 > maxId) maxId = first + chunk.count - 1
      const slot = this.slots.get(chunk.bank)
      if (slot === undefined) continue
      this.addChunk(first, chunk.count, slot)
      if (chunk.onlyPdq && this.indexPdqChunk(first, chunk.count, slot, ownKey)) {
        // (a list import's bare hashes: the chunk at once, no per-item work on the main thread)
        room(chunk.count)
        chunk.packPdq(words, pending * 8)
        for (let i = 0; i < chunk.count; i++) ids[pending + i] = first + i
        pending += chunk.count
        if (pacer.due(chunk.count)) await pacer.pause()
        continue
      }
      for (let i = 0; i < chunk.count; i++) {
        if (pacer.due()) await pacer.pause()
        const id = first + i
        if (ownKey.has(id)) continue
        this.indexChunkItem(id, slot, chunk, i)
        room()
        if (!chunk.pdqWords(i, words, pending * 8)) continue
        ids[pending] = id
        pending++
      }
    }
    if (pending > 0) await pdq.addBankContentWordsAsync(ids.subarray(0, pending), words.subarray(0, pending * 8))
    // (not Math.max(...ids): a million arguments overflow the stack)
    this.nextId = Math.max(storedNext, maxId + 1)
  }

  /** Items per addContents that bulk writers should aim for (BankPdqHolder.preferredAddBatch). */
  get preferredAddBatch(): number {
    return this.pdq.preferredAddBatch
  }

  get contentCount(): number {
    return this.items
  }

  /** Resolves when no PDQ catalog build runs: a start-up build in the build process refuses exact lookups (holds). */
  pdqIdle(): Promise<void> {
    return this.pdq.idle()
  }

  pdqCount(): number {
    return this.pdq.bankSize
  }

  /** Content items carrying a signal of this type. */
  countSignals(type: BankSignalType): number {
    return this.signalCounts[type]
  }

  /** Content items in the bank. */
  countContent(bankName: string): number {
    this.requireBank(bankName)
    return this.perBank.get(this.slots.get(bankName)!) ?? 0
  }

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task)
    this.queue = run.catch(() => undefined) // the caller gets the failure; the queue goes on
    return run
  }

  // ---- banks ----

  listBanks(): BankConfig[] {
    return [...this.banks.values()].sort((a, b) => a.name.localeCompare(b.name))
  }

  getBank(name: string): BankConfig | undefined {
    return this.banks.get(name)
  }

  private addBankSlot(bank: BankConfig): void {
    this.banks.set(bank.name, bank)
    if (this.slots.has(bank.name)) return
    if (this.slotNames.length > MAX_BANKS) fail('BAD_REQUEST', `at most ${MAX_BANKS} banks`)
    this.slots.set(bank.name, this.slotNames.length)
    this.slotNames.push(bank.name)
  }

  createBank(input: { name: unknown; matchingEnabledRatio?: number; kind?: BankKind }, reserved: (name: string) => boolean): Promise<BankConfig> {
    return this.exclusive(async () => {
      const name = checkBankName(input.name)
      if (this.banks.has(name) || reserved(name)) fail('BAD_REQUEST', 'Bank already exists', { details: { status: 403 } })
      if (this.slotNames.length > MAX_BANKS) fail('BAD_REQUEST', `at most ${MAX_BANKS} banks`)
      const now = Date.now()
      const bank: BankConfig = { name, matchingEnabledRatio: checkRatio(input.matchingEnabledRatio ?? 1), kind: input.kind ?? 'local', createdAt: now, updatedAt: now }
      await this.kv.batch([{ type: 'put', key: CFG + name, value: json(bank) }])
      this.addBankSlot(bank)
      return bank
    })
  }

  updateBank(name: string, update: BankUpdate, reserved: (name: string) => boolean): Promise<BankConfig> {
    return this.exclusive(async () => {
      const bank = this.requireBank(name)
      const next: BankConfig = { ...bank, updatedAt: Date.now() }
      if (update.name !== undefined) next.name = checkBankName(update.name)
      if (update.matchingEnabledRatio !== undefined) next.matchingEnabledRatio = checkRatio(update.matchingEnabledRatio)
      if (update.kind !== undefined && update.kind !== bank.kind && (update.kind === 'shared' || bank.kind === 'shared')) {
        fail('BAD_REQUEST', 'a bank is shared from its creation: create a shared bank and add the content to it')
      }
      if (update.kind !== undefined) next.kind = update.kind
      const ops: BatchOp[] = [{ type: 'put', key: CFG + next.name, value: json(next) }]
      const renamed = next.name !== name
      if (renamed) {
        if (this.banks.has(next.name) || reserved(next.name)) fail('BAD_REQUEST', `Bank ${next.name} already exists`, { details: { status: 403 } })
        ops.push({ type: 'del', key: CFG + name })
        // Chunks get the new name in their header; items with a key of their own are rewritten.
        const slot = this.slots.get(name)!
        const starts = this.chunkStarts.filter((_, k) => this.chunkSlots[k] === slot)
        for (let k = 0; k < starts.length; k += READ_CHUNK) {
          const values = await this.kv.getMany(starts.slice(k, k + READ_CHUNK).map(chunkKey))
          values.forEach((bytes, j) => bytes && ops.push({ type: 'put', key: chunkKey(starts[k + j]!), value: new DecodedChunk(bytes).renamed(next.name) }))
        }
        const own = this.idsOf(slot, 0, Infinity).filter((id) => (this.typeBits[id]! & IN_CHUNK) === 0)
        for (let k = 0; k < own.length; k += READ_CHUNK) {
          for (const c of await this.read(own.slice(k, k + READ_CHUNK))) ops.push({ type: 'put', key: itemKey(c.id), value: json({ ...c, bank: next.name }) })
        }
      }
      await this.kv.batch(ops)
      if (renamed) {
        const slot = this.slots.get(name)!
        this.banks.delete(name)
        this.slots.delete(name)
        this.slots.set(next.name, slot)
        this.slotNames[slot] = next.name
      }
      this.banks.set(next.name, next)
      return next
    })
  }

  /** Deletes the bank and its content; deleting a bank that does not exist is not an error (HMA). */
  deleteBank(name: string): Promise<void> {
    return this.exclusive(async () => {
      if (!this.banks.has(name)) return
      const slot = this.slots.get(name)!
      const ids = this.idsOf(slot, 0, Infinity)
      const ops: BatchOp[] = [{ type: 'del', key: CFG + name }]
      for (const id of ids) if (this.chunkIndexOf(id) < 0) ops.push({ type: 'del', key: itemKey(id) })
      const chunks = this.chunkStarts.flatMap((first, k) => (this.chunkSlots[k] === slot ? [k] : []))
      for (const k of chunks) {
        const first = this.chunkStarts[k]!
        ops.push({ type: 'del', key: chunkKey(first) })
        // (with the keys of its items: updates, and the empty values of deleted ones)
        for (let id = first; id < first + this.chunkCounts[k]!; id++) ops.push({ type: 'del', key: itemKey(id) })
      }
      await this.kv.batch(ops)
      this.banks.delete(name)
      for (const k of chunks.reverse()) this.removeChunkAt(k)
      await this.pdq.idle()
      for (const id of ids) this.unindex(id)
    })
  }

  private requireBank(name: string): BankConfig {
    const bank = this.banks.get(name)
    if (!bank) fail('NOT_FOUND', `bank '${name}' not found`)
    return bank
  }

  // ---- content ----

  addContent(bankName: string, input: ContentInput): Promise<BankContent> {
    return this.addContents(bankName, [input]).then(([content]) => content!)
  }

  /**
   * Many content items in one atomic batch (list import, node/list-import.ts): every input is validated
   * before anything is written, then all are written or none; ids are consecutive.
   */
  addContents(bankName: string, inputs: ContentInput[]): Promise<BankContent[]> {
    return this.exclusive(async () => {
      const bank = this.requireBank(bankName)
      const now = Date.now()
      // A large add yields every few ms (Pacer): on a running node an import's batch of 50,000 items was
      // 200–360 ms of validation and encoding without a turn of the event loop. Nothing is written before
      // the one batch below, and adds are one at a time (exclusive), so ids stay consecutive.
      const pacer = new Pacer()
      const added: BankContent[] = []
      for (let i = 0; i < inputs.length; i++) {
        if (pacer.due()) await pacer.pause()
        const input = inputs[i]!
        const { signals, metadata } = this.validateContent(input)
        const content: BankContent = { id: this.nextId + i, bank: bank.name, signals, note: input.note ?? null, metadata, disableUntilTs: 0, createdAt: now, updatedAt: now }
        if (input.records) content.records = input.records
        added.push(content)
      }
      if (added.length === 0) return added
      const chunked = added.length >= CHUNK_MIN_ITEMS
      const ops: BatchOp[] = []
      if (chunked) {
        for (let i = 0; i < added.length; i += CHUNK_ITEMS) {
          ops.push({ type: 'put', key: chunkKey(added[i]!.id), value: encodeChunk(bank.name, now, added.slice(i, i + CHUNK_ITEMS) as ChunkItem[]) })
          if (added.length > CHUNK_ITEMS) await pacer.pause()
        }
      } else {
        for (const c of added) ops.push({ type: 'put', key: itemKey(c.id), value: json(c) })
      }
      ops.push({ type: 'put', key: NEXT, value: json(this.nextId + added.length) })
      await this.kv.batch(ops)
      this.nextId += added.length
      const slot = this.slots.get(bank.name)!
      if (chunked) for (let i = 0; i < added.length; i += CHUNK_ITEMS) this.addChunk(added[i]!.id, Math.min(CHUNK_ITEMS, added.length - i), slot)
      // PDQ hashes go into the catalog in one bulk add (one maintenance pass for the batch, not one per add).
      await this.pdq.idle()
      let withPdq = 0
      for (const content of added) {
        if (pacer.due()) await pacer.pause()
        this.index(content)
        if (chunked) this.typeBits[content.id]! |= IN_CHUNK
        if (content.signals.pdq !== undefined) withPdq++
      }
      if (withPdq > 0) {
        const ids = new Uint32Array(withPdq)
        const words = new Uint32Array(withPdq * 8)
        let n = 0
        for (const c of added) {
          if (c.signals.pdq === undefined) continue
          if (pacer.due()) await pacer.pause()
          ids[n] = c.id
          hexToWords(c.signals.pdq, words, n * 8) // (normalised by validateContent)
          n++
        }
        // A large add into a node's catalog is built in steps that yield (an import into a running node
        // froze its event loop for the index maintenance of every batch, seconds at a million hashes);
        // lookups wait for it meanwhile (idle()).
        if (withPdq >= STEPPED_PDQ_ADD) await this.pdq.addBankContentWordsAsync(ids, words)
        else {
          await this.pdq.idle() // (again: a build may have started while the loop above yielded)
          this.pdq.addBankContentWords(ids, words)
        }
      }
      return added
    })
  }

  /**
   * `count` PDQ hashes, packed as words (lists' PackedPdq: 8 big-endian words each), added as content with
   * no note or metadata in one atomic batch: the same chunks, view and index as addContents of
   * `{ signals: { pdq } }` each, without an object or a hex string per hash (a list import of bare hashes).
   * Answers the first content id; ids are consecutive.
   */
  addPdqWords(bankName: string, words: Uint32Array, count: number): Promise<number> {
    if (count < CHUNK_MIN_ITEMS) {
      const inputs = Array.from({ length: count }, (_, i) => ({ signals: { pdq: wordsToHex(words, i * 8) } }))
      return this.addContents(bankName, inputs).then((added) => added[0]?.id ?? this.nextId)
    }
    return this.exclusive(async () => {
      const bank = this.requireBank(bankName)
      const now = Date.now()
      const first = this.nextId
      const pacer = new Pacer()
      const ops: BatchOp[] = []
      for (let i = 0; i < count; i += CHUNK_ITEMS) {
        const n = Math.min(CHUNK_ITEMS, count - i)
        ops.push({ type: 'put', key: chunkKey(first + i), value: encodePdqChunk(bank.name, now, words.subarray(i * 8, (i + n) * 8), n) })
        if (pacer.due()) await pacer.pause()
      }
      ops.push({ type: 'put', key: NEXT, value: json(first + count) })
      await this.kv.batch(ops)
      this.nextId += count
      const slot = this.slots.get(bank.name)!
      for (let i = 0; i < count; i += CHUNK_ITEMS) this.addChunk(first + i, Math.min(CHUNK_ITEMS, count - i), slot)
      await this.pdq.idle()
      // (fresh ids: nothing to unindex)
      this.room(first + count - 1)
      this.bankOf.fill(slot, first, first + count)
      this.disabledUntil.fill(0, first, first + count)
      this.typeBits.fill(TYPE_BIT.pdq | IN_CHUNK, first, first + count)
      this.perBank.set(slot, (this.perBank.get(slot) ?? 0) + count)
      this.items += count
      this.signalCounts.pdq += count
      const ids = new Uint32Array(count)
      for (let i = 0; i < count; i++) ids[i] = first + i
      const packed = words.subarray(0, count * 8)
      if (count >= STEPPED_PDQ_ADD) await this.pdq.addBankContentWordsAsync(ids, packed)
      else this.pdq.addBankContentWords(ids, packed)
      return first
    })
  }

  /** The content's signals (normalised) and metadata, or the 400 that adding it would answer. */
  validateContent(input: ContentInput): { signals: BankContent['signals']; metadata: BankContentMetadata | null } {
    const signals: BankContent['signals'] = {}
    const given = input.signals ?? {}
    let count = 0
    for (const type in given) { // (not Object.entries: two arrays per item of a million-line import)
      if (!Object.hasOwn(given, type)) continue
      if (!isBankSignalType(type)) fail('BAD_REQUEST', `No such signal type ${type}`)
      signals[type] = normaliseSignal(type, given[type])
      count++
    }
    if (count === 0) fail('BAD_REQUEST', 'No signals given')
    return { signals, metadata: checkMetadata(input.metadata) }
  }

  async getContent(bankName: string, id: number): Promise<BankContent> {
    const content = await this.findContent(bankName, id)
    if (!content) fail('NOT_FOUND', `content ${id} not found in bank '${bankName}'`)
    return content
  }

  /** The content item `id` of this bank, undefined when the bank holds none. */
  async findContent(bankName: string, id: number): Promise<BankContent | undefined> {
    this.requireBank(bankName)
    if (!this.holdsId(bankName, id)) return undefined
    return (await this.read([id]))[0]
  }

  /** The bank's content with ids above `after`, at most `limit` of them, in id order. */
  async listContentPage(bankName: string, after: number, limit: number): Promise<BankContent[]> {
    this.requireBank(bankName)
    return this.read(this.idsOf(this.slots.get(bankName)!, after, limit))
  }

  /** Every content item of the bank (in chunks from the store). */
  async listContent(bankName: string): Promise<BankContent[]> {
    this.requireBank(bankName)
    const out: BankContent[] = []
    for await (const chunk of this.contentChunks(bankName)) out.push(...chunk)
    return out
  }

  private async *contentChunks(bankName: string): AsyncIterable<BankContent[]> {
    const slot = this.slots.get(bankName)!
    for (let after = 0; ; ) {
      const ids = this.idsOf(slot, after, READ_CHUNK)
      if (ids.length === 0) return
      yield await this.read(ids)
      after = ids.at(-1)!
    }
  }

  /** The content items (in the order of `ids`; ids not found are left out): chunk items from their chunks, one read per chunk. */
  private async read(ids: number[]): Promise<BankContent[]> {
    const own = ids.filter((id) => (this.typeBits[id]! & IN_CHUNK) === 0)
    const ownValues = await this.kv.getMany(own.map(itemKey))
    const found = new Map<number, BankContent>()
    ownValues.forEach((bytes, i) => bytes && bytes.length > 0 && found.set(own[i]!, parse<BankContent>(bytes)))
    const starts = [...new Set(ids.flatMap((id) => ((this.typeBits[id]! & IN_CHUNK) !== 0 ? [this.chunkStarts[this.chunkIndexOf(id)]!] : [])))]
    const chunks = new Map<number, DecodedChunk>()
    ;(await this.kv.getMany(starts.map(chunkKey))).forEach((bytes, i) => bytes && chunks.set(starts[i]!, new DecodedChunk(bytes)))
    for (const id of ids) {
      if ((this.typeBits[id]! & IN_CHUNK) === 0) continue
      const k = this.chunkIndexOf(id)
      const chunk = k >= 0 ? chunks.get(this.chunkStarts[k]!) : undefined
      if (chunk) found.set(id, chunk.content(this.chunkStarts[k]!, id - this.chunkStarts[k]!))
    }
    return ids.flatMap((id) => {
      const content = found.get(id)
      return content ? [this.current(content)] : []
    })
  }

  /** Content as stored, with its bank's current name (slots follow renames). */
  private current(content: BankContent): BankContent {
    const name = this.slotNames[this.bankOf[content.id] ?? 0]
    return name !== undefined && name !== content.bank ? { ...content, bank: name } : content
  }

  /** Ids of the slot's content above `after`, at most `limit`, ascending (a scan of one typed array). */
  private idsOf(slot: number, after: number, limit: number): number[] {
    const out: number[] = []
    const bankOf = this.bankOf
    for (let id = after + 1; id < this.nextId && id < bankOf.length && out.length < limit; id++) if (bankOf[id] === slot) out.push(id)
    return out
  }

  private holdsId(bankName: string, id: number): boolean {
    return Number.isSafeInteger(id) && id > 0 && id < this.bankOf.length && this.bankOf[id] !== 0 && this.bankOf[id] === this.slots.get(bankName)
  }

  updateContent(bankName: string, id: number, update: ContentUpdate): Promise<BankContent> {
    return this.exclusive(async () => {
      const current = await this.getContent(bankName, id)
      const next: BankContent = { ...current, updatedAt: Date.now() }
      if (update.disableUntilTs !== undefined) next.disableUntilTs = checkDisableUntil(update.disableUntilTs)
      if (update.note !== undefined) next.note = update.note
      if (update.metadata !== undefined) next.metadata = checkMetadata(update.metadata)
      await this.kv.batch([{ type: 'put', key: itemKey(id), value: json(next) }])
      this.disabledUntil[id] = next.disableUntilTs
      this.typeBits[id]! &= ~IN_CHUNK // (its own key wins over its chunk from now on)
      return next
    })
  }

  /** The number deleted (0 when the content is not in the bank), as HMA answers. */
  deleteContent(bankName: string, id: number): Promise<number> {
    return this.deleteContents(bankName, [id])
  }

  /** Deletes the bank's content items among `ids` in one atomic store write; the number deleted (ids not in the bank are skipped). */
  deleteContents(bankName: string, ids: readonly number[]): Promise<number> {
    return this.exclusive(async () => {
      this.requireBank(bankName)
      const held = [...new Set(ids)].filter((id) => this.holdsId(bankName, id))
      if (held.length === 0) return 0
      // An item of a chunk is deleted by an empty value under its own key (the chunk is not rewritten), and a
      // chunk left with no item is deleted whole, with those keys (a bank an exchange keeps in step with a
      // list would otherwise keep every chunk it ever wrote).
      const ops: BatchOp[] = []
      const deleting = new Set(held)
      const emptied = new Set<number>()
      for (const id of held) {
        const k = this.chunkIndexOf(id)
        if (k < 0) ops.push({ type: 'del', key: itemKey(id) })
        else if (!emptied.has(k)) {
          const first = this.chunkStarts[k]!
          let live = false
          for (let other = first; other < first + this.chunkCounts[k]! && !live; other++) live = this.bankOf[other] !== 0 && !deleting.has(other)
          if (live) ops.push({ type: 'put', key: itemKey(id), value: new Uint8Array(0) })
          else {
            emptied.add(k)
            ops.push({ type: 'del', key: chunkKey(first) })
            for (let other = first; other < first + this.chunkCounts[k]!; other++) ops.push({ type: 'del', key: itemKey(other) })
          }
        }
      }
      await this.kv.batch(ops)
      for (const k of [...emptied].sort((a, b) => b - a)) this.removeChunkAt(k)
      await this.pdq.idle()
      for (const id of held) this.unindex(id)
      return held.length
    })
  }

  // ---- lookups ----

  /**
   * Content carrying the signal (PDQ within `threshold`), with its bank; disabled content included
   * (the caller filters, so raw lookups can show it as HMA's do). Waits for a PDQ catalog build under way.
   */
  async lookup(type: BankSignalType, value: string, threshold: number): Promise<BankHit[]> {
    const normalised = normaliseSignal(type, value)
    if (type === 'pdq') {
      await this.pdq.idle()
      return this.hits('pdq', this.pdq.searchBanks(parseHash256(normalised), threshold))
    }
    return this.hits(type, this.exactIds(type, normalised).map((contentId) => ({ contentId, distance: 0 })))
  }

  /** Whether the bank holds content with exactly this signal. */
  holds(bankName: string, type: BankSignalType, value: string): boolean {
    if (type === 'pdq') {
      // (words parsed straight from the hex: no byte array or lower-case copy per line of an import)
      if (typeof value !== 'string' || !hexToWords(value, this.scratchWords)) fail('HASH_INVALID', 'Invalid pdq signal: expected 64 hex digits')
      return this.holdsPdqWords(bankName, this.scratchWords, 0)
    }
    for (const id of this.exactIds(type, normaliseSignal(type, value))) if (this.holdsId(bankName, id)) return true
    return false
  }

  /** Whether the bank holds content with exactly the PDQ hash packed at words[base .. base + 8). */
  holdsPdqWords(bankName: string, words: Uint32Array, base: number): boolean {
    for (const id of this.pdq.bankContentWithWords(words, base)) if (this.holdsId(bankName, id)) return true
    return false
  }

  private exactIds(type: BankSignalType, normalised: string): number[] {
    if (isExactType(type)) return this.exact[type].lookup(Buffer.from(normalised, 'hex'))
    return [...(this.vpdq.get(normalised) ?? [])]
  }

  /** Content ids found by a search (this store's or the node's matcher's), as hits with their banks, nearest first. */
  hits(type: BankSignalType, found: ReadonlyArray<{ contentId: number; distance: number }>): BankHit[] {
    const hits: BankHit[] = []
    for (const { contentId, distance } of found) {
      const name = this.slotNames[this.bankOf[contentId] ?? 0]
      const bank = name !== undefined ? this.banks.get(name) : undefined
      if (bank) hits.push({ contentId, bank, type, distance, disableUntilTs: this.disabledUntil[contentId]! })
    }
    return hits.sort((a, b) => a.distance - b.distance || a.contentId - b.contentId)
  }

  isEnabled(content: { disableUntilTs: number }, nowSeconds = Math.floor(Date.now() / 1000)): boolean {
    return contentEnabled(content, nowSeconds)
  }

  /** Into the in-memory view, except its PDQ hash (added to the catalog by the caller, in bulk). False for content of no known bank. */
  private index(content: BankContent): boolean {
    const slot = this.slots.get(content.bank)
    if (slot === undefined) return false
    const id = content.id
    this.room(id)
    if (this.bankOf[id] !== 0) this.unindex(id)
    this.bankOf[id] = slot
    this.disabledUntil[id] = content.disableUntilTs
    this.perBank.set(slot, (this.perBank.get(slot) ?? 0) + 1)
    this.items++
    let bits = 0
    const signals = content.signals
    for (const key in signals) {
      const type = key as BankSignalType
      const value = signals[type]!
      bits |= TYPE_BIT[type]
      this.signalCounts[type]++
      if (isExactType(type)) this.exact[type].add(id, Buffer.from(value, 'hex'))
      else if (type === 'vpdq') this.indexVpdq(id, value)
    }
    this.typeBits[id] = bits
    return true
  }

  private addChunk(first: number, count: number, slot: number): void {
    this.chunkStarts.push(first)
    this.chunkCounts.push(count)
    this.chunkSlots.push(slot)
  }

  private removeChunkAt(k: number): void {
    this.chunkStarts.splice(k, 1)
    this.chunkCounts.splice(k, 1)
    this.chunkSlots.splice(k, 1)
  }

  /** The position of the chunk holding `id` in chunkStarts, or -1 (ids of chunks ascend: a binary search). */
  private chunkIndexOf(id: number): number {
    const starts = this.chunkStarts
    let lo = 0
    let hi = starts.length - 1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      if (starts[mid]! <= id) lo = mid + 1
      else hi = mid - 1
    }
    return hi >= 0 && id < starts[hi]! + this.chunkCounts[hi]! ? hi : -1
  }

  /**
   * indexChunkItem for every item of a chunk of bare PDQ hashes at once, when none of its ids has a key of its
   * own or is indexed already (else false: the caller goes item by item).
   */
  private indexPdqChunk(first: number, count: number, slot: number, ownKey: ReadonlySet<number>): boolean {
    const end = first + count
    this.room(end - 1)
    for (let id = first; id < end; id++) if (this.bankOf[id] !== 0 || ownKey.has(id)) return false
    this.bankOf.fill(slot, first, end)
    this.disabledUntil.fill(0, first, end)
    this.typeBits.fill(IN_CHUNK | TYPE_BIT.pdq, first, end)
    this.perBank.set(slot, (this.perBank.get(slot) ?? 0) + count)
    this.items += count
    this.signalCounts.pdq += count
    return true
  }

  /** index() for item i of a chunk, from its columns (no object made), except its PDQ hash. */
  private indexChunkItem(id: number, slot: number, chunk: DecodedChunk, i: number): void {
    this.room(id)
    if (this.bankOf[id] !== 0) this.unindex(id)
    this.bankOf[id] = slot
    this.disabledUntil[id] = 0
    this.perBank.set(slot, (this.perBank.get(slot) ?? 0) + 1)
    this.items++
    let bits = IN_CHUNK
    for (const type of chunk.columnTypes) {
      if (!chunk.has(type, i)) continue
      bits |= TYPE_BIT[type]
      this.signalCounts[type]++
      if (isExactType(type)) this.exact[type].add(id, chunk.value(type, i)!) // (a PDQ hash is packed by the caller: no view made)
    }
    const vpdq = chunk.vpdq(i)
    if (vpdq !== undefined) {
      bits |= TYPE_BIT.vpdq
      this.signalCounts.vpdq++
      this.indexVpdq(id, vpdq)
    }
    this.typeBits[id] = bits
  }

  private room(id: number): void {
    if (id < this.bankOf.length) return
    const size = Math.max(id + 1, this.bankOf.length * 2)
    this.bankOf = grow(this.bankOf, size)
    this.disabledUntil = grow(this.disabledUntil, size)
    this.typeBits = grow(this.typeBits, size)
  }

  private indexVpdq(id: number, value: string): void {
    let ids = this.vpdq.get(value)
    if (!ids) this.vpdq.set(value, (ids = new Set()))
    ids.add(id)
    this.vpdqOf.set(id, value)
  }

  private unindex(id: number): void {
    const slot = this.bankOf[id] ?? 0
    if (slot === 0) return
    this.bankOf[id] = 0
    this.perBank.set(slot, this.perBank.get(slot)! - 1)
    this.items--
    const bits = this.typeBits[id]!
    this.typeBits[id] = 0
    for (const type of BANK_SIGNAL_TYPES) {
      if ((bits & TYPE_BIT[type]) === 0) continue // (IN_CHUNK is no type's bit)
      this.signalCounts[type]--
      if (type === 'pdq') this.pdq.removeBankContent(id)
      else if (isExactType(type)) this.exact[type].remove(id)
      else {
        const value = this.vpdqOf.get(id)!
        this.vpdqOf.delete(id)
        this.vpdq.get(value)?.delete(id)
        if (this.vpdq.get(value)?.size === 0) this.vpdq.delete(value)
      }
    }
  }
}

/** `array` copied into a larger one: a new one of `size` elements, or `into`. */
function grow<T extends Uint8Array | Uint16Array | Uint32Array>(array: T, into: number | T): T {
  const grown = typeof into === 'number' ? new (array.constructor as new (n: number) => T)(into) : into
  grown.set(array)
  return grown
}

function checkRatio(ratio: unknown): number {
  const value = typeof ratio === 'string' ? Number(ratio) : ratio
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) fail('BAD_REQUEST', 'enabled_ratio must be a number from 0 to 1')
  return value
}

function checkDisableUntil(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) fail('BAD_REQUEST', 'disable_until_ts must be a non-negative integer (unix seconds)')
  if (value > MAX_DISABLE_UNTIL_TS) fail('BAD_REQUEST', `disable_until_ts is too far in the future (at most ${MAX_DISABLE_UNTIL_TS})`)
  return value
}

/** HMA's metadata: an object with only content_id, content_uri and json. */
function checkMetadata(metadata: unknown): BankContentMetadata | null {
  if (metadata === undefined || metadata === null) return null
  if (typeof metadata !== 'object' || Array.isArray(metadata)) fail('BAD_REQUEST', 'metadata should be a json object')
  const unexpected = Object.keys(metadata).filter((k) => !(METADATA_KEYS as readonly string[]).includes(k)).sort()
  if (unexpected.length > 0) fail('BAD_REQUEST', `metadata contains unexpected keys: ${unexpected.join(', ')}`)
  return metadata as BankContentMetadata
}

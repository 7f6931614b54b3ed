/**
 * Banks and their content in the replica's key-value store, with an in-memory view for lookups: every
 * bank config and content item is held in memory (loaded at open), PDQ signals in the node's PDQ catalog
 * (match/pdq-catalog.ts, shared with the federation's signals, so HMA's lookup is one search), exact
 * signals in a map. Writes go to the store first (one atomic batch), then the view.
 *
 *   bank!cfg!<NAME>           -> BankConfig JSON
 *   bank!item!<id:16>         -> BankContent JSON
 *   bank!next                 -> next content id (JSON number)
 *
 * Content ids are global across banks (as HMA's), so a lookup can name content without its bank.
 */
import { fail } from '../errors.js'
import { parseHash256 } from '../hash/hash256.js'
import { PdqCatalog } from '../match/pdq-catalog.js'
import { Pacer } from '../match/steps.js'
import type { BatchOp, KeyValueStore } from '../store/level-db.js'
import {
  checkBankName, contentEnabled, isBankSignalType, MAX_DISABLE_UNTIL_TS, METADATA_KEYS, normaliseSignal,
  type BankConfig, type BankContent, type BankContentMetadata, type BankKind, type BankSignalType,
} from './types.js'

const CFG = 'bank!cfg!'
const ITEM = 'bank!item!'
const NEXT = 'bank!next'
/** Initial room for the PDQ hashes collected at open (grows by doubling). */
const OPEN_PDQ_BATCH = 65_536
const itemKey = (id: number): string => ITEM + id.toString().padStart(16, '0')
const json = (value: unknown): Uint8Array => Buffer.from(JSON.stringify(value))
const parse = <T>(bytes: Uint8Array): T => JSON.parse(Buffer.from(bytes).toString('utf8')) as T

export interface BankHit { content: BankContent; bank: BankConfig; type: BankSignalType; distance: number }
export interface BankUpdate { name?: string; matchingEnabledRatio?: number; kind?: BankKind }
export interface ContentInput { signals: Record<string, unknown>; note?: string | null; metadata?: unknown; records?: string[] }
export interface ContentUpdate { disableUntilTs?: unknown; note?: string | null; metadata?: unknown }

export class BankStore {
  private readonly banks = new Map<string, BankConfig>()
  private readonly contents = new Map<number, BankContent>()
  /** `type:value` -> content ids carrying it (exact types). */
  private readonly exact = new Map<string, Set<number>>()
  private nextId = 1
  /** Writes one at a time, so ids and renames never interleave. */
  private queue: Promise<unknown> = Promise.resolve()

  private constructor(private readonly kv: KeyValueStore, private readonly pdq: PdqCatalog) {}

  /** Loads every bank and content item into memory and indexes them (PDQ hashes into `pdq`, the node's catalog). */
  static async open(kv: KeyValueStore, pdq: PdqCatalog = new PdqCatalog()): Promise<BankStore> {
    const store = new BankStore(kv, pdq)
    for await (const [, value] of kv.entries({ gte: CFG, lt: CFG + '\xff' })) {
      const bank = parse<BankConfig>(value)
      store.banks.set(bank.name, bank)
    }
    // PDQ hashes are collected and indexed in one stepped bulk build (one build, not one maintenance pass
    // per item: at 1 M items that was minutes); the loop yields between LevelDB chunks, so /status answers.
    let ids = new Uint32Array(OPEN_PDQ_BATCH)
    const hexes: string[] = []
    let maxId = 0
    const pacer = new Pacer() // a turn of the event loop every few ms, also within a LevelDB chunk
    for await (const [, value] of kv.entries({ gte: ITEM, lt: ITEM + '\xff' })) {
      if (pacer.due()) await pacer.pause()
      const content = parse<BankContent>(value)
      store.indexContent(content)
      if (content.id > maxId) maxId = content.id
      const pdq = content.signals.pdq
      if (pdq === undefined) continue
      if (hexes.length === ids.length) {
        const grown = new Uint32Array(ids.length * 2)
        grown.set(ids)
        ids = grown
      }
      ids[hexes.length] = content.id
      hexes.push(pdq)
    }
    if (hexes.length > 0) await pdq.addBankContentAsync(ids.subarray(0, hexes.length), hexes)
    const next = await kv.get(NEXT)
    // (not Math.max(...ids): a million arguments overflow the stack)
    store.nextId = Math.max(next ? parse<number>(next) : 1, maxId + 1)
    return store
  }

  get contentCount(): number {
    return this.contents.size
  }

  pdqCount(): number {
    return this.pdq.bankSize
  }

  /** Content items carrying a signal of this type. */
  countSignals(type: BankSignalType): number {
    let n = 0
    for (const c of this.contents.values()) if (c.signals[type] !== undefined) n++
    return n
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

  createBank(input: { name: unknown; matchingEnabledRatio?: number; kind?: BankKind }, reserved: (name: string) => boolean): Promise<BankConfig> {
    return this.exclusive(async () => {
      const name = checkBankName(input.name)
      if (this.banks.has(name) || reserved(name)) fail('BAD_REQUEST', 'Bank already exists', { details: { status: 403 } })
      const now = Date.now()
      const bank: BankConfig = { name, matchingEnabledRatio: checkRatio(input.matchingEnabledRatio ?? 1), kind: input.kind ?? 'local', createdAt: now, updatedAt: now }
      await this.kv.batch([{ type: 'put', key: CFG + name, value: json(bank) }])
      this.banks.set(name, bank)
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
        for (const c of this.contents.values()) if (c.bank === name) ops.push({ type: 'put', key: itemKey(c.id), value: json({ ...c, bank: next.name }) })
      }
      await this.kv.batch(ops)
      if (renamed) {
        this.banks.delete(name)
        for (const c of this.contents.values()) if (c.bank === name) c.bank = next.name
      }
      this.banks.set(next.name, next)
      return next
    })
  }

  /** Deletes the bank and its content; deleting a bank that does not exist is not an error (HMA). */
  deleteBank(name: string): Promise<void> {
    return this.exclusive(async () => {
      if (!this.banks.has(name)) return
      const items = [...this.contents.values()].filter((c) => c.bank === name)
      await this.kv.batch([{ type: 'del', key: CFG + name }, ...items.map((c): BatchOp => ({ type: 'del', key: itemKey(c.id) }))])
      this.banks.delete(name)
      await this.pdq.idle()
      for (const c of items) this.unindexContent(c)
    })
  }

  private requireBank(name: string): BankConfig {
    const bank = this.banks.get(name)
    if (!bank) fail('NOT_FOUND', `bank '${name}' not found`)
    return bank
  }

  // ---- content ----

  addContent(bankName: string, input: ContentInput): Promise<BankContent> {
    return this.exclusive(async () => {
      const bank = this.requireBank(bankName)
      const { signals, metadata } = this.validateContent(input)
      const now = Date.now()
      const content: BankContent = {
        id: this.nextId, bank: bank.name, signals, note: input.note ?? null, metadata,
        disableUntilTs: 0, createdAt: now, updatedAt: now, ...(input.records ? { records: input.records } : {}),
      }
      await this.kv.batch([{ type: 'put', key: itemKey(content.id), value: json(content) }, { type: 'put', key: NEXT, value: json(content.id + 1) }])
      this.nextId = content.id + 1
      await this.pdq.idle()
      this.indexContent(content)
      if (content.signals.pdq !== undefined) this.pdq.addBankContent(Uint32Array.of(content.id), [content.signals.pdq])
      return content
    })
  }

  /**
   * Many content items in one atomic batch (list import, node/list-import.ts): every input is validated
   * before anything is written, then all are written or none; ids are consecutive.
   */
  addContents(bankName: string, inputs: ContentInput[]): Promise<BankContent[]> {
    return this.exclusive(async () => {
      const bank = this.requireBank(bankName)
      const now = Date.now()
      const added = inputs.map((input, i): BankContent => {
        const { signals, metadata } = this.validateContent(input)
        return {
          id: this.nextId + i, bank: bank.name, signals, note: input.note ?? null, metadata,
          disableUntilTs: 0, createdAt: now, updatedAt: now, ...(input.records ? { records: input.records } : {}),
        }
      })
      if (added.length === 0) return added
      const ops: BatchOp[] = added.map((c) => ({ type: 'put', key: itemKey(c.id), value: json(c) }))
      ops.push({ type: 'put', key: NEXT, value: json(this.nextId + added.length) })
      await this.kv.batch(ops)
      this.nextId += added.length
      // PDQ hashes go into the catalog in one bulk add (one maintenance pass for the batch, not one per add).
      const pdq = added.filter((c) => c.signals.pdq !== undefined)
      await this.pdq.idle()
      for (const content of added) this.indexContent(content)
      if (pdq.length > 0) this.pdq.addBankContent(Uint32Array.from(pdq, (c) => c.id), pdq.map((c) => c.signals.pdq!))
      return added
    })
  }

  /** The content's signals (normalised) and metadata, or the 400 that adding it would answer. */
  validateContent(input: ContentInput): { signals: BankContent['signals']; metadata: BankContentMetadata | null } {
    const signals: BankContent['signals'] = {}
    const given = Object.entries(input.signals ?? {})
    if (given.length === 0) fail('BAD_REQUEST', 'No signals given')
    for (const [type, value] of given) {
      if (!isBankSignalType(type)) fail('BAD_REQUEST', `No such signal type ${type}`)
      signals[type] = normaliseSignal(type, value)
    }
    return { signals, metadata: checkMetadata(input.metadata) }
  }

  getContent(bankName: string, id: number): BankContent {
    const content = this.findContent(bankName, id)
    if (!content) fail('NOT_FOUND', `content ${id} not found in bank '${bankName}'`)
    return content
  }

  /** The content item `id` of this bank, undefined when the bank holds none (no copy of the bank's list). */
  findContent(bankName: string, id: number): BankContent | undefined {
    this.requireBank(bankName)
    const content = this.contents.get(id)
    return content && content.bank === bankName ? content : undefined
  }

  listContent(bankName: string): BankContent[] {
    this.requireBank(bankName)
    return [...this.contents.values()].filter((c) => c.bank === bankName)
  }

  updateContent(bankName: string, id: number, update: ContentUpdate): Promise<BankContent> {
    return this.exclusive(async () => {
      const current = this.getContent(bankName, id)
      const next: BankContent = { ...current, updatedAt: Date.now() }
      if (update.disableUntilTs !== undefined) next.disableUntilTs = checkDisableUntil(update.disableUntilTs)
      if (update.note !== undefined) next.note = update.note
      if (update.metadata !== undefined) next.metadata = checkMetadata(update.metadata)
      await this.kv.batch([{ type: 'put', key: itemKey(id), value: json(next) }])
      this.contents.set(id, next)
      return next
    })
  }

  /** The number deleted (0 when the content is not in the bank), as HMA answers. */
  deleteContent(bankName: string, id: number): Promise<number> {
    return this.exclusive(async () => {
      this.requireBank(bankName)
      const content = this.contents.get(id)
      if (!content || content.bank !== bankName) return 0
      await this.kv.batch([{ type: 'del', key: itemKey(id) }])
      await this.pdq.idle()
      this.unindexContent(content)
      return 1
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
    return this.hits(type, [...(this.exact.get(`${type}:${normalised}`) ?? [])].map((contentId) => ({ contentId, distance: 0 })))
  }

  /** Whether the bank holds content with exactly this signal. */
  holds(bankName: string, type: BankSignalType, value: string): boolean {
    const normalised = normaliseSignal(type, value)
    const ids = type === 'pdq' ? this.pdq.bankContentWith(parseHash256(normalised)) : (this.exact.get(`${type}:${normalised}`) ?? [])
    for (const id of ids) if (this.contents.get(id)?.bank === bankName) return true
    return false
  }

  /** Content ids found by a search (this store's or the node's matcher's), as hits with their banks, nearest first. */
  hits(type: BankSignalType, found: ReadonlyArray<{ contentId: number; distance: number }>): BankHit[] {
    const hits: BankHit[] = []
    for (const { contentId, distance } of found) {
      const content = this.contents.get(contentId)
      const bank = content && this.banks.get(content.bank)
      if (content && bank) hits.push({ content, bank, type, distance })
    }
    return hits.sort((a, b) => a.distance - b.distance || a.content.id - b.content.id)
  }

  isEnabled(content: BankContent, nowSeconds = Math.floor(Date.now() / 1000)): boolean {
    return contentEnabled(content, nowSeconds)
  }

  /** Into the in-memory view, except its PDQ hash (added to the catalog by the caller, in bulk). */
  private indexContent(content: BankContent): void {
    this.contents.set(content.id, content)
    for (const [type, value] of Object.entries(content.signals) as Array<[BankSignalType, string]>) {
      if (type !== 'pdq') {
        const key = `${type}:${value}`
        let ids = this.exact.get(key)
        if (!ids) this.exact.set(key, (ids = new Set()))
        ids.add(content.id)
      }
    }
  }

  private unindexContent(content: BankContent): void {
    this.contents.delete(content.id)
    for (const [type, value] of Object.entries(content.signals) as Array<[BankSignalType, string]>) {
      if (type === 'pdq') this.pdq.removeBankContent(content.id)
      else this.exact.get(`${type}:${value}`)?.delete(content.id)
    }
  }
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

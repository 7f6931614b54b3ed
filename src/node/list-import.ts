/**
 * The one import path for hash lists (issue 16): the CLI (`hashmesh import --format`), the API
 * (POST /v1/import) and the exchanges hand a stream of list items (lists/readSignals) to `importList`, which
 *
 *   1. skips the lines a checkpoint says are done (an interrupted import goes on where it stopped);
 *   2. checks each signal: the reader's verdict (bad hex, length, type, label), the quality gate, a duplicate
 *      in the input or already in the bank; each rejected line is reported with its number and code;
 *   3. writes in batches: into a bank (one atomic store batch per batch; a shared bank's signals are also
 *      signed into this member's feed), or as contributions, grouped by labels, content type and note into
 *      records of up to 1,000 signals;
 *   4. after each batch, notes the last line done, and saves it in the checkpoint (data dir,
 *      imports/<key>.json) at most once a second, when the import ends, and when it stops on an error.
 *
 * `dryRun` does 1 and 2 and counts what would be written.
 */
import { existsSync, readFileSync } from 'node:fs'
import { mkdir, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { RECORD_LIMITS } from '../constants.js'
import { fail, isHashmeshError } from '../errors.js'
import type { BankStore } from '../bank/bank-store.js'
import type { BankContent } from '../bank/types.js'
import { unpackPdq, type LineCode, type ListBatch, type ListItem, type ListRejection, type ListRevocation, type ListSignal, type PackedPdq } from '../lists/index.js'
import { copyHashWords, hexToWords, wordsToHex } from '../hash/hash256.js'
import { checkAborted, type AbortOptions } from './abort.js'
import { Pacer } from '../match/steps.js'
import { BanksService } from './banks-service.js'
import { SignalKeys } from './signal-keys.js'
import type { HashmeshNode } from './node.js'

export type ImportInto = { bank: string } | { contribute: true }

export interface ListImportOptions extends AbortOptions {
  into: ImportInto
  dryRun?: boolean
  /** File identity (lists' caller makes it: path, size, mtime, format, target); no checkpoint without one. */
  checkpointKey?: string
  /** Start again from line 1, ignoring (and replacing) a checkpoint. */
  restart?: boolean
  /** Signals per write (bank) or lines per group flush (contributions). */
  batchSize?: number
  onRejected?: (rejection: ListRejection) => void
  /** Lines read so far: after each batch, and every PROGRESS_EVERY lines. */
  onProgress?: (lines: number) => void
}

export interface ListImportSummary {
  /** Last line read. */
  lines: number
  /** Signals accepted (added, or would be with dryRun). */
  accepted: number
  rejected: number
  byCode: Partial<Record<LineCode, number>>
  /** Records signed (contributions) or content items added (bank). */
  written: number
  /** Lines skipped because a checkpoint said they were done. */
  resumedAfterLine: number
  /** Signed revocations read (jsonl exports), and the bank content items they removed. */
  revocations: number
  removed: number
  dryRun: boolean
}

interface Checkpoint {
  key: string
  line: number
  complete: boolean
  updatedAt: number
  /** Contributions: this member's feed head when `line` was done. Records past it on resume were signed by a
   * batch whose checkpoint was never written (a crash between the two): their signals count as done. */
  feedSeq?: number
}

/** Progress is told at least this often (lines), between batches too. */
const PROGRESS_EVERY = 10_000
const CONTRIBUTION_BATCH = 20_000
/**
 * The checkpoint is saved at most this often while an import runs. Saving it after every batch (a write and
 * a rename per 2,000 lines) took 0.8 s of a 1 M-line import's 6.5 s, in the rename. A process killed between
 * two saves reads the lines of up to this long again: they are in the bank or the feed already, so each is
 * reported DUPLICATE and none is written twice.
 */
const CHECKPOINT_EVERY_MS = 1000

function checkpointPath(node: HashmeshNode, key: string): string {
  if (!/^[0-9a-f]{16,64}$/.test(key)) fail('BAD_REQUEST', 'checkpoint key must be 16..64 hex digits')
  return join(node.identity.dataDir, 'imports', `${key}.json`)
}

export function readCheckpoint(node: HashmeshNode, key: string): Checkpoint | undefined {
  const path = checkpointPath(node, key)
  if (!existsSync(path)) return undefined
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Checkpoint
  } catch (cause) {
    if (cause instanceof SyntaxError) return undefined // a torn write: start again, duplicates are caught
    throw cause
  }
}

async function writeCheckpoint(node: HashmeshNode, checkpoint: Checkpoint): Promise<void> {
  const path = checkpointPath(node, checkpoint.key)
  await mkdir(join(node.identity.dataDir, 'imports'), { recursive: true, mode: 0o700 })
  await writeFile(path + '.tmp', JSON.stringify(checkpoint))
  await rename(path + '.tmp', path)
}

/** PDQ lines taken from packed batches and waiting for their write: lines and words, growing. */
class PackedPending {
  count = 0
  lines = new Uint32Array(1024)
  words = new Uint32Array(8 * 1024)

  push(line: number, words: Uint32Array, base: number): void {
    if (this.count === this.lines.length) {
      const lines = new Uint32Array(this.count * 2)
      lines.set(this.lines)
      this.lines = lines
      const grown = new Uint32Array(this.count * 16)
      grown.set(this.words)
      this.words = grown
    }
    copyHashWords(words, base, this.words, this.count * 8)
    this.lines[this.count++] = line
  }

  clear(): this {
    this.count = 0
    return this
  }

  get batch(): PackedPdq {
    return { kind: 'packed-pdq', count: this.count, lines: this.lines.subarray(0, this.count), words: this.words.subarray(0, this.count * 8) }
  }
}

/**
 * `items`: list items one by one (lists/readSignals), in arrays (lists/readSignalBatches, faster), or also
 * packed PDQ lines (lists/readImportBatches, fastest: a sink that takes them writes them with no object
 * per line; for the others they are unpacked).
 */
export async function importList(node: HashmeshNode, items: AsyncIterable<ListItem | ListBatch>, options: ListImportOptions): Promise<ListImportSummary> {
  const dryRun = options.dryRun ?? false
  const key = options.checkpointKey
  const previous = key && !options.restart ? readCheckpoint(node, key) : undefined
  if (previous?.complete && !dryRun) {
    fail('BAD_REQUEST', `this file was imported already (checkpoint of ${new Date(previous.updatedAt).toISOString()}); give --restart to import it again`, { details: { status: 409 } })
  }
  const skipUntil = previous?.line ?? 0
  const summary: ListImportSummary = { lines: 0, accepted: 0, rejected: 0, byCode: {}, written: 0, resumedAfterLine: skipUntil, revocations: 0, removed: 0, dryRun }
  const sink = 'bank' in options.into ? await bankSink(node, options.into.bank) : contributionSink(node)
  if (previous && sink.resume) await sink.resume(previous)
  else if (key && !dryRun) await writeCheckpoint(node, { key, line: 0, complete: false, updatedAt: Date.now(), ...sink.mark?.() })
  /** The last batch written, as its checkpoint, until it is saved (CHECKPOINT_EVERY_MS). */
  let unsaved: Checkpoint | undefined
  let savedAt = Date.now()
  const save = async (): Promise<void> => {
    if (!unsaved) return
    const checkpoint = unsaved
    unsaved = undefined
    savedAt = Date.now()
    await writeCheckpoint(node, checkpoint)
  }
  const batchSize = options.batchSize ?? sink.batchSize
  const reject = (line: number, code: LineCode, message: string): void => {
    summary.rejected++
    summary.byCode[code] = (summary.byCode[code] ?? 0) + 1
    options.onRejected?.({ kind: 'rejected', line, code, message })
  }
  const { minQuality, contributeLowQuality } = node.config.hash
  let pending: ListSignal[] = []
  let pendingPacked = new PackedPending()
  let pendingKeys = new SignalKeys()
  let lastLine = skipUntil
  let shown = skipUntil
  // One batch is written while the next is read: `inflight` is the write under way, `inflightKeys` its signals.
  let inflight: Promise<void> | undefined
  let inflightKeys = new SignalKeys()
  let inflightPacked = new PackedPending()

  const flush = async (doneThrough: number): Promise<void> => {
    checkAborted(options.signal)
    const batch = pending
    const packed = pendingPacked
    const keys = pendingKeys
    pending = []
    await inflight // reading waits here: no line is checked while the two sets change
    checkAborted(options.signal)
    // The write before is done: its key set and packed lines take the next batch (new ones per batch were
    // ~200 KB of typed arrays each, garbage that stood in an import's RSS until a GC).
    pendingKeys = inflightKeys.clear()
    pendingPacked = inflightPacked.clear()
    inflightKeys = keys
    inflightPacked = packed
    inflight = (async () => {
      if (!dryRun && batch.length > 0) {
        const refused = await sink.write(batch, summary, options, keys)
        for (const r of refused) reject(r.line, r.code, r.message)
        summary.accepted -= refused.length
      }
      if (!dryRun && packed.count > 0) await sink.writePacked!(packed.batch, summary)
      if (key && !dryRun) {
        unsaved = { key, line: doneThrough, complete: false, updatedAt: Date.now(), ...sink.mark?.() }
        if (Date.now() - savedAt >= CHECKPOINT_EVERY_MS) await save()
      }
      options.onProgress?.(doneThrough)
    })()
    // Marked handled now: a write that fails while the next lines are still being read (a slow upload) is
    // not yet awaited, and an unhandled rejection would end the process. The next await of it still throws.
    inflight.catch(() => undefined)
  }

  /** Whether `line` starts a new line while the pending batch is full: then flush it first (through lastLine). */
  const full = (line: number): boolean => line > lastLine && line > skipUntil && pending.length + pendingPacked.count >= batchSize
  /** A line past the last one. */
  const reach = (line: number): void => {
    if (line - shown >= PROGRESS_EVERY) {
      options.onProgress?.(line)
      shown = line
    }
    lastLine = line
    summary.lines = line
  }
  const duplicate = (type: string, value: string, earlier: boolean): string => `${type} ${value.slice(0, 16)}… is already ${earlier ? 'earlier in the file' : sink.where}`

  /** One item's checks (after a full batch was flushed: full()). */
  const take = (item: ListSignal | ListRejection): void => {
    if (item.line <= skipUntil) return
    if (item.line > lastLine) reach(item.line)
    if (item.kind === 'rejected') return reject(item.line, item.code, item.message)
    if (item.type === 'pdq' && item.quality !== undefined && item.quality < minQuality && !contributeLowQuality) {
      return reject(item.line, 'LOW_QUALITY', `pdq quality ${item.quality} is below the gate (${minQuality})`)
    }
    const why = sink.unsupported(item)
    if (why) return reject(item.line, 'UNSUPPORTED', why)
    if (item.type === 'pdq' && hexToWords(item.value, scratch)) {
      if (!newPdq(item.line, scratch, 0)) return
    } else {
      const earlier = pendingKeys.has(item.type, item.value) || inflightKeys.has(item.type, item.value)
      if (earlier || sink.has(item)) return reject(item.line, 'DUPLICATE', duplicate(item.type, item.value, earlier))
      pendingKeys.add(item.type, item.value)
    }
    pending.push(item)
    summary.accepted++
  }
  /** The PDQ hash packed at words[base .. base + 8) is in no batch and not in the sink: noted as pending; else the line is rejected. */
  const newPdq = (line: number, words: Uint32Array, base: number): boolean => {
    const earlier = pendingKeys.hasPdqWords(words, base) || inflightKeys.hasPdqWords(words, base)
    if (earlier || sink.hasPdqWords(words, base)) {
      reject(line, 'DUPLICATE', duplicate('pdq', wordsToHex(words, base), earlier))
      return false
    }
    pendingKeys.addPdqWords(words, base)
    return true
  }
  const scratch = new Uint32Array(8)
  const takeItems = async (batch: ListItem[]): Promise<void> => {
    for (const item of batch) {
      if (pacer.due()) await pacer.pause()
      if (item.kind === 'revocation') await revoke(item)
      else {
        if (full(item.line)) await flush(lastLine)
        take(item)
      }
    }
  }
  /**
   * A signed revocation: every line before it is written first, then the sink removes what it holds of the
   * revoked record (a bank: the content items this or an earlier import added from it).
   */
  const revoke = async (item: ListRevocation): Promise<void> => {
    if (item.line <= skipUntil) return
    await flush(lastLine)
    await inflight
    if (item.line > lastLine) reach(item.line)
    if (!sink.revoke) return reject(item.line, 'UNSUPPORTED', `a revocation (of record ${item.target.slice(0, 16)}…) is applied to a bank; your own records are revoked with "hashmesh revoke"`)
    summary.revocations++
    if (dryRun) return
    summary.removed += await sink.revoke(item)
    // What the written batches hold is the bank's to tell now: a removed hash may come back in a later line.
    inflightKeys.clear()
  }

  /** Packed PDQ lines: the checks of take() on words (no quality, nothing unsupported in a bank). */
  const takePacked = async (batch: PackedPdq): Promise<void> => {
    const { lines, words } = batch
    for (let i = 0; i < batch.count; i++) {
      if (pacer.due()) await pacer.pause()
      const line = lines[i]!
      if (line <= skipUntil) continue
      if (full(line)) await flush(lastLine)
      if (line > lastLine) reach(line)
      if (!newPdq(line, words, i * 8)) continue
      pendingPacked.push(line, words, i * 8)
      summary.accepted++
    }
  }

  // The loop gives the event loop a turn every few ms: a reader's batches arrive as resolved promises
  // (microtasks), so on a running node an import went 100–190 ms at a time without one.
  const pacer = new Pacer()
  try {
    for await (const batch of items) {
      if (Array.isArray(batch)) await takeItems(batch)
      else if (batch.kind !== 'packed-pdq') await takeItems([batch])
      else if (sink.writePacked) await takePacked(batch)
      else await takeItems(unpackPdq(batch))
    }
    await flush(lastLine)
    await inflight
  } catch (err) {
    await inflight?.catch(() => undefined) // the batch under way is written (and checkpointed) before the error goes up
    await save().catch(() => undefined) // the error that stopped the import is the one to tell
    throw err
  }
  if (key && !dryRun) await writeCheckpoint(node, { key, line: lastLine, complete: true, updatedAt: Date.now() })
  return summary
}

interface Sink {
  /** Before reading: what a checkpoint left (contributions: records signed after it). */
  resume?(checkpoint: Checkpoint): Promise<void>
  /** Extra checkpoint fields after a write. */
  mark?(): Partial<Checkpoint>
  /** Signals per write when the caller gives none. */
  batchSize: number
  /** Where a duplicate was found, in words. */
  where: string
  has(item: ListSignal): boolean
  /** has() of a PDQ signal whose hash is packed at words[base .. base + 8). */
  hasPdqWords(words: Uint32Array, base: number): boolean
  unsupported(item: ListSignal): string | undefined
  /** Writes a batch (`keys`: its signals); answers the lines the node refused. */
  write(batch: ListSignal[], summary: ListImportSummary, options: AbortOptions, keys: SignalKeys): Promise<ListRejection[]>
  /** Present when the sink writes packed PDQ lines as they are (a local or negative bank). */
  writePacked?(batch: PackedPdq, summary: ListImportSummary): Promise<void>
  /** Present when the sink applies revocations: removes what it holds of the revoked record; answers how many items. */
  revoke?(item: ListRevocation): Promise<number>
}

async function bankSink(node: HashmeshNode, bank: string): Promise<Sink> {
  const service = new BanksService(node)
  const store: BankStore = await service.loaded
  const config = store.getBank(bank)
  if (!config) fail('NOT_FOUND', `bank '${bank}' not found (create it first: POST /c/banks or hashmesh bank create)`)
  await store.pdqIdle() // (has() reads the catalog, which a start-up build may still hold)
  const shared = config.kind === 'shared'
  const fromRecords = new RecordContent(store, bank)
  return {
    // A shared bank's batch is also cut into records of up to 1,000: a multiple of 1,000 fills them.
    batchSize: Math.max(1000, Math.round(store.preferredAddBatch / 1000) * 1000),
    where: `in bank ${bank}`,
    // an exact lookup in the bank's view (the PDQ catalog's exact index, the MD5/SHA-256 ExactIndexes): no read of the bank
    has: (item) => store.holds(bank, item.type, item.value),
    unsupported: () => undefined,
    hasPdqWords: (words, base) => store.holdsPdqWords(bank, words, base),
    // A shared bank signs each addition into the feed: its lines go as items (records name them).
    ...(shared ? {} : {
      writePacked: async (batch: PackedPdq, summary: ListImportSummary) => {
        await store.addPdqWords(bank, batch.words, batch.count)
        summary.written += batch.count
      },
    }),
    write: async (batch, summary, options) => {
      const records = shared ? await contributeGroups(node, batch.filter((s) => s.type !== 'vpdq'), options, true) : undefined
      const added: BankContent[] = await store.addContents(bank, batch.map((s) => ({
        signals: { [s.type]: s.value },
        note: s.note ?? null,
        metadata: s.labels?.length || s.quality !== undefined || s.provenance ? { json: { labels: s.labels, quality: s.quality, provenance: s.provenance, signalIndex: s.signalIndex } } : undefined,
        ...(records?.ids.get(s) ? { records: [records.ids.get(s)!] } : {}),
      })))
      fromRecords.added(added)
      summary.written += added.length
      return records?.refused ?? []
    },
    revoke: (item) => fromRecords.remove(item),
  }
}

/**
 * A bank's content by the signed record it was imported from (metadata.json.provenance and signalIndex, as
 * the import writes them), for revocations: read from the bank at the first one, then kept up to date.
 */
class RecordContent {
  private byRecord: Map<string, Array<{ id: number; member?: string; signal?: number }>> | undefined

  constructor(private readonly store: BankStore, private readonly bank: string) {}

  added(contents: BankContent[]): void {
    if (this.byRecord) for (const c of contents) this.note(c)
  }

  async remove(item: ListRevocation): Promise<number> {
    if (!this.byRecord) {
      this.byRecord = new Map()
      for (let after = 0, page: BankContent[]; (page = await this.store.listContentPage(this.bank, after, 10_000)).length > 0; after = page[page.length - 1]!.id) {
        for (const c of page) this.note(c)
      }
    }
    const entries = this.byRecord.get(item.target) ?? []
    // Only its author revokes a record (as the replica has it), and one signal when the revocation names one.
    const gone = entries.filter((e) => e.member === item.author && (item.signal === undefined || e.signal === item.signal))
    if (gone.length === 0) return 0
    const removed = await this.store.deleteContents(this.bank, gone.map((e) => e.id))
    this.byRecord.set(item.target, entries.filter((e) => !gone.includes(e)))
    return removed
  }

  private note(c: BankContent): void {
    const json = c.metadata?.json
    const provenance = json?.provenance as { record?: unknown; member?: unknown } | undefined
    if (typeof provenance?.record !== 'string') return
    const list = this.byRecord!.get(provenance.record) ?? []
    list.push({ id: c.id, member: typeof provenance.member === 'string' ? provenance.member : undefined, signal: typeof json!.signalIndex === 'number' ? json!.signalIndex : undefined })
    this.byRecord!.set(provenance.record, list)
  }
}

function contributionSink(node: HashmeshNode): Sink {
  const seen = new SignalKeys()
  const ownSeq = (): number => node.head(node.memberKey)?.seq ?? 0
  return {
    resume: async (checkpoint) => {
      if (checkpoint.feedSeq === undefined) return
      for (let seq = checkpoint.feedSeq + 1; seq <= ownSeq(); seq += 500) {
        for (const { record } of await node.feedRecords(node.memberKey, seq, 500)) {
          if (record.kind !== 'signals') continue
          for (const s of record.body.signals) {
            seen.add(s.type, s.value)
            if (s.type === 'md5') seen.add('video_md5', s.value)
          }
        }
      }
    },
    mark: () => ({ feedSeq: ownSeq() }),
    batchSize: CONTRIBUTION_BATCH,
    where: 'contributed by this import',
    has: (item) => seen.has(item.type, item.value),
    hasPdqWords: (words, base) => seen.hasPdqWords(words, base),
    unsupported: (item) => (item.type === 'vpdq' && !item.frames?.length ? 'a vpdq signal needs its frames to be contributed (hashmesh jsonl carries them)' : undefined),
    write: async (batch, summary, options, keys) => {
      const { refused, records } = await contributeGroups(node, batch, options)
      seen.addAll(keys) // (no hex parsed again)
      summary.written += records
      return refused
    },
  }
}

/**
 * Signs a batch into this member's feed: signals grouped by labels, content type and note (each line keeps its
 * labels), each group cut into records of up to 1,000. A group the node refuses (a label outside the
 * taxonomy, …) is reported line by line with the node's code.
 */
async function contributeGroups(node: HashmeshNode, batch: ListSignal[], options: AbortOptions, wantIds = false): Promise<{ refused: ListRejection[]; records: number; ids: Map<ListSignal, string> }> {
  type Group = { labels: string[]; contentType: string; note: string | null; signals: ListSignal[] }
  // Groups by label set (in any order), then content type, then note; `order` keeps them in order of first
  // line. A reader gives the lines of one label cell the same labels array, so its key is made once.
  const groups = new Map<string, Map<string, Map<string | undefined, Group>>>()
  const order: Group[] = []
  const labelKeys = new Map<string[] | undefined, { labels: string[]; key: string }>()
  for (const s of batch) {
    const contentType = s.contentType ?? (s.type === 'video_md5' || s.type === 'vpdq' ? 'video' : 'photo')
    let labelKey = labelKeys.get(s.labels)
    if (!labelKey) {
      const labels = s.labels && s.labels.length > 1 ? [...s.labels].sort() : (s.labels ?? [])
      labelKeys.set(s.labels, (labelKey = { labels, key: labels.join('\u0001') }))
    }
    let byContentType = groups.get(labelKey.key)
    if (!byContentType) groups.set(labelKey.key, (byContentType = new Map()))
    let byNote = byContentType.get(contentType)
    if (!byNote) byContentType.set(contentType, (byNote = new Map()))
    let group = byNote.get(s.note)
    if (!group) {
      byNote.set(s.note, (group = { labels: labelKey.labels, contentType, note: s.note ?? null, signals: [] }))
      order.push(group)
    }
    group.signals.push(s)
  }
  const refused: ListRejection[] = []
  const ids = new Map<ListSignal, string>()
  let records = 0
  // One contribute call per group: the node cuts it into records of up to 1,000 and appends them in one
  // batch (one durable write for the group, not one per record).
  for (const { labels, contentType, note, signals: group } of order) {
    try {
      const result = await node.contribute({
        // A list signal is given as it is (contribute reads its type, value, quality and frames), bar the type name.
        signals: group.map((s) => (s.type === 'video_md5' ? { type: 'md5', value: s.value, quality: s.quality } : s)),
        labels, contentType, ...(note !== null ? { note } : {}),
      }, options)
      records += result.records.length
      if (wantIds && result.records.length === Math.ceil(group.length / RECORD_LIMITS.maxSignalsPerRecord)) {
        group.forEach((s, i) => ids.set(s, result.records[Math.floor(i / RECORD_LIMITS.maxSignalsPerRecord)]!.id))
      }
    } catch (err) {
      if (!isHashmeshError(err) || err.code === 'STORE_CLOSED' || err.code === 'INTERNAL') throw err
      for (const s of group) refused.push({ kind: 'rejected', line: s.line, code: 'REFUSED', message: `${err.code}: ${err.message}` })
    }
  }
  return { refused, records, ids }
}

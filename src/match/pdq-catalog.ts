/**
 * The in-memory view of every PDQ hash in the replica: unique hash -> entry id in the PdqIndex, plus what
 * refers to it (a `pdq` signal, and/or frames of `vpdq` signals). Everything per entry lives in typed
 * arrays (the PdqIndex holds the hashes, an ExactIndex maps hash -> entry for de-duplication); only video
 * frames, which are few, keep small objects. Rebuilt from the store at start-up and kept current from
 * committed records; revocation is checked against the store at query time, so the view can never
 * resurrect a revoked signal.
 *
 * Local bank content (bank/bank-store.ts) refers to its PDQ hash here too: one catalog of every PDQ hash
 * the node knows, so a hash held by a bank and by federation feeds is stored once, and HMA's lookup finds
 * bank content and federation signals with one search (two indexes cost two). An entry stays while a
 * signal, a video frame or bank content refers to it; federation matching ignores bank-only entries.
 *
 * Committed `pdq` signals are written behind: buffered, then added in bulk (one index maintenance per
 * batch instead of one per hash, which dominated a 100,000-record catch-up). Every read and every other
 * change flushes the buffer first, so a search always sees every signal added before it. Without reads,
 * the buffer is flushed once adds pause for half a second, or at the latest 5 s after its first signal:
 * a flush every second during a long catch-up rebuilt the growing index again and again (1.3 s of a
 * 100,000-record catch-up).
 */
import { copyHashWords, formatHash256, parseHash256, type Hash256 } from '../hash/hash256.js'
import { ExactIndex, type ExactIndexState } from './exact-index.js'
import { PdqIndex, hashToWords, type PdqIndexState, type PdqMatch } from './pdq-index.js'
import { STEP_ELEMENTS, rampedStep, runSteps, runStepsAsync, type Steps } from './steps.js'
import type { BackgroundPriority, ThreadPriority } from '../thread-priority.js'
import { SpareBuildProcess, buildInProcess } from './pdq-build-process.js'

export interface FrameRef { video: string; ms: number; quality: number }

/** A stepped build's collection of [from, to): allocates new hashes into ids/words from n; returns the new n. */
type Collect = (ids: Uint32Array, words: Uint32Array, from: number, to: number, n: number) => number
/** Work a stepped build does first, in steps of `step` elements. */
type Prepare = (step: number) => Steps<void>

/** Buffered signals are added to the index once there are this many... */
const WRITE_BEHIND_MAX = 65_536
/** ...or when no signal has been added for this long... */
export const WRITE_BEHIND_IDLE_MS = 500
/** ...or this long after the first of them arrived (or at the next read, whichever comes first). */
export const WRITE_BEHIND_MAX_AGE_MS = 5000
/**
 * A build of at least this many packed hashes on a SharedArrayBuffer runs in a process of its own
 * (pdq-build-process.ts): the start-up builds. Smaller ones, and a list import's batches, stay here.
 */
export const PROCESS_BUILD_MIN = 100_000

export interface PdqCatalogOptions {
  /** Packed hashes from which a build runs in the build process (default PROCESS_BUILD_MIN). */
  processBuildMin?: number
  /** The build process's CPU priority (thread-priority.ts; default `idle`). */
  buildPriority?: ThreadPriority
}

/** A build's input: hashes packed 8 words each (hashToWords); bank content ids, one per hash. */
export type CatalogBuildJob =
  | { kind: 'signals'; packed: Uint32Array }
  | { kind: 'bank'; contentIds: Uint32Array; packed: Uint32Array }

/** A PdqCatalog as plain data (typed arrays, numbers, small maps), to move between threads. */
export interface PdqCatalogState {
  index: PdqIndexState
  entries: ExactIndexState
  nextId: number
  isSignal: Uint8Array
  bankFirst: Uint32Array
  bankMore: Map<number, number[]>
  entryOfBank: Uint32Array
  bankRefs: number
  frames: Map<number, FrameRef[]>
}

/** A job that runs in the build process after the one under way there, and its caller's promise. */
interface ChainedJob { job: CatalogBuildJob; resolve: () => void; reject: (err: unknown) => void }

export class PdqCatalog {
  /** Bank writers add in batches of about this many (each add is one index maintenance pass). */
  readonly preferredAddBatch = 50_000
  readonly index = new PdqIndex()
  private entries = new ExactIndex({ digestBytes: 32 })
  private nextId = 0
  /** 1 when the entry is a `pdq` signal itself (not only a video frame). */
  private isSignal: Uint8Array = new Uint8Array(1024)
  private frames = new Map<number, FrameRef[]>()
  /** Per entry: the first bank content id referring to it (0: none); more of them in bankMore. */
  private bankFirst: Uint32Array = new Uint32Array(1024)
  private bankMore = new Map<number, number[]>()
  /** Per bank content id: its entry id + 1 (0: none). */
  private entryOfBank: Uint32Array = new Uint32Array(1024)
  private bankRefs = 0
  /** One hash parsed from hex, as 8 words (no array per hash). */
  private readonly scratchWords = new Uint32Array(8)
  /** The stepped builds (federation rebuild, bank load) one after another; bank writes wait for them. */
  private builds: Promise<void> = Promise.resolve()
  private buildsInFlight = 0
  private writeBehind: string[] = []
  private flushTimer: ReturnType<typeof setTimeout> | null = null
  private firstBufferedAt = 0
  private lastBufferedAt = 0
  /** True while addSignalsAsync runs: the write-behind buffer is not flushed meanwhile. */
  private building = false
  private readonly processBuildMin: number
  private readonly spareProcess: SpareBuildProcess
  /** While a build runs in the build process: the jobs queued to run there after it (buildOrChain). */
  private chain: ChainedJob[] | undefined
  /** True while the catalog is lent to the build process (lend). */
  private lent = false

  constructor(options: PdqCatalogOptions = {}) {
    this.processBuildMin = options.processBuildMin ?? PROCESS_BUILD_MIN
    this.spareProcess = new SpareBuildProcess(options.buildPriority ?? 'idle')
  }

  /**
   * Starts the build process now when a build of `expectedHashes` will run in one (a start-up's), and keeps
   * it for every build until the returned function is called (see SpareBuildProcess.hold: it resolves once
   * the process has ended, if that call ended it).
   */
  holdBuildProcess(expectedHashes: number): () => Promise<void> {
    if (expectedHashes < this.processBuildMin) return () => Promise.resolve()
    return this.spareProcess.hold()
  }

  /** Where a build's fallback to the main thread is told (default: a process warning). */
  onBuildWarning(listener: (message: string) => void): void {
    this.spareProcess.warn = listener
  }

  /** Resolves once the build process holdBuildProcess() started (if any) has loaded its modules: the priority it got. */
  buildProcessSettled(): Promise<BackgroundPriority | undefined> {
    return this.spareProcess.settled()
  }

  get size(): number {
    this.flush()
    return this.index.size
  }

  /** Bank content items with a PDQ hash here. */
  get bankSize(): number {
    return this.bankRefs
  }

  /** Resolves when no stepped build runs (searches and bank writes must wait for one). */
  idle(): Promise<void> {
    return this.builds
  }

  /** Signals added but not yet in the index (they are before any read). */
  get buffered(): number {
    return this.writeBehind.length
  }

  /** Adds every buffered signal to the index now. */
  flush(): void {
    if (this.flushTimer !== null) {
      clearTimeout(this.flushTimer)
      this.flushTimer = null
    }
    if (this.writeBehind.length === 0) return
    if (this.building) {
      // Not into an index being built: addSignalsAsync flushes what arrived meanwhile when it is done.
      this.armFlushTimer(WRITE_BEHIND_IDLE_MS)
      return
    }
    const batch = this.writeBehind
    this.writeBehind = []
    this.addSignals(batch)
  }

  private find(hash: Hash256): number | undefined {
    return this.entries.lookup(hash)[0]
  }

  private entry(hex: string): number {
    const hash = parseHash256(hex)
    let id = this.find(hash)
    if (id === undefined) {
      id = this.allocate(hash)
      this.index.add(id, hash)
    }
    return id
  }

  private allocate(hash: Hash256): number {
    const id = this.nextId++
    if (id >= this.isSignal.length) this.growEntries(this.isSignal.length * 2)
    this.entries.addFresh(id, hash) // (ids come from nextId and are never reused)
    return id
  }

  /** find() for a hash packed as 8 words (src[base .. base + 8)): no byte array or id array per hash. */
  private findWords(src: Uint32Array, base: number): number | undefined {
    const id = this.entries.firstWords(src, base)
    return id < 0 ? undefined : id
  }

  /** allocate() for a hash packed as 8 words. */
  private allocateWords(src: Uint32Array, base: number): number {
    const id = this.nextId++
    if (id >= this.isSignal.length) this.growEntries(this.isSignal.length * 2)
    this.entries.addFreshWords(id, src, base)
    return id
  }

  /** Adds a `pdq` signal (validated hex) through the write-behind buffer. */
  addSignal(hex: string): void {
    this.writeBehind.push(hex)
    this.lastBufferedAt = performance.now()
    if (this.writeBehind.length >= WRITE_BEHIND_MAX) this.flush()
    else if (this.flushTimer === null) {
      this.firstBufferedAt = this.lastBufferedAt
      this.armFlushTimer(WRITE_BEHIND_IDLE_MS)
    }
  }

  /** One timer per buffer (not one per add): when it fires early, it re-arms for the rest of the pause. */
  private armFlushTimer(ms: number): void {
    this.flushTimer = setTimeout(() => {
      const now = performance.now()
      const idleLeft = this.lastBufferedAt + WRITE_BEHIND_IDLE_MS - now
      const ageLeft = this.firstBufferedAt + WRITE_BEHIND_MAX_AGE_MS - now
      if (idleLeft > 0 && ageLeft > 0) this.armFlushTimer(Math.min(idleLeft, ageLeft))
      else this.flush()
    }, Math.max(1, Math.ceil(ms)))
    this.flushTimer.unref()
  }

  /** Adds many `pdq` signals at once: one bulk index build instead of many inserts. */
  addSignals(hexes: readonly string[]): void {
    if (this.writeBehind.length > 0) this.flush()
    const ids = new Uint32Array(hexes.length)
    const words = new Uint32Array(hexes.length * 8)
    const n = this.collectSignals(hexes, 0, hexes.length, ids, words, 0)
    if (n > 0) this.index.addMany({ ids: ids.subarray(0, n), hashes: words.subarray(0, n * 8) })
  }

  /**
   * addSignals for the start-up rebuild: the same result, built in steps (parsing, the exact index, the
   * PdqIndex's segment build) that yield to the event loop every few ms, so the API keeps answering.
   * Nothing else may change the catalog until it resolves (buffered adds wait for it).
   */
  addSignalsAsync(hexes: readonly string[], sliceMs?: number): Promise<void> {
    const collect: Collect = (ids, words, from, to, n) => this.collectSignals(hexes, from, to, ids, words, n)
    return this.stepped(() => runStepsAsync(this.buildSteps(collect, hexes.length, STEP_ELEMENTS), sliceMs))
  }

  /**
   * addSignalsAsync for hashes already packed 8 words each (hashToWords), as the start-up rebuild collects
   * them: a million hex strings kept until the build were ~150 MB of long-lived heap, and every full GC
   * of the rebuild walked them (pauses of 100 ms and more while /status waited). From processBuildMin
   * hashes on a SharedArrayBuffer (sharedUint32Array), the build runs in the build process (see buildJob).
   */
  addSignalWordsAsync(packed: Uint32Array, sliceMs?: number): Promise<void> {
    return this.buildOrChain({ kind: 'signals', packed }, sliceMs)
  }

  /**
   * One stepped build after the other (a second waits for the first). Writes that arrive meanwhile wait
   * (signals in the write-behind buffer, frame changes in `deferred`, bank writes on idle()).
   */
  private stepped(build: () => Promise<void>): Promise<void> {
    const start = async (): Promise<void> => {
      if (this.writeBehind.length > 0) this.flush()
      this.building = true // (set before the first await: adds from here on are buffered)
      try {
        await build()
      } finally {
        this.building = false
        this.buildsInFlight--
      }
      if (this.writeBehind.length > 0) this.flush()
      const deferred = this.deferred.splice(0)
      for (const change of deferred) change()
    }
    const run = this.buildsInFlight++ === 0 ? start() : this.builds.then(start)
    this.builds = run.catch(() => undefined)
    return run
  }

  /**
   * A build of packed hashes: in the build process when it is large and its input is shared (a start-up
   * build: the main thread then neither runs it nor collects its garbage, see pdq-build-process.ts), else
   * here in steps. Both run jobSteps: the same catalog either way.
   */
  private async buildJob(job: CatalogBuildJob, sliceMs?: number): Promise<void> {
    if (!this.runsInProcess(job)) return runStepsAsync(this.jobSteps(job, STEP_ELEMENTS), sliceMs)
    const chained: ChainedJob[] = []
    this.chain = chained
    let taken = 0
    const next = (): CatalogBuildJob | undefined => {
      const more = chained[taken++]
      if (!more) this.chain = undefined // (no more: a job from now on waits for this build, as any)
      return more?.job
    }
    try {
      if (!(await buildInProcess(this, job, this.spareProcess, next))) {
        this.chain = undefined
        for (const each of [job, ...chained.map((c) => c.job)]) await runStepsAsync(this.jobSteps(each, STEP_ELEMENTS), sliceMs)
      }
    } catch (err) {
      this.chain = undefined
      for (const c of chained) c.reject(err)
      throw err
    }
    for (const c of chained) c.resolve()
  }

  /** A large build on shared input runs in the build process; others here. */
  private runsInProcess(job: CatalogBuildJob): boolean {
    const count = job.packed.length / 8
    const shared = job.packed.buffer instanceof SharedArrayBuffer && (job.kind === 'signals' || job.contentIds.buffer instanceof SharedArrayBuffer)
    return shared && count > 0 && count >= this.processBuildMin
  }

  /**
   * A build job for the build process: run by the build under way there when it is the only build in flight
   * (the start-up's bank load, queued while the federation's build runs: the catalog then goes to the process
   * and back once, not twice; 0.5 GB less to copy at 2 M hashes), else after the builds under way.
   */
  private buildOrChain(job: CatalogBuildJob, sliceMs?: number): Promise<void> {
    const chain = this.chain
    if (chain && this.buildsInFlight === 1 && this.runsInProcess(job)) {
      return new Promise((resolve, reject) => chain.push({ job, resolve, reject }))
    }
    return this.stepped(() => this.buildJob(job, sliceMs))
  }

  /** A build job as steps of `step` elements. */
  jobSteps(job: CatalogBuildJob, step: number): Steps<void> {
    const { packed } = job
    if (job.kind === 'signals') {
      const collect: Collect = (ids, words, from, to, n) => {
        for (let i = from; i < to; i++) n = this.collectSignal(packed, i * 8, ids, words, n)
        return n
      }
      return this.buildSteps(collect, packed.length / 8, step)
    }
    const { contentIds } = job
    const collect: Collect = (ids, words, from, to, n) => {
      for (let i = from; i < to; i++) n = this.collectBankItem(contentIds[i]!, packed, i * 8, ids, words, n)
      return n
    }
    return this.buildSteps(collect, contentIds.length, step, (s) => this.reserveBankIdsSteps(contentIds, s))
  }

  /** Room for `count` hashes, `collect` over [0, count) in ramped steps, then the index's bulk add of the new ones. */
  private *buildSteps(collect: Collect, count: number, step: number, prepare?: Prepare): Steps<void> {
    if (prepare) yield* prepare(step)
    // Room for every hash up front, grown in steps: no table resize of a million entries in one go.
    yield* this.entries.reserveSteps(this.entries.size + count, step)
    if (this.isSignal.length < this.nextId + count) yield* this.growEntriesSteps(this.nextId + count, step)
    const ids = new Uint32Array(count)
    const words = new Uint32Array(count * 8)
    let n = 0
    for (let from = 0, k = 0; from < count; k++) {
      const to = Math.min(count, from + rampedStep(k, step))
      n = collect(ids, words, from, to, n)
      from = to
      yield
    }
    if (n > 0) yield* this.index.addManySteps({ ids: ids.subarray(0, n), hashes: words.subarray(0, n * 8) }, step)
  }

  // ---- a build in the build process (pdq-build-process.ts) ----

  /**
   * Hands the catalog over as plain data for a build in the build process, until restore() gives it back.
   * Meanwhile nothing may read it: searches throw (callers wait for idle()), and so do bankContentWith*;
   * writes wait as during any stepped build. The catalog keeps no reference to what it handed over.
   */
  lend(): PdqCatalogState {
    if (this.lent) throw new Error('the PDQ catalog is lent already')
    const state: PdqCatalogState = { ...this.toState(), index: this.index.lend() }
    this.lent = true
    this.entries = new ExactIndex({ digestBytes: 32 })
    this.isSignal = new Uint8Array(0)
    this.bankFirst = new Uint32Array(0)
    this.entryOfBank = new Uint32Array(0)
    this.bankMore = new Map()
    this.frames = new Map()
    return state
  }

  /** Takes back what lend() handed over, as the build process built it (or unchanged, when it could not). */
  restore(state: PdqCatalogState): void {
    if (!this.lent) throw new Error('restore() without lend()')
    this.index.restore(state.index)
    this.adopt(state)
    this.lent = false
  }

  /** The catalog as plain data; it still owns the arrays (see lend). */
  toState(): PdqCatalogState {
    return {
      index: this.index.toState(), entries: this.entries.toState(), nextId: this.nextId, isSignal: this.isSignal, bankFirst: this.bankFirst,
      bankMore: this.bankMore, entryOfBank: this.entryOfBank, bankRefs: this.bankRefs, frames: this.frames,
    }
  }

  /** A catalog made of a lent state (in the build process); it builds every job here (no build process of its own). */
  static fromState(state: PdqCatalogState): PdqCatalog {
    const catalog = new PdqCatalog({ processBuildMin: Infinity })
    catalog.index.adopt(state.index)
    catalog.adopt(state)
    return catalog
  }

  private adopt(state: PdqCatalogState): void {
    if (state.isSignal.length !== state.bankFirst.length || state.nextId > state.isSignal.length) throw new RangeError('PdqCatalog state: its columns do not match')
    this.entries = ExactIndex.fromState(state.entries)
    this.nextId = state.nextId
    this.isSignal = state.isSignal
    this.bankFirst = state.bankFirst
    this.bankMore = state.bankMore
    this.entryOfBank = state.entryOfBank
    this.bankRefs = state.bankRefs
    this.frames = state.frames
  }

  /** growEntries, copying in steps of `step` entries: at a million entries one copy blocked the loop for ms. */
  private *growEntriesSteps(size: number, step: number): Steps<void> {
    const signal = new Uint8Array(size)
    const bank = new Uint32Array(size)
    const used = this.nextId
    for (let from = 0; from < used; from += step * 16) {
      const to = Math.min(used, from + step * 16)
      signal.set(this.isSignal.subarray(from, to), from)
      bank.set(this.bankFirst.subarray(from, to), from)
      yield
    }
    if (this.nextId !== used) throw new Error('PdqCatalog changed while it was growing')
    this.isSignal = signal
    this.bankFirst = bank
  }

  private growEntries(size: number): void {
    const signal = new Uint8Array(size)
    signal.set(this.isSignal)
    this.isSignal = signal
    const bank = new Uint32Array(size)
    bank.set(this.bankFirst)
    this.bankFirst = bank
  }

  // ---- bank content ----

  /**
   * Bank content's PDQ hashes (validated hex), at start-up: a stepped build like addSignalsAsync, after
   * any build under way. contentIds[i] carries hexes[i].
   */
  addBankContentAsync(contentIds: Uint32Array, hexes: readonly string[], sliceMs?: number): Promise<void> {
    const collect: Collect = (ids, words, from, to, n) => {
      for (let i = from; i < to; i++) n = this.collectBankItem(contentIds[i]!, hashToWords(parseHash256(hexes[i]!), this.scratchWords), 0, ids, words, n)
      return n
    }
    const prepare: Prepare = (step) => this.reserveBankIdsSteps(contentIds, step)
    return this.stepped(() => runStepsAsync(this.buildSteps(collect, hexes.length, STEP_ELEMENTS, prepare), sliceMs))
  }

  /** addBankContentAsync for hashes packed 8 words each (hashToWords), as the bank store reads them at open (see addSignalWordsAsync). */
  addBankContentWordsAsync(contentIds: Uint32Array, packed: Uint32Array, sliceMs?: number): Promise<void> {
    return this.buildOrChain({ kind: 'bank', contentIds, packed }, sliceMs)
  }

  /** Bank content added now (one bulk index add for the batch); the caller waits for idle() first. */
  addBankContent(contentIds: Uint32Array, hexes: readonly string[]): void {
    this.addBank(contentIds, (i) => {
      hashToWords(parseHash256(hexes[i]!), this.scratchWords)
      return 0
    }, this.scratchWords)
  }

  /** addBankContent for hashes packed 8 words each (hashToWords). */
  addBankContentWords(contentIds: Uint32Array, packed: Uint32Array): void {
    this.addBank(contentIds, (i) => i * 8, packed)
  }

  /** baseOf(i): where item i's hash is in `src` (8 words), once baseOf has put it there. */
  private addBank(contentIds: Uint32Array, baseOf: (i: number) => number, src: Uint32Array): void {
    this.flush()
    this.reserveBankIds(contentIds)
    const count = contentIds.length
    if (this.isSignal.length < this.nextId + count) this.growEntries(Math.max(this.isSignal.length * 2, this.nextId + count))
    const ids = new Uint32Array(count)
    const words = new Uint32Array(count * 8)
    let n = 0
    for (let i = 0; i < count; i++) n = this.collectBankItem(contentIds[i]!, src, baseOf(i), ids, words, n)
    if (n > 0) this.index.addMany({ ids: ids.subarray(0, n), hashes: words.subarray(0, n * 8) })
  }

  /** The content no longer refers to its hash; the hash leaves when nothing else does. The caller waits for idle() first. */
  removeBankContent(contentId: number): void {
    this.flush()
    const entry = (this.entryOfBank[contentId] ?? 0) - 1
    if (entry < 0) return
    this.entryOfBank[contentId] = 0
    this.bankRefs--
    const more = this.bankMore.get(entry)
    if (this.bankFirst[entry] === contentId) {
      this.bankFirst[entry] = more?.shift() ?? 0
    } else if (more) {
      more.splice(more.indexOf(contentId), 1)
    }
    if (more?.length === 0) this.bankMore.delete(entry)
    if (!this.referenced(entry)) this.drop(entry)
  }

  /** Bank content ids whose hash is exactly `hash`. */
  bankContentWith(hash: Hash256): number[] {
    this.assertHere()
    const entry = this.find(hash)
    return entry === undefined ? [] : this.bankContentOf(entry)
  }

  /** bankContentWith for a hash packed as 8 words (packed[base .. base + 8)). */
  bankContentWithWords(packed: Uint32Array, base: number): number[] {
    this.assertHere()
    const entry = this.entries.lookupWords(packed, base)[0]
    return entry === undefined ? [] : this.bankContentOf(entry)
  }

  /** Bank content within `threshold` of `hash`: content id and distance, nearest first. */
  searchBanks(hash: Hash256, threshold: number): Array<{ contentId: number; distance: number }> {
    this.flush()
    const out: Array<{ contentId: number; distance: number }> = []
    for (const m of this.index.search(hash, threshold)) for (const contentId of this.bankContentOf(m.entryId)) out.push({ contentId, distance: m.distance })
    return out
  }

  private assertHere(): void {
    if (this.lent) throw new Error('the PDQ catalog is being built in its build process: wait for idle()')
  }

  private bankContentOf(entry: number): number[] {
    const first = this.bankFirst[entry] ?? 0
    if (first === 0) return []
    const more = this.bankMore.get(entry)
    return more ? [first, ...more] : [first]
  }

  private reserveBankIds(contentIds: Uint32Array): void {
    runSteps(this.reserveBankIdsSteps(contentIds, Infinity))
  }

  /**
   * Room in entryOfBank for every id of contentIds, in steps of `step` ids: at a million bank items the
   * one-piece scan and copy blocked the event loop for 20-40 ms of a start-up.
   */
  private *reserveBankIdsSteps(contentIds: Uint32Array, step: number): Steps<void> {
    let max = 0
    for (let from = 0; from < contentIds.length; from += step * 16) {
      max = Math.max(max, maxOf(contentIds, from, Math.min(contentIds.length, from + step * 16)))
      yield
    }
    if (max < this.entryOfBank.length) return
    const old = this.entryOfBank
    const grown = new Uint32Array(Math.max(max + 1, old.length * 2))
    for (let from = 0; from < old.length; from += step * 16) {
      grown.set(old.subarray(from, Math.min(old.length, from + step * 16)), from)
      yield
    }
    if (this.entryOfBank !== old) throw new Error('PdqCatalog changed while it was growing')
    this.entryOfBank = grown
  }

  /** Like collectSignal, for bank content: refers contentId to the entry of the hash at src[base .. base + 8). */
  private collectBankItem(contentId: number, src: Uint32Array, base: number, ids: Uint32Array, words: Uint32Array, n: number): number {
    if (contentId === 0) throw new RangeError('bank content ids start at 1')
    if (this.entryOfBank[contentId] !== 0) this.removeBankContent(contentId) // re-added: its hash may differ
    let entry = this.findWords(src, base)
    if (entry === undefined) {
      entry = this.allocateWords(src, base)
      ids[n] = entry
      copyHashWords(src, base, words, n * 8)
      n++
    }
    this.entryOfBank[contentId] = entry + 1
    this.bankRefs++
    if (this.bankFirst[entry] === 0) this.bankFirst[entry] = contentId
    else {
      const more = this.bankMore.get(entry)
      if (more) more.push(contentId)
      else this.bankMore.set(entry, [contentId])
    }
    return n
  }

  /** A signal, a video frame or bank content still refers to the entry. */
  private referenced(entry: number): boolean {
    return this.isSignal[entry] === 1 || this.frames.has(entry) || this.bankFirst[entry] !== 0
  }

  /** Parses hexes[from, to): marks known hashes as signals, allocates new ones into ids/words from n; returns the new n. */
  private collectSignals(hexes: readonly string[], from: number, to: number, ids: Uint32Array, words: Uint32Array, n: number): number {
    for (let i = from; i < to; i++) n = this.collectSignal(hashToWords(parseHash256(hexes[i]!), this.scratchWords), 0, ids, words, n)
    return n
  }

  /** One signal's hash at src[base .. base + 8): marks a known hash as a signal, or allocates it into ids/words at n; returns the new n. */
  private collectSignal(src: Uint32Array, base: number, ids: Uint32Array, words: Uint32Array, n: number): number {
    const known = this.findWords(src, base)
    if (known !== undefined) {
      this.isSignal[known] = 1
      return n
    }
    const id = this.allocateWords(src, base)
    this.isSignal[id] = 1
    ids[n] = id
    copyHashWords(src, base, words, n * 8)
    return n + 1
  }

  /**
   * Frame adds and removals that arrive during a stepped build (a bank load runs beside the matcher's
   * rebuild, and commits go on meanwhile) wait here and are applied, in order, when it ends: changing the
   * exact index or the PDQ index under a build threw, and failed the start or the banks' load.
   */
  private readonly deferred: Array<() => void> = []

  private deferIfBuilding(change: () => void): boolean {
    if (!this.building) return false
    this.deferred.push(change)
    return true
  }

  addFrame(hex: string, ref: FrameRef): void {
    if (this.deferIfBuilding(() => this.addFrame(hex, ref))) return
    this.flush()
    const id = this.entry(hex)
    const refs = this.frames.get(id) ?? []
    if (!refs.some((r) => r.video === ref.video && r.ms === ref.ms)) refs.push(ref)
    this.frames.set(id, refs)
  }

  /** Drops a hash no longer carried by any live signal. */
  removeSignal(hex: string): void {
    if (this.deferIfBuilding(() => this.removeSignal(hex))) return
    this.flush()
    const id = this.find(parseHash256(hex))
    if (id === undefined) return
    this.isSignal[id] = 0
    if (!this.referenced(id)) this.drop(id)
  }

  removeVideo(video: string, frameHexes: string[]): void {
    if (this.deferIfBuilding(() => this.removeVideo(video, frameHexes))) return
    this.flush()
    for (const hex of frameHexes) {
      const id = this.find(parseHash256(hex))
      if (id === undefined) continue
      const refs = (this.frames.get(id) ?? []).filter((r) => r.video !== video)
      if (refs.length > 0) this.frames.set(id, refs)
      else {
        this.frames.delete(id)
        if (!this.referenced(id)) this.drop(id)
      }
    }
  }

  private drop(id: number): void {
    this.index.remove(id)
    this.entries.remove(id)
  }

  /** Every entry within `threshold`: its hash, whether a signal carries it, its video frames and bank content ids. */
  search(hash: Uint8Array, threshold: number): Array<PdqMatch & { hex: string; isSignal: boolean; frames: FrameRef[]; bank: number[] }> {
    this.flush()
    return this.index.search(hash, threshold).map((m) => ({
      ...m,
      hex: formatHash256(this.index.hashOf(m.entryId)!),
      isSignal: this.isSignal[m.entryId] === 1,
      frames: this.frames.get(m.entryId) ?? [],
      bank: this.bankContentOf(m.entryId),
    }))
  }

  memoryBytes(): number {
    return this.index.memoryBytes() + this.entries.memoryBytes() + this.isSignal.byteLength + this.bankFirst.byteLength + this.entryOfBank.byteLength
  }
}

function maxOf(values: Uint32Array, from: number, to: number): number {
  let max = 0
  for (let i = from; i < to; i++) if (values[i]! > max) max = values[i]!
  return max
}

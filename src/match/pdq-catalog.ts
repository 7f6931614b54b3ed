/**
 * The in-memory view of every PDQ hash in the replica: unique hash -> entry id in the PdqIndex, plus what
 * refers to it (a `pdq` signal, and/or frames of `vpdq` signals). Everything per entry lives in typed
 * arrays (the PdqIndex holds the hashes, an ExactIndex maps hash -> entry for de-duplication); only video
 * frames, which are few, keep small objects. Rebuilt from the store at start-up and kept current from
 * committed records; revocation is checked against the store at query time, so the view can never
 * resurrect a revoked signal.
 *
 * Committed `pdq` signals are written behind: buffered, then added in bulk (one index maintenance per
 * batch instead of one per hash, which dominated a 100,000-record catch-up). Every read and every other
 * change flushes the buffer first, so a search always sees every signal added before it. Without reads,
 * the buffer is flushed once adds pause for half a second, or at the latest 5 s after its first signal:
 * a flush every second during a long catch-up rebuilt the growing index again and again (1.3 s of a
 * 100,000-record catch-up).
 */
import { formatHash256, parseHash256, type Hash256 } from '../hash/hash256.js'
import { ExactIndex } from './exact-index.js'
import { PdqIndex, hashToWords, type PdqMatch } from './pdq-index.js'
import { STEP_ELEMENTS, rampedStep, runStepsAsync, type Steps } from './steps.js'

export interface FrameRef { video: string; ms: number; quality: number }

/** Buffered signals are added to the index once there are this many... */
const WRITE_BEHIND_MAX = 65_536
/** ...or when no signal has been added for this long... */
export const WRITE_BEHIND_IDLE_MS = 500
/** ...or this long after the first of them arrived (or at the next read, whichever comes first). */
export const WRITE_BEHIND_MAX_AGE_MS = 5000

export class PdqCatalog {
  readonly index = new PdqIndex()
  private readonly entries = new ExactIndex({ digestBytes: 32 })
  private nextId = 0
  /** 1 when the entry is a `pdq` signal itself (not only a video frame). */
  private isSignal = new Uint8Array(1024)
  private readonly frames = new Map<number, FrameRef[]>()
  private writeBehind: string[] = []
  private flushTimer: ReturnType<typeof setTimeout> | null = null
  private firstBufferedAt = 0
  private lastBufferedAt = 0
  /** True while addSignalsAsync runs: the write-behind buffer is not flushed meanwhile. */
  private building = false

  get size(): number {
    this.flush()
    return this.index.size
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
    if (id >= this.isSignal.length) {
      const grown = new Uint8Array(this.isSignal.length * 2)
      grown.set(this.isSignal)
      this.isSignal = grown
    }
    this.entries.add(id, hash)
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
  async addSignalsAsync(hexes: readonly string[], sliceMs?: number): Promise<void> {
    if (this.building) throw new Error('the PDQ catalog is already being built')
    if (this.writeBehind.length > 0) this.flush()
    this.building = true
    try {
      await runStepsAsync(this.addSignalsSteps(hexes, STEP_ELEMENTS), sliceMs)
    } finally {
      this.building = false
    }
    if (this.writeBehind.length > 0) this.flush()
  }

  private *addSignalsSteps(hexes: readonly string[], step: number): Steps<void> {
    // Room for every hash up front, grown in steps: no table resize of a million entries in one go.
    yield* this.entries.reserveSteps(this.entries.size + hexes.length, step)
    if (this.isSignal.length < this.nextId + hexes.length) {
      const grown = new Uint8Array(this.nextId + hexes.length)
      grown.set(this.isSignal)
      this.isSignal = grown
    }
    const ids = new Uint32Array(hexes.length)
    const words = new Uint32Array(hexes.length * 8)
    let n = 0
    for (let from = 0, k = 0; from < hexes.length; k++) {
      const to = Math.min(hexes.length, from + rampedStep(k, step))
      n = this.collectSignals(hexes, from, to, ids, words, n)
      from = to
      yield
    }
    if (n > 0) yield* this.index.addManySteps({ ids: ids.subarray(0, n), hashes: words.subarray(0, n * 8) }, step)
  }

  /** Parses hexes[from, to): marks known hashes as signals, allocates new ones into ids/words from n; returns the new n. */
  private collectSignals(hexes: readonly string[], from: number, to: number, ids: Uint32Array, words: Uint32Array, n: number): number {
    for (let i = from; i < to; i++) {
      const hash = parseHash256(hexes[i]!)
      const known = this.find(hash)
      if (known !== undefined) {
        this.isSignal[known] = 1
        continue
      }
      const id = this.allocate(hash)
      this.isSignal[id] = 1
      ids[n] = id
      hashToWords(hash, words, n * 8)
      n++
    }
    return n
  }

  addFrame(hex: string, ref: FrameRef): void {
    this.flush()
    const id = this.entry(hex)
    const refs = this.frames.get(id) ?? []
    if (!refs.some((r) => r.video === ref.video && r.ms === ref.ms)) refs.push(ref)
    this.frames.set(id, refs)
  }

  /** Drops a hash no longer carried by any live signal. */
  removeSignal(hex: string): void {
    this.flush()
    const id = this.find(parseHash256(hex))
    if (id === undefined) return
    this.isSignal[id] = 0
    if (!this.frames.has(id)) this.drop(id)
  }

  removeVideo(video: string, frameHexes: string[]): void {
    this.flush()
    for (const hex of frameHexes) {
      const id = this.find(parseHash256(hex))
      if (id === undefined) continue
      const refs = (this.frames.get(id) ?? []).filter((r) => r.video !== video)
      if (refs.length > 0) this.frames.set(id, refs)
      else {
        this.frames.delete(id)
        if (!this.isSignal[id]) this.drop(id)
      }
    }
  }

  private drop(id: number): void {
    this.index.remove(id)
    this.entries.remove(id)
  }

  search(hash: Uint8Array, threshold: number): Array<PdqMatch & { hex: string; isSignal: boolean; frames: FrameRef[] }> {
    this.flush()
    return this.index.search(hash, threshold).map((m) => ({
      ...m,
      hex: formatHash256(this.index.hashOf(m.entryId)!),
      isSignal: this.isSignal[m.entryId] === 1,
      frames: this.frames.get(m.entryId) ?? [],
    }))
  }

  memoryBytes(): number {
    return this.index.memoryBytes() + this.entries.memoryBytes() + this.isSignal.byteLength
  }
}

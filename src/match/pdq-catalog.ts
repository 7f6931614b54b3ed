/**
 * The in-memory view of every PDQ hash in the replica: unique hash -> entry id in the PdqIndex, plus what
 * refers to it (a `pdq` signal, and/or frames of `vpdq` signals). Rebuilt from the store at start-up and
 * kept current from committed records; revocation is checked against the store at query time, so the view
 * can never resurrect a revoked signal.
 */
import { parseHash256 } from '../hash/hash256.js'
import { PdqIndex, hashToWords, type PdqMatch } from './pdq-index.js'

export interface FrameRef { video: string; ms: number; quality: number }

export class PdqCatalog {
  readonly index = new PdqIndex()
  private readonly entryOf = new Map<string, number>()
  private readonly hexOf: string[] = []
  /** Entries that are `pdq` signals themselves (not only video frames). */
  private readonly isSignal: boolean[] = []
  private readonly frames = new Map<number, FrameRef[]>()

  get size(): number {
    return this.index.size
  }

  private entry(hex: string): number {
    let id = this.entryOf.get(hex)
    if (id === undefined) {
      id = this.hexOf.length
      this.hexOf.push(hex)
      this.entryOf.set(hex, id)
      this.index.add(id, parseHash256(hex))
    }
    return id
  }

  addSignal(hex: string): void {
    this.isSignal[this.entry(hex)] = true
  }

  /** Adds many `pdq` signals at once (start-up rebuild): one bulk index build instead of many inserts. */
  addSignals(hexes: readonly string[]): void {
    const ids = new Uint32Array(hexes.length)
    const words = new Uint32Array(hexes.length * 8)
    let n = 0
    for (const hex of hexes) {
      const known = this.entryOf.get(hex)
      if (known !== undefined) {
        this.isSignal[known] = true
        continue
      }
      const id = this.hexOf.length
      this.hexOf.push(hex)
      this.entryOf.set(hex, id)
      this.isSignal[id] = true
      ids[n] = id
      hashToWords(parseHash256(hex), words, n * 8)
      n++
    }
    if (n > 0) this.index.addMany({ ids: ids.subarray(0, n), hashes: words.subarray(0, n * 8) })
  }

  addFrame(hex: string, ref: FrameRef): void {
    const id = this.entry(hex)
    const refs = this.frames.get(id) ?? []
    if (!refs.some((r) => r.video === ref.video && r.ms === ref.ms)) refs.push(ref)
    this.frames.set(id, refs)
  }

  /** Drops a hash no longer carried by any live signal. */
  removeSignal(hex: string): void {
    const id = this.entryOf.get(hex)
    if (id === undefined) return
    this.isSignal[id] = false
    if (!this.frames.has(id)) this.drop(hex, id)
  }

  removeVideo(video: string, frameHexes: string[]): void {
    for (const hex of frameHexes) {
      const id = this.entryOf.get(hex)
      if (id === undefined) continue
      const refs = (this.frames.get(id) ?? []).filter((r) => r.video !== video)
      if (refs.length > 0) this.frames.set(id, refs)
      else {
        this.frames.delete(id)
        if (!this.isSignal[id]) this.drop(hex, id)
      }
    }
  }

  private drop(hex: string, id: number): void {
    this.index.remove(id)
    this.entryOf.delete(hex)
  }

  search(hash: Uint8Array, threshold: number): Array<PdqMatch & { hex: string; isSignal: boolean; frames: FrameRef[] }> {
    return this.index.search(hash, threshold).map((m) => ({
      ...m,
      hex: this.hexOf[m.entryId]!,
      isSignal: this.isSignal[m.entryId] === true,
      frames: this.frames.get(m.entryId) ?? [],
    }))
  }

  memoryBytes(): number {
    return this.index.memoryBytes()
  }
}

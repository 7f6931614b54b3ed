/**
 * PackedPdq batches (types.ts): how readers make them (BlockBatches), and back to items for the consumers
 * that need them as such (a sink that signs records: contributions, a shared bank; tests).
 */
import { hexWordsAt, wordsToHex } from '../hash/hash256.js'
import type { ListBatch, ListItem, ListSignal, PackedPdq } from './types.js'

/** The items a packed batch stands for. */
export function unpackPdq(batch: PackedPdq): ListSignal[] {
  const out: ListSignal[] = new Array(batch.count)
  for (let i = 0; i < batch.count; i++) out[i] = { kind: 'signal', line: batch.lines[i]!, type: 'pdq', value: wordsToHex(batch.words, i * 8) }
  return out
}

const EMPTY = new Uint32Array(0)

/**
 * What a reader yields for one block of lines: the items it makes (push) and the lines it packs (pack), as
 * batches in line order; each run of packed lines is a view into two arrays that the next block reuses (a
 * pair per block was ~36 MB of dead array buffers per million lines, waiting for a GC in the import's RSS).
 */
export class BlockBatches {
  private lines = EMPTY
  private words = EMPTY
  private room = 0
  private used = 0
  private runStart = 0
  private items: ListItem[] = []
  private readonly batches: ListBatch[] = []

  /** A new block of `rows` lines: the previous block's batches are no longer read (their arrays are reused). */
  startBlock(rows: number): void {
    this.room = rows
    this.used = this.runStart = 0
  }

  push(item: ListItem): void {
    this.closePacked()
    this.items.push(item)
  }

  /** Packs `line` when text[at .. at + 64) is 64 hex digits: true; false leaves nothing behind. */
  pack(line: number, text: string, at: number): boolean {
    if (this.lines.length < this.room) {
      this.lines = new Uint32Array(this.room)
      this.words = new Uint32Array(this.room * 8)
    }
    if (this.used === this.room || !hexWordsAt(text, at, this.words, this.used * 8)) return false
    if (this.used === this.runStart) this.closeItems()
    this.lines[this.used++] = line
    return true
  }

  /** The batches so far, in line order. */
  take(): ListBatch[] {
    this.closePacked()
    this.closeItems()
    return this.batches.splice(0)
  }

  private closeItems(): void {
    if (this.items.length > 0) this.batches.push(this.items)
    this.items = []
  }

  private closePacked(): void {
    const { used, runStart } = this
    if (used > runStart) this.batches.push({ kind: 'packed-pdq', count: used - runStart, lines: this.lines.subarray(runStart, used), words: this.words.subarray(runStart * 8, used * 8) })
    this.runStart = used
  }
}

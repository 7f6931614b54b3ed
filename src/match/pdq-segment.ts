/**
 * One immutable multi-index-hashing segment over a contiguous range of slots of a PdqIndex.
 *
 * The 256 bits are cut into m chunks (widths b_i, about 256/m each). Each chunk has a CSR table:
 * `offsets` (2^b_i + 1 bucket starts) and `postings` (slot numbers grouped by chunk value).
 *
 * Exactness comes from the generalised pigeonhole principle: if the chunk distances d_i sum to
 * d <= t and each chunk is probed to radius r_i with sum(r_i + 1) >= t + 1, then some chunk has
 * d_i <= r_i, so probing every chunk value within r_i of the query's finds every match. Radii are
 * chosen per threshold (a chunk may get r_i = -1, i.e. is skipped), greedily by expected cost.
 * A match found through several chunks is reported only by the first chunk whose ball contains it,
 * so no per-query "seen" set is needed and non-matching candidates touch nothing but their hash.
 */
import { ballSize, xorMasksWithinRadius } from './bit-neighbours.js'

export interface PdqMatch {
  entryId: number
  distance: number
}

/** The shared slot storage of the owning index (re-read per call: the arrays grow). */
export interface SlotStorage {
  hashWords: Uint32Array // 8 words per slot
  slotIds: Uint32Array // entry id per slot
  removed: Uint8Array // 1 = tombstone
}

export const WORDS_PER_HASH = 8
const MAX_CHUNK_BITS = 22
const MIN_CHUNK_BITS = 8
/** Segments smaller than this are cheaper to scan than to index. */
export const SCAN_BELOW_ENTRIES = 2048
/**
 * Bucket-offset tables may use this many bytes per entry, up to a cap. Measured at 1 M entries:
 * 12 chunks of 21-22 bits (128 MB of offsets) answer ~1.7x faster than 15 chunks of 17 bits (8 MB),
 * because probes into mostly-empty buckets are cheaper than verifying candidates.
 */
const OFFSETS_BYTES_PER_ENTRY = 160
const MAX_OFFSETS_BYTES = 160 * 2 ** 20
// Relative costs (measured, roughly): a bucket probe and a candidate check are each about one
// random memory access; a sequential scan step is a quarter of that.
const PROBE_COST = 1
const CANDIDATE_COST = 1
const SCAN_COST = 0.25
/** The threshold the layout is tuned for (the PDQ default). */
const LAYOUT_THRESHOLD = 31

export interface ChunkLayout {
  bitOffsets: number[]
  widths: number[]
}

interface SearchPlan {
  radii: Int8Array | null // null: scan the segment instead
}

export class PdqSegment {
  private readonly plans: (SearchPlan | undefined)[] = []

  private constructor(
    readonly lo: number,
    readonly hi: number,
    readonly entries: number,
    private readonly layout: ChunkLayout | null,
    private readonly offsets: Uint32Array[],
    private readonly postings: Uint32Array[],
  ) {}

  /** Indexes the live slots in [lo, hi). */
  static build(storage: SlotStorage, lo: number, hi: number): PdqSegment {
    const { hashWords, removed } = storage
    const liveSlots = new Uint32Array(hi - lo)
    let n = 0
    for (let slot = lo; slot < hi; slot++) if (removed[slot] === 0) liveSlots[n++] = slot
    const layout = chooseLayout(n)
    if (layout === null) return new PdqSegment(lo, hi, n, null, [], [])
    const offsets: Uint32Array[] = []
    const postings: Uint32Array[] = []
    const values = new Uint32Array(n)
    for (let c = 0; c < layout.widths.length; c++) {
      const width = layout.widths[c]!
      const bitOffset = layout.bitOffsets[c]!
      const buckets = 1 << width
      const off = new Uint32Array(buckets + 1)
      for (let k = 0; k < n; k++) {
        const v = chunkValue(hashWords, liveSlots[k]! * WORDS_PER_HASH, bitOffset, width)
        values[k] = v
        off[v + 1]!++
      }
      for (let v = 0; v < buckets; v++) off[v + 1]! += off[v]!
      const post = new Uint32Array(n)
      for (let k = 0; k < n; k++) post[off[values[k]!]!++] = liveSlots[k]!
      // The fill advanced each start to its bucket's end; shift back so off[v] is the start again.
      for (let v = buckets; v > 0; v--) off[v] = off[v - 1]!
      off[0] = 0
      offsets.push(off)
      postings.push(post)
    }
    return new PdqSegment(lo, hi, n, layout, offsets, postings)
  }

  memoryBytes(): number {
    let bytes = 0
    for (const a of this.offsets) bytes += a.byteLength
    for (const a of this.postings) bytes += a.byteLength
    return bytes
  }

  search(storage: SlotStorage, query: Uint32Array, threshold: number, out: PdqMatch[]): void {
    const plan = this.planFor(threshold)
    const layout = this.layout
    if (layout === null || plan.radii === null) {
      scanSlots(storage, this.lo, this.hi, query, threshold, out)
      return
    }
    const radii = plan.radii
    for (let c = 0; c < radii.length; c++) {
      if (radii[c]! < 0) continue
      const width = layout.widths[c]!
      const masks = xorMasksWithinRadius(width, radii[c]!)
      const queryValue = chunkValue(query, 0, layout.bitOffsets[c]!, width)
      const off = this.offsets[c]!
      const post = this.postings[c]!
      // Read all bucket bounds first: independent loads the CPU can overlap, unlike the nested loop.
      const bounds = scratchBounds(masks.length)
      for (let k = 0; k < masks.length; k++) {
        const v = queryValue ^ masks[k]!
        bounds[2 * k] = off[v]!
        bounds[2 * k + 1] = off[v + 1]!
      }
      const batch = candidateBatch
      let queued = 0
      for (let k = 0; k < masks.length; k++) {
        const end = bounds[2 * k + 1]!
        for (let p = bounds[2 * k]!; p < end; p++) {
          batch[queued++] = post[p]!
          if (queued === CANDIDATE_BATCH) {
            this.verifyBatch(storage, queued, query, threshold, c, radii, out)
            queued = 0
          }
        }
      }
      if (queued > 0) this.verifyBatch(storage, queued, query, threshold, c, radii, out)
    }
  }

  /**
   * Checks the queued candidate slots. Touching one word of each first brings all their cache lines
   * in parallel (a tight loop of independent loads); the popcount loop then runs from cache. On
   * large indexes this is ~3x faster than verifying each candidate as it is found.
   */
  private verifyBatch(storage: SlotStorage, count: number, query: Uint32Array, threshold: number, chunk: number, radii: Int8Array, out: PdqMatch[]): void {
    const { hashWords: h, removed, slotIds } = storage
    const batch = candidateBatch
    let touched = 0
    for (let i = 0; i < count; i++) touched ^= h[batch[i]! * WORDS_PER_HASH]!
    const q0 = query[0]!, q1 = query[1]!, q2 = query[2]!, q3 = query[3]!
    const q4 = query[4]!, q5 = query[5]!, q6 = query[6]!, q7 = query[7]!
    for (let i = 0; i < count; i++) {
      const slot = batch[i]!
      const b = slot * WORDS_PER_HASH
      const distance =
        popcount(h[b]! ^ q0) + popcount(h[b + 1]! ^ q1) + popcount(h[b + 2]! ^ q2) + popcount(h[b + 3]! ^ q3) +
        popcount(h[b + 4]! ^ q4) + popcount(h[b + 5]! ^ q5) + popcount(h[b + 6]! ^ q6) + popcount(h[b + 7]! ^ q7)
      if (distance > threshold || removed[slot] !== 0) continue
      if (foundByEarlierChunk(this.layout!, radii, chunk, h, b, query)) continue
      out.push({ entryId: slotIds[slot]!, distance })
    }
    touchSink ^= touched // keeps the touching loop from being optimised away
  }

  private planFor(threshold: number): SearchPlan {
    let plan = this.plans[threshold]
    if (plan === undefined) {
      plan = { radii: this.layout === null ? null : planRadii(this.layout.widths, this.entries, threshold).radii }
      this.plans[threshold] = plan
    }
    return plan
  }
}

/** Linear scan of slots [lo, hi): the overflow tail, tiny segments, and very large thresholds. */
export function scanSlots(storage: SlotStorage, lo: number, hi: number, query: Uint32Array, threshold: number, out: PdqMatch[]): void {
  const { hashWords: h, removed, slotIds } = storage
  const q0 = query[0]!, q1 = query[1]!, q2 = query[2]!, q3 = query[3]!
  const q4 = query[4]!, q5 = query[5]!, q6 = query[6]!, q7 = query[7]!
  for (let slot = lo; slot < hi; slot++) {
    const b = slot * WORDS_PER_HASH
    const distance =
      popcount(h[b]! ^ q0) + popcount(h[b + 1]! ^ q1) + popcount(h[b + 2]! ^ q2) + popcount(h[b + 3]! ^ q3) +
      popcount(h[b + 4]! ^ q4) + popcount(h[b + 5]! ^ q5) + popcount(h[b + 6]! ^ q6) + popcount(h[b + 7]! ^ q7)
    if (distance <= threshold && removed[slot] === 0) out.push({ entryId: slotIds[slot]!, distance })
  }
}

function foundByEarlierChunk(layout: ChunkLayout, radii: Int8Array, chunk: number, h: Uint32Array, base: number, query: Uint32Array): boolean {
  for (let c = 0; c < chunk; c++) {
    if (radii[c]! < 0) continue
    const width = layout.widths[c]!
    const bitOffset = layout.bitOffsets[c]!
    if (popcount(chunkValue(h, base, bitOffset, width) ^ chunkValue(query, 0, bitOffset, width)) <= radii[c]!) return true
  }
  return false
}

/** Bits [bitOffset, bitOffset + width) of the 256-bit value at words[base..base+8), width <= 24. */
export function chunkValue(words: Uint32Array, base: number, bitOffset: number, width: number): number {
  const w = base + (bitOffset >>> 5)
  const shift = bitOffset & 31
  let v = words[w]! >>> shift
  if (shift + width > 32) v |= words[w + 1]! << (32 - shift)
  return v & ((1 << width) - 1)
}

/** Math.imul keeps the byte-sum multiply in int32 (a plain `*` can overflow into a double). */
function popcount(x: number): number {
  x = x - ((x >>> 1) & 0x55555555)
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333)
  return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24
}

const CANDIDATE_BATCH = 64
const candidateBatch = new Uint32Array(CANDIDATE_BATCH)
let touchSink = 0
let bounds = new Uint32Array(2048)

function scratchBounds(probes: number): Uint32Array {
  if (bounds.length < 2 * probes) bounds = new Uint32Array(2 * probes)
  return bounds
}

/**
 * Chunk widths for a segment of n entries: wider chunks mean fewer candidates per probe but bigger
 * offset tables and more probes per radius, so pick the cheapest layout at t = 31 that fits the
 * memory budget. Null when a scan is cheaper than any index.
 */
export function chooseLayout(n: number): ChunkLayout | null {
  if (n < SCAN_BELOW_ENTRIES) return null
  const budget = Math.min(MAX_OFFSETS_BYTES, n * OFFSETS_BYTES_PER_ENTRY)
  let best: { layout: ChunkLayout; cost: number } | null = null
  for (let bits = MIN_CHUNK_BITS; bits <= MAX_CHUNK_BITS; bits++) {
    const layout = evenLayout(Math.floor(256 / bits))
    if (layout.widths.some((w) => w > MAX_CHUNK_BITS)) continue
    const bytes = layout.widths.reduce((sum, w) => sum + 4 * ((1 << w) + 1), 0)
    if (bytes > budget) continue
    const { cost } = planRadii(layout.widths, n, LAYOUT_THRESHOLD)
    if (best === null || cost < best.cost) best = { layout, cost }
  }
  return best === null ? null : best.layout
}

/** m chunks over 256 bits, widths differing by at most one (wider chunks first). */
export function evenLayout(chunks: number): ChunkLayout {
  const base = Math.floor(256 / chunks)
  const wider = 256 - base * chunks
  const widths: number[] = []
  const bitOffsets: number[] = []
  let offset = 0
  for (let c = 0; c < chunks; c++) {
    const width = c < wider ? base + 1 : base
    widths.push(width)
    bitOffsets.push(offset)
    offset += width
  }
  return { bitOffsets, widths }
}

/**
 * Radii with sum(r_i + 1) >= t + 1 at least expected cost: each unit goes to the chunk whose next
 * ring (C(b, r+1) more probes, each with n / 2^b expected candidates) is cheapest. Greedy is
 * optimal here because each chunk's ring cost grows with r up to the half-width we ever reach.
 */
export function planRadii(widths: number[], n: number, threshold: number): { radii: Int8Array | null; cost: number } {
  const radii = new Int8Array(widths.length).fill(-1)
  const perProbe = widths.map((w) => PROBE_COST + (CANDIDATE_COST * n) / 2 ** w)
  const ringCost = (c: number): number =>
    radii[c]! >= widths[c]! ? Infinity : (ballSize(widths[c]!, radii[c]! + 1) - ballSize(widths[c]!, radii[c]!)) * perProbe[c]!
  let cost = 0
  for (let unit = 0; unit <= threshold; unit++) {
    let bestChunk = 0
    let bestCost = Infinity
    for (let c = 0; c < widths.length; c++) {
      const next = ringCost(c)
      if (next < bestCost) {
        bestCost = next
        bestChunk = c
      }
    }
    radii[bestChunk]!++
    cost += bestCost
  }
  return cost > n * SCAN_COST ? { radii: null, cost: n * SCAN_COST } : { radii, cost }
}

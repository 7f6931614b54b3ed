/**
 * One immutable multi-index-hashing segment over a contiguous range of slots of a PdqIndex.
 *
 * The 256 bits are cut into m disjoint chunks (widths b_i, about 256/m each; spare bits may be left
 * unindexed). Each chunk has a dense `heads` table of 2^b_i words: EMPTY_HEAD, the slot itself when
 * exactly one entry has that chunk value (most non-empty buckets at b_i ~ log2 n), or a pointer to a
 * run [count, slot, slot, ...] in `runs`. A probe is thus one random cache line, plus one more only
 * for buckets holding several entries.
 *
 * Exactness comes from the generalised pigeonhole principle: if the chunk distances d_i sum to
 * d <= t and each chunk is probed to radius r_i with sum(r_i + 1) >= t + 1, then some chunk has
 * d_i <= r_i, so probing every chunk value within r_i of the query's finds every match. Radii are
 * chosen per threshold (a chunk may get r_i = -1, i.e. is skipped), greedily by expected cost.
 * A match found through several chunks is reported only by the first chunk whose ball contains it,
 * so no per-query "seen" set is needed and non-matching candidates touch nothing but their hash.
 */
import { ballSize, xorMasksWithinRadius } from './bit-neighbours.js'
import { runSteps, type Steps } from './steps.js'

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
const MAX_CHUNK_BITS = 24
const MIN_CHUNK_BITS = 8
/** Segments smaller than this are cheaper to scan than to index. */
export const SCAN_BELOW_ENTRIES = 2048
/**
 * Head tables may use this many bytes per entry, up to a cap. Dense heads make a probe one random
 * cache line, so wide chunks pay off: at 10 M entries 11 chunks of 23 bits (352 MB of heads)
 * verify ~2.5x fewer candidates than 12 chunks of 21-22 bits (128 MB).
 */
const OFFSETS_BYTES_PER_ENTRY = 160
const MAX_OFFSETS_BYTES = 360 * 2 ** 20
// Relative costs (measured, roughly): a bucket probe is one random cache line (the head); a
// candidate is its 32-byte hash row, sometimes plus a run line; a scan step is sequential.
const PROBE_COST = 1
const CANDIDATE_COST = 1.5
const SCAN_COST = 0.25
/** The threshold the layout is tuned for (the PDQ default). */
const LAYOUT_THRESHOLD = 31

/** Disjoint chunks of the 256 bits; they need not cover every bit (pigeonhole holds on any subset). */
export interface ChunkLayout {
  bitOffsets: number[]
  widths: number[]
}

/**
 * A segment as plain data (numbers and typed arrays), to move between processes: the build process builds
 * the segments of a start-up index (pdq-build-child.ts) and hands their tables back (read onto shared memory).
 */
export interface SegmentParts {
  lo: number
  hi: number
  entries: number
  layout: ChunkLayout | null
  heads: Int32Array[]
  runs: Uint32Array[]
  occupied: (Int32Array | null)[]
}

interface SearchPlan {
  radii: Int8Array | null // null: scan the segment instead
  masks: Uint32Array[] // per chunk: the XOR masks of its probe ball (empty when skipped)
}

export class PdqSegment {
  private readonly plans: (SearchPlan | undefined)[] = []

  private constructor(
    readonly lo: number,
    readonly hi: number,
    readonly entries: number,
    private readonly layout: ChunkLayout | null,
    private readonly heads: Int32Array[],
    private readonly runs: Uint32Array[],
    private readonly occupied: (Int32Array | null)[],
  ) {}

  /** The segment as it was built from these parts (toParts); the tables are adopted, not copied. */
  static fromParts(parts: SegmentParts): PdqSegment {
    // Made again here, not taken as deserialized: a cloned object or array has other hidden classes and element
    // kinds than this thread's own, and the search loops that read them slowed down (seen with a worker's clones).
    const layout = parts.layout && { widths: Array.from(parts.layout.widths, Number), bitOffsets: Array.from(parts.layout.bitOffsets, Number) }
    return new PdqSegment(parts.lo, parts.hi, parts.entries, layout, Array.from(parts.heads), Array.from(parts.runs), Array.from(parts.occupied))
  }

  toParts(): SegmentParts {
    return { lo: this.lo, hi: this.hi, entries: this.entries, layout: this.layout, heads: this.heads, runs: this.runs, occupied: this.occupied }
  }

  /** Indexes the live slots in [lo, hi). */
  static build(storage: SlotStorage, lo: number, hi: number): PdqSegment {
    return runSteps(PdqSegment.buildSteps(storage, lo, hi, Infinity))
  }

  /**
   * The build as steps of at most `step` elements per bulk loop (see steps.ts): the same passes in the
   * same order, so the segment is identical whatever the step. The caller must not change the slots of
   * [lo, hi) until the generator is done (PdqIndex refuses writes meanwhile).
   */
  static *buildSteps(storage: SlotStorage, lo: number, hi: number, step: number): Steps<PdqSegment> {
    const { hashWords, removed } = storage
    let n = 0
    for (let from = lo; from < hi; from += step) {
      n += countLive(removed, from, Math.min(hi, from + step))
      if (from + step < hi) yield
    }
    const layout = yield* chooseLayoutSteps(n)
    if (layout === null) return new PdqSegment(lo, hi, n, null, [], [], [])
    const liveSlots = new Uint32Array(n)
    n = 0
    for (let from = lo; from < hi; from += step) {
      n = collectLive(removed, from, Math.min(hi, from + step), liveSlots, n)
      if (from + step < hi) yield
    }
    const heads: Int32Array[] = []
    const runs: Uint32Array[] = []
    const occupied: (Int32Array | null)[] = []
    // Two-pass LSD radix sort of (chunk value, slot) pairs: each pass scatters into at most 4096
    // streams that stay in cache, where a direct counting sort into 2^23 buckets misses on every entry.
    const values = new Uint32Array(n)
    const tmpValues = new Uint32Array(n)
    const tmpSlots = new Uint32Array(n)
    const sortedSlots = new Uint32Array(n)
    for (let c = 0; c < layout.widths.length; c++) {
      const width = layout.widths[c]!
      const bitOffset = layout.bitOffsets[c]!
      for (let from = 0; from < n; from += step) {
        extractChunkValues(hashWords, liveSlots, values, from, Math.min(n, from + step), bitOffset, width)
        yield
      }
      const lowBits = width >>> 1
      yield* radixPassSteps(values, liveSlots, tmpValues, tmpSlots, n, 0, lowBits, step)
      yield* radixPassSteps(tmpValues, tmpSlots, values, sortedSlots, n, lowBits, width - lowBits, step)
      // values[] is now sorted: one walk sizes the runs, a second fills heads and runs.
      let runWords = 0
      for (let k = 0; k < n; ) {
        const walked = sizeRuns(values, n, k, Math.min(n, k + step))
        runWords += walked.runWords
        k = walked.end
        if (k < n) yield
      }
      if (runWords >= RUN_MASK || hi >= EMPTY_HEAD) throw new RangeError('segment too large for 31-bit heads')
      const size = 1 << width
      const head = new Int32Array(size)
      for (let from = 0; from < size; from += step * 16) {
        head.fill(EMPTY_HEAD, from, Math.min(size, from + step * 16))
        if (from + step * 16 < size) yield
      }
      const run = new Uint32Array(runWords)
      const fill = { k: 0, at: 0 }
      while (fill.k < n) {
        fillHeads(values, sortedSlots, n, head, run, fill, Math.min(n, fill.k + step))
        if (fill.k < n) yield
      }
      // Sparse tables (most buckets empty) get a 1-bit-per-bucket occupancy map: 32x smaller than the
      // heads, so it stays in cache and in the TLB's reach, and most probes stop there.
      let occ: Int32Array | null = null
      if (n < size * OCCUPANCY_BELOW_DENSITY) {
        occ = new Int32Array(size >>> 5)
        for (let from = 0; from < n; from += step) {
          markOccupied(values, occ, from, Math.min(n, from + step))
          if (from + step < n) yield
        }
      }
      occupied.push(occ)
      heads.push(head)
      runs.push(run)
      yield
    }
    return new PdqSegment(lo, hi, n, layout, heads, runs, occupied)
  }

  memoryBytes(): number {
    let bytes = 0
    for (const a of this.heads) bytes += a.byteLength
    for (const a of this.runs) bytes += a.byteLength
    for (const a of this.occupied) bytes += a?.byteLength ?? 0
    return bytes
  }

  /**
   * Per chunk, three passes that each issue independent loads so the CPU keeps many cache misses in
   * flight: (1) read the bucket bounds of every probe, keeping the non-empty ones; (2) touch the first
   * posting of each and gather the candidate slots; (3) in batches, touch each candidate's hash row,
   * then compute distances from cache. A random miss costs ~100 ns alone but ~10-20 ns overlapped.
   */
  search(storage: SlotStorage, query: Uint32Array, threshold: number, out: PdqMatch[]): void {
    const plan = this.planFor(threshold)
    const layout = this.layout
    const radii = plan.radii
    if (layout === null || radii === null) {
      scanSlots(storage, this.lo, this.hi, query, threshold, out)
      return
    }
    const h = storage.hashWords
    const q0 = query[0]!, q1 = query[1]!, q2 = query[2]!, q3 = query[3]!
    const q4 = query[4]!, q5 = query[5]!, q6 = query[6]!, q7 = query[7]!
    let sink = 0
    for (let c = 0; c < radii.length; c++) {
      if (radii[c]! < 0) continue
      const masks = plan.masks[c]!
      const queryValue = chunkValue(query, 0, layout.bitOffsets[c]!, layout.widths[c]!)
      const head = this.heads[c]!
      const run = this.runs[c]!
      if (multis.length < masks.length) {
        multis = new Int32Array(masks.length)
        probed = new Int32Array(masks.length)
      }
      if (candidates.length < masks.length) candidates = new Uint32Array(Math.max(masks.length, 2 * candidates.length))
      let cand = candidates
      const multi = multis
      const heads = probed
      // Loads only, to fixed addresses: the CPU overlaps many misses. (Splitting the heads in the same
      // loop makes each store address depend on the previous load and measured ~1.6x slower.)
      const occ = this.occupied[c]!
      let probes = masks.length
      if (occ === null) {
        for (let k = 0; k < probes; k++) heads[k] = head[queryValue ^ masks[k]!]!
      } else {
        // Same pattern through the occupancy map: load its words, keep occupied values, load their heads.
        for (let k = 0; k < probes; k++) heads[k] = occ[(queryValue ^ masks[k]!) >>> 5]!
        let kept = 0
        for (let k = 0; k < probes; k++) {
          const v = queryValue ^ masks[k]!
          multi[kept] = v
          kept += (heads[k]! >>> (v & 31)) & 1
        }
        for (let k = 0; k < kept; k++) heads[k] = head[multi[k]!]!
        probes = kept
      }
      let count = 0
      let multiCount = 0
      // Branch-free split: every head is written to both lists, and each list keeps it only if it fits.
      for (let k = 0; k < probes; k++) {
        const x = heads[k]!
        cand[count] = x
        count += ((x - EMPTY_HEAD) | 0) >>> 31 // a single slot: 0 <= x < EMPTY_HEAD
        multi[multiCount] = x
        multiCount += x >>> 31 // a run: x < 0 (MULTI_HEAD set)
      }
      if (multiCount > 0) {
        let total = 0
        for (let i = 0; i < multiCount; i++) total += run[multi[i]! & RUN_MASK]! // independent loads
        if (cand.length < count + total) {
          const grown = new Uint32Array(Math.max(count + total, 2 * cand.length))
          grown.set(cand.subarray(0, count))
          candidates = cand = grown
        }
        for (let i = 0; i < multiCount; i++) {
          const r = multi[i]! & RUN_MASK
          const end = r + 1 + run[r]!
          for (let p = r + 1; p < end; p++) cand[count++] = run[p]!
        }
      }
      if (count === 0) continue
      for (let from = 0; from < count; from += VERIFY_BATCH) {
        const to = Math.min(count, from + VERIFY_BATCH)
        for (let i = from; i < to; i++) sink ^= h[cand[i]! * WORDS_PER_HASH]!
        for (let i = from; i < to; i++) {
          const b = cand[i]! * WORDS_PER_HASH
          // Half the bits first: a random candidate is already ~64 bits away there.
          const half = popcount(h[b]! ^ q0) + popcount(h[b + 1]! ^ q1) + popcount(h[b + 2]! ^ q2) + popcount(h[b + 3]! ^ q3)
          if (half > threshold) continue
          const distance = half + popcount(h[b + 4]! ^ q4) + popcount(h[b + 5]! ^ q5) + popcount(h[b + 6]! ^ q6) + popcount(h[b + 7]! ^ q7)
          if (distance > threshold) continue
          this.report(storage, cand[i]!, b, distance, c, radii, query, out)
        }
      }
    }
    touchSink ^= sink // keeps the touching loads from being optimised away
  }

  private report(storage: SlotStorage, slot: number, base: number, distance: number, chunk: number, radii: Int8Array, query: Uint32Array, out: PdqMatch[]): void {
    if (storage.removed[slot] !== 0) return
    // A match found through several chunks is reported by the first chunk whose ball holds it.
    if (foundByEarlierChunk(this.layout!, radii, chunk, storage.hashWords, base, query)) return
    out.push({ entryId: storage.slotIds[slot]!, distance })
  }

  private planFor(threshold: number): SearchPlan {
    let plan = this.plans[threshold]
    if (plan === undefined) {
      const radii = this.layout === null ? null : planRadii(this.layout.widths, this.entries, threshold).radii
      const masks = radii === null ? [] : [...radii].map((r, c) => xorMasksWithinRadius(this.layout!.widths[c]!, r))
      plan = { radii, masks }
      this.plans[threshold] = plan
    }
    return plan
  }
}

/** One stable counting-sort pass on `bits` bits of the values starting at bit `shift`, in steps. */
function* radixPassSteps(
  values: Uint32Array, slots: Uint32Array, outValues: Uint32Array, outSlots: Uint32Array, n: number, shift: number, bits: number, step: number,
): Steps<void> {
  const mask = (1 << bits) - 1
  const counts = new Uint32Array((1 << bits) + 1)
  for (let from = 0; from < n; from += step) {
    countDigits(values, counts, from, Math.min(n, from + step), shift, mask)
    yield
  }
  for (let d = 0; d < mask + 1; d++) counts[d + 1]! += counts[d]!
  for (let from = 0; from < n; from += step) {
    scatter(values, slots, outValues, outSlots, counts, from, Math.min(n, from + step), shift, mask)
    yield
  }
}

function countDigits(values: Uint32Array, counts: Uint32Array, from: number, to: number, shift: number, mask: number): void {
  for (let k = from; k < to; k++) counts[((values[k]! >>> shift) & mask) + 1]!++
}

function scatter(
  values: Uint32Array, slots: Uint32Array, outValues: Uint32Array, outSlots: Uint32Array, counts: Uint32Array, from: number, to: number, shift: number, mask: number,
): void {
  for (let k = from; k < to; k++) {
    const value = values[k]!
    const at = counts[(value >>> shift) & mask]!++
    outValues[at] = value
    outSlots[at] = slots[k]!
  }
}

function countLive(removed: Uint8Array, from: number, to: number): number {
  let n = 0
  for (let slot = from; slot < to; slot++) if (removed[slot] === 0) n++
  return n
}

function collectLive(removed: Uint8Array, from: number, to: number, out: Uint32Array, n: number): number {
  for (let slot = from; slot < to; slot++) if (removed[slot] === 0) out[n++] = slot
  return n
}

/** values[k] = the chunk's bits of the hash in slot liveSlots[k], for k in [from, to). */
function extractChunkValues(hashWords: Uint32Array, liveSlots: Uint32Array, values: Uint32Array, from: number, to: number, bitOffset: number, width: number): void {
  const word = bitOffset >>> 5
  const shift = bitOffset & 31
  const mask = (1 << width) - 1
  if (shift + width > 32) {
    for (let k = from, up = 32 - shift; k < to; k++) {
      const b = liveSlots[k]! * WORDS_PER_HASH + word
      values[k] = ((hashWords[b]! >>> shift) | (hashWords[b + 1]! << up)) & mask
    }
  } else {
    for (let k = from; k < to; k++) values[k] = (hashWords[liveSlots[k]! * WORDS_PER_HASH + word]! >>> shift) & mask
  }
}

/** Walks the runs of equal sorted values starting at k until one ends at or after `until`. */
function sizeRuns(values: Uint32Array, n: number, k: number, until: number): { runWords: number; end: number } {
  let runWords = 0
  while (k < until) {
    let end = k + 1
    while (end < n && values[end] === values[k]) end++
    if (end - k > 1) runWords += 1 + end - k
    k = end
  }
  return { runWords, end: k }
}

/** Fills heads and runs from the sorted values, from fill.k until a run ends at or after `until`. */
function fillHeads(values: Uint32Array, sortedSlots: Uint32Array, n: number, head: Int32Array, run: Uint32Array, fill: { k: number; at: number }, until: number): void {
  let k = fill.k
  let at = fill.at
  while (k < until) {
    const value = values[k]!
    let end = k + 1
    while (end < n && values[end] === value) end++
    if (end === k + 1) {
      head[value] = sortedSlots[k]!
    } else {
      head[value] = MULTI_HEAD | at
      run[at++] = end - k
      for (let j = k; j < end; j++) run[at++] = sortedSlots[j]!
    }
    k = end
  }
  fill.k = k
  fill.at = at
}

function markOccupied(values: Uint32Array, occ: Int32Array, from: number, to: number): void {
  for (let k = from; k < to; k++) occ[values[k]! >>> 5]! |= 1 << (values[k]! & 31)
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

const VERIFY_BATCH = 128
/** heads[v]: EMPTY_HEAD, a single slot (< EMPTY_HEAD), or MULTI_HEAD | the run's index in runs. */
const EMPTY_HEAD = 0x7fffffff
const MULTI_HEAD = -0x80000000 // as int32
const RUN_MASK = 0x7fffffff
/** Build an occupancy map when entries per bucket is below this (i.e. over ~37 % of buckets empty). */
const OCCUPANCY_BELOW_DENSITY = 1
let touchSink = 0
let multis = new Int32Array(4096)
let probed = new Int32Array(4096)
let candidates = new Uint32Array(8192)

/**
 * Chunk widths for a segment of n entries: wider chunks mean fewer candidates per probe but bigger
 * offset tables and more probes per radius, so pick the cheapest layout at t = 31 that fits the
 * memory budget. Null when a scan is cheaper than any index.
 */
export function chooseLayout(n: number): ChunkLayout | null {
  return runSteps(chooseLayoutSteps(n))
}

/** chooseLayout in steps of one candidate layout each (a few ms in all, at start-up with a cold JIT). */
function* chooseLayoutSteps(n: number): Steps<ChunkLayout | null> {
  if (n < SCAN_BELOW_ENTRIES) return null
  const budget = Math.min(MAX_OFFSETS_BYTES, n * OFFSETS_BYTES_PER_ENTRY)
  let best: { layout: ChunkLayout; cost: number } | null = null
  for (let bits = MIN_CHUNK_BITS; bits <= MAX_CHUNK_BITS; bits++) {
    const chunks = Math.floor(256 / bits)
    // Either spread the spare bits over the chunks, or leave them unindexed (smaller tables).
    for (const layout of [evenLayout(chunks), uniformLayout(chunks, bits)]) {
      if (layout.widths.some((w) => w > MAX_CHUNK_BITS)) continue
      const bytes = layout.widths.reduce((sum, w) => sum + 4 * (2 ** w + 1), 0)
      if (bytes > budget) continue
      const { cost } = planRadii(layout.widths, n, LAYOUT_THRESHOLD)
      if (best === null || cost < best.cost) best = { layout, cost }
      yield
    }
  }
  return best === null ? null : best.layout
}

/** m chunks of exactly `bits` bits from bit 0; the last 256 - m * bits bits are not indexed. */
export function uniformLayout(chunks: number, bits: number): ChunkLayout {
  return { widths: Array.from({ length: chunks }, () => bits), bitOffsets: Array.from({ length: chunks }, (_, c) => c * bits) }
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

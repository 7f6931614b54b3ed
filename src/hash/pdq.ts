/**
 * PDQ perceptual hash, a port of Meta's reference (facebook/ThreatExchange pdq/cpp) as pure functions over
 * 8-bit interleaved RGB: luminance → Jarosz tent blur → 64×64 decimation → quality → 16×16 DCT → median bits.
 *
 * Two entry points, because the reference has two front ends:
 * - pdqFromImage: image files. Above 512 px on either side the reference first squashes the picture to
 *   exactly 512×512 by nearest neighbour; we fuse that squash with the luminance step, so a large photo
 *   costs 512×512 work, not W×H.
 * - pdqFromRgb: pixels hashed at their own size (vPDQ video frames, which the reference never squashes).
 *
 * Scratch buffers are module-level and reused: the functions are synchronous, so callers never interleave.
 */
import { HASH256_BYTES, type Hash256 } from './hash256.js'
import { cachedAxisFilter } from './jarosz.js'
import { PDQ_CELLS, PDQ_DCT_SIZE, dct64To16, pdqQuality, bitsFromDct, dihedralFromDct, type DihedralHashes } from './dct.js'

export type { DihedralHashes } from './dct.js'

/** Largest side the reference hashes unsquashed; beyond it the image becomes exactly this square. */
export const PDQ_SQUASH_SIZE = 512
/** Below this many rows or columns the reference gives up: all-zero hash, quality 0. */
export const PDQ_MIN_DIMENSION = 5

/** Luminance weights as lookup tables: LUMA_R·v is the same product however it is computed, so the hash
 * is unchanged, and three table reads beat three multiplications in the per-pixel loop. */
const lumaTable = (weight: number): Float64Array => Float64Array.from({ length: 256 }, (_, v) => weight * v)
const LUMA_R = lumaTable(0.299)
const LUMA_G = lumaTable(0.587)
const LUMA_B = lumaTable(0.114)

export interface PdqOptions {
  /** Also return the eight rotation/flip hashes, derived from the same DCT. */
  dihedral?: boolean
}

export interface PdqResult {
  hash: Hash256
  /** 0–100; the reference suggests ignoring hashes below 50. */
  quality: number
  dihedral?: DihedralHashes
}

const block64 = new Float64Array(PDQ_CELLS * PDQ_CELLS)
const dct16 = new Float64Array(PDQ_DCT_SIZE * PDQ_DCT_SIZE)

/** PDQ of `width`×`height` RGB pixels at their own size (no 512 squash): the vPDQ frame hasher. */
export function pdqFromRgb(rgb: Uint8Array, width: number, height: number, options: PdqOptions = {}): PdqResult {
  checkRgb(rgb, width, height)
  const fillRow = (y: number, row: Float64Array): void => {
    for (let x = 0, q = y * width * 3; x < width; x++, q += 3) row[x] = LUMA_R[rgb[q]!]! + LUMA_G[rgb[q + 1]!]! + LUMA_B[rgb[q + 2]!]!
  }
  return pdqFromLumaRows(fillRow, height, width, options)
}

/** PDQ as the reference's image front end computes it: squash to 512×512 first when a side exceeds 512. */
export function pdqFromImage(rgb: Uint8Array, width: number, height: number, options: PdqOptions = {}): PdqResult {
  if (width <= PDQ_SQUASH_SIZE && height <= PDQ_SQUASH_SIZE) return pdqFromRgb(rgb, width, height, options)
  checkRgb(rgb, width, height)
  const sourceColumns = squashIndices(width)
  const sourceRows = squashIndices(height)
  // The squash is fused with the luminance step: only the 512×512 sampled pixels are ever read.
  const fillRow = (y: number, row: Float64Array): void => {
    const rowStart = sourceRows[y]! * width * 3
    for (let x = 0; x < PDQ_SQUASH_SIZE; x++) {
      const q = rowStart + sourceColumns[x]! * 3
      row[x] = LUMA_R[rgb[q]!]! + LUMA_G[rgb[q + 1]!]! + LUMA_B[rgb[q + 2]!]!
    }
  }
  return pdqFromLumaRows(fillRow, PDQ_SQUASH_SIZE, PDQ_SQUASH_SIZE, options)
}

/**
 * The reference's (CImg) nearest-neighbour resize to 512×512, on raw RGB: output column x reads source
 * column floor(x·W/512), rows likewise. Returns the input unchanged when neither side exceeds 512.
 */
export function squashTo512(rgb: Uint8Array, width: number, height: number): { rgb: Uint8Array; width: number; height: number } {
  checkRgb(rgb, width, height)
  if (width <= PDQ_SQUASH_SIZE && height <= PDQ_SQUASH_SIZE) return { rgb, width, height }
  const size = PDQ_SQUASH_SIZE
  const out = new Uint8Array(size * size * 3)
  const sourceColumns = squashIndices(width)
  const sourceRows = squashIndices(height)
  for (let y = 0, o = 0; y < size; y++) {
    const rowStart = sourceRows[y]! * width * 3
    for (let x = 0; x < size; x++, o += 3) {
      const q = rowStart + sourceColumns[x]! * 3
      out[o] = rgb[q]!
      out[o + 1] = rgb[q + 1]!
      out[o + 2] = rgb[q + 2]!
    }
  }
  return { rgb: out, width: size, height: size }
}

function squashIndices(sourceSize: number): Int32Array {
  const indices = new Int32Array(PDQ_SQUASH_SIZE)
  for (let x = 0; x < PDQ_SQUASH_SIZE; x++) indices[x] = Math.floor((x * sourceSize) / PDQ_SQUASH_SIZE)
  return indices
}

function checkRgb(rgb: Uint8Array, width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0) {
    throw new RangeError(`pdq: bad dimensions ${width}x${height}`)
  }
  if (rgb.length < width * height * 3) {
    throw new RangeError(`pdq: ${rgb.length} bytes is too few for ${width}x${height} RGB`)
  }
}

/** Blur, decimate, quality, DCT, bits, for a rows×cols luminance image produced one row at a time. */
function pdqFromLumaRows(fillRow: (y: number, row: Float64Array) => void, rows: number, cols: number, options: PdqOptions): PdqResult {
  if (rows < PDQ_MIN_DIMENSION || cols < PDQ_MIN_DIMENSION) return zeroResult(options)
  blurAndDecimate(fillRow, rows, cols)
  const quality = pdqQuality(block64)
  dct64To16(block64, dct16)
  if (options.dihedral) {
    const dihedral = dihedralFromDct(dct16)
    return { hash: dihedral.orig, quality, dihedral }
  }
  return { hash: bitsFromDct(dct16), quality }
}

/** What the reference returns for images too small to hash. */
function zeroResult(options: PdqOptions): PdqResult {
  const zero = (): Hash256 => new Uint8Array(HASH256_BYTES)
  const result: PdqResult = { hash: zero(), quality: 0 }
  if (options.dihedral) {
    result.dihedral = { orig: result.hash, rot90: zero(), rot180: zero(), rot270: zero(), flipx: zero(), flipy: zero(), flipp: zero(), flipm: zero() }
  }
  return result
}

let lumaRow = new Float64Array(0)
let rowSamples = new Float64Array(0)

/**
 * Tent blur and 64×64 decimation, folded into one horizontal and one vertical filter (see jarosz.ts).
 * Only rows that some output reads are produced at all.
 */
function blurAndDecimate(fillRow: (y: number, row: Float64Array) => void, rows: number, cols: number): void {
  const horizontal = cachedAxisFilter(cols, PDQ_CELLS)
  const vertical = cachedAxisFilter(rows, PDQ_CELLS)
  if (lumaRow.length < cols) lumaRow = new Float64Array(cols)
  if (rowSamples.length < rows * PDQ_CELLS) rowSamples = new Float64Array(rows * PDQ_CELLS)
  // Local constants, not the module-level bindings: V8 then keeps them in registers in the hot loops.
  const row = lumaRow
  const samples = rowSamples
  const out64 = block64
  const { first, taps, stride, weights } = horizontal
  const rowUsed = vertical.used
  for (let y = 0; y < rows; y++) {
    if (!rowUsed[y]) continue
    fillRow(y, row)
    for (let j = 0, out = y * PDQ_CELLS; j < PDQ_CELLS; j++) {
      let sum = 0
      for (let t = 0, w = j * stride, k = first[j]!, n = taps[j]!; t < n; t++) sum += weights[w + t]! * row[k + t]!
      samples[out + j] = sum
    }
  }
  const top = vertical.first
  const heights = vertical.taps
  const verticalStride = vertical.stride
  const verticalWeights = vertical.weights
  for (let i = 0; i < PDQ_CELLS; i++) {
    for (let j = 0; j < PDQ_CELLS; j++) {
      let sum = 0
      for (let t = 0, w = i * verticalStride, n = heights[i]!, p = top[i]! * PDQ_CELLS + j; t < n; t++, p += PDQ_CELLS) {
        sum += verticalWeights[w + t]! * samples[p]!
      }
      out64[i * PDQ_CELLS + j] = sum
    }
  }
}

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
import type { Hash256 } from './hash256.js'
import { jaroszWindowSize, boxAlongRows, boxAlongColumns, decimationIndex } from './jarosz.js'
import { PDQ_CELLS, PDQ_DCT_SIZE, dct64To16, pdqQuality, bitsFromDct, dihedralFromDct, type DihedralHashes } from './dct.js'

export type { DihedralHashes } from './dct.js'

/** Largest side the reference hashes unsquashed; beyond it the image becomes exactly this square. */
export const PDQ_SQUASH_SIZE = 512
/** Below this many rows or columns the reference gives up: all-zero hash, quality 0. */
export const PDQ_MIN_DIMENSION = 5

const LUMA_R = 0.299
const LUMA_G = 0.587
const LUMA_B = 0.114

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

let lumaBuffer = new Float64Array(0)
let blurBuffer = new Float64Array(0)
let sampledColumns = new Float64Array(0)
const columnSums = new Float64Array(PDQ_CELLS)
const block64 = new Float64Array(PDQ_CELLS * PDQ_CELLS)
const dct16 = new Float64Array(PDQ_DCT_SIZE * PDQ_DCT_SIZE)

function ensureScratch(pixels: number): void {
  if (lumaBuffer.length < pixels) {
    lumaBuffer = new Float64Array(pixels)
    blurBuffer = new Float64Array(pixels)
  }
}

/** PDQ of `width`×`height` RGB pixels at their own size (no 512 squash): the vPDQ frame hasher. */
export function pdqFromRgb(rgb: Uint8Array, width: number, height: number, options: PdqOptions = {}): PdqResult {
  checkRgb(rgb, width, height)
  ensureScratch(width * height)
  const luma = lumaBuffer
  for (let p = 0, q = 0, n = width * height; p < n; p++, q += 3) {
    luma[p] = LUMA_R * rgb[q]! + LUMA_G * rgb[q + 1]! + LUMA_B * rgb[q + 2]!
  }
  return pdqFromLuma(luma, height, width, options)
}

/** PDQ as the reference's image front end computes it: squash to 512×512 first when a side exceeds 512. */
export function pdqFromImage(rgb: Uint8Array, width: number, height: number, options: PdqOptions = {}): PdqResult {
  if (width <= PDQ_SQUASH_SIZE && height <= PDQ_SQUASH_SIZE) return pdqFromRgb(rgb, width, height, options)
  checkRgb(rgb, width, height)
  const size = PDQ_SQUASH_SIZE
  ensureScratch(size * size)
  const luma = lumaBuffer
  const sourceColumns = squashIndices(width)
  const sourceRows = squashIndices(height)
  for (let y = 0, p = 0; y < size; y++) {
    const rowStart = sourceRows[y]! * width * 3
    for (let x = 0; x < size; x++, p++) {
      const q = rowStart + sourceColumns[x]! * 3
      luma[p] = LUMA_R * rgb[q]! + LUMA_G * rgb[q + 1]! + LUMA_B * rgb[q + 2]!
    }
  }
  return pdqFromLuma(luma, size, size, options)
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

/** Blur, decimate, quality, DCT, bits. `luma` is rows×cols, row-major; it is overwritten. */
function pdqFromLuma(luma: Float64Array, rows: number, cols: number, options: PdqOptions): PdqResult {
  if (rows < PDQ_MIN_DIMENSION || cols < PDQ_MIN_DIMENSION) {
    const zero = new Uint8Array(32)
    const result: PdqResult = { hash: zero, quality: 0 }
    if (options.dihedral) {
      result.dihedral = { orig: zero, rot90: zero.slice(), rot180: zero.slice(), rot270: zero.slice(), flipx: zero.slice(), flipy: zero.slice(), flipp: zero.slice(), flipm: zero.slice() }
    }
    return result
  }
  blurAndDecimate(luma, rows, cols)
  const quality = pdqQuality(block64)
  dct64To16(block64, dct16)
  if (options.dihedral) {
    const dihedral = dihedralFromDct(dct16)
    return { hash: dihedral.orig, quality, dihedral }
  }
  return { hash: bitsFromDct(dct16), quality }
}

/**
 * Two X,Y box passes, then the 64×64 decimation. The last Y pass only ever feeds the 64 sampled columns,
 * so it runs on those alone, straight into a rows×64 buffer from which the 64 sampled rows are taken.
 */
function blurAndDecimate(luma: Float64Array, rows: number, cols: number): void {
  const windowAlongRows = jaroszWindowSize(cols, PDQ_CELLS)
  const windowAlongCols = jaroszWindowSize(rows, PDQ_CELLS)
  const allColumns = identityIndices(cols)
  const pickedColumns = new Int32Array(PDQ_CELLS)
  for (let j = 0; j < PDQ_CELLS; j++) pickedColumns[j] = decimationIndex(j, cols, PDQ_CELLS)
  if (sampledColumns.length < rows * PDQ_CELLS) sampledColumns = new Float64Array(rows * PDQ_CELLS)

  boxAlongRows(luma, blurBuffer, rows, cols, windowAlongRows)
  boxAlongColumns(blurBuffer, rows, cols, allColumns, windowAlongCols, luma, columnSumsFor(cols))
  boxAlongRows(luma, blurBuffer, rows, cols, windowAlongRows)
  boxAlongColumns(blurBuffer, rows, cols, pickedColumns, windowAlongCols, sampledColumns, columnSums)

  for (let i = 0; i < PDQ_CELLS; i++) {
    const from = decimationIndex(i, rows, PDQ_CELLS) * PDQ_CELLS
    block64.set(sampledColumns.subarray(from, from + PDQ_CELLS), i * PDQ_CELLS)
  }
}

let identity = new Int32Array(0)
function identityIndices(length: number): Int32Array {
  if (identity.length < length) {
    identity = new Int32Array(length)
    for (let i = 0; i < length; i++) identity[i] = i
  }
  return identity.subarray(0, length)
}

let wideSums = new Float64Array(0)
function columnSumsFor(cols: number): Float64Array {
  if (wideSums.length < cols) wideSums = new Float64Array(cols)
  return wideSums
}

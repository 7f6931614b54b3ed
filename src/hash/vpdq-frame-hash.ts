/**
 * PDQ of one full-size RGB video frame, the vPDQ hot loop: the same arithmetic as pdqFromRgb (pdq.ts), in
 * the same order, so the hashes are bit-identical, but with luminance from per-channel lookup tables and
 * the luminance row, horizontal tent filter and vertical filter written as flat loops over local typed
 * arrays. A 720p frame drops from about 10.5 ms to the figure scripts/bench-video.ts prints.
 */
import { cachedAxisFilter } from './jarosz.js'
import { PDQ_CELLS, PDQ_DCT_SIZE, dct64To16, pdqQuality, bitsFromDct } from './dct.js'
import { pdqFromRgb, PDQ_MIN_DIMENSION, type PdqResult } from './pdq.js'

/** LUMA_R·v etc. as pdq.ts computes them (a product is the same whichever operand comes first). */
const lumaTable = (weight: number): Float64Array => Float64Array.from({ length: 256 }, (_, v) => weight * v)
const LUMA_R_OF = lumaTable(0.299)
const LUMA_G_OF = lumaTable(0.587)
const LUMA_B_OF = lumaTable(0.114)

const block64 = new Float64Array(PDQ_CELLS * PDQ_CELLS)
const dct16 = new Float64Array(PDQ_DCT_SIZE * PDQ_DCT_SIZE)
let lumaRow = new Float64Array(0)
let rowSamples = new Float64Array(0)

export function pdqOfVideoFrame(rgb: Uint8Array, width: number, height: number): PdqResult {
  if (width < PDQ_MIN_DIMENSION || height < PDQ_MIN_DIMENSION || rgb.length < width * height * 3) return pdqFromRgb(rgb, width, height)
  const horizontal = cachedAxisFilter(width, PDQ_CELLS)
  const vertical = cachedAxisFilter(height, PDQ_CELLS)
  if (lumaRow.length < width) lumaRow = new Float64Array(width)
  if (rowSamples.length < height * PDQ_CELLS) rowSamples = new Float64Array(height * PDQ_CELLS)
  const row = lumaRow
  const samples = rowSamples
  const lr = LUMA_R_OF
  const lg = LUMA_G_OF
  const lb = LUMA_B_OF
  const { first, taps, stride, weights } = horizontal
  const rowUsed = vertical.used
  for (let y = 0; y < height; y++) {
    if (rowUsed[y] === 0) continue
    for (let x = 0, q = y * width * 3; x < width; x++, q += 3) row[x] = lr[rgb[q]!]! + lg[rgb[q + 1]!]! + lb[rgb[q + 2]!]!
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
      block64[i * PDQ_CELLS + j] = sum
    }
  }
  const quality = pdqQuality(block64)
  dct64To16(block64, dct16)
  return { hash: bitsFromDct(dct16), quality }
}

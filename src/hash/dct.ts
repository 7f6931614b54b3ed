/**
 * The frequency half of PDQ: 64×64 image-domain quality, the 16×16 low-frequency DCT (DC term skipped),
 * median thresholding into 256 bits, and the eight dihedral variants, which are sign flips and transposes
 * of the same 16×16 coefficients (a reflection negates odd-frequency basis functions).
 */
import { HASH256_BYTES, type Hash256 } from './hash256.js'

export const PDQ_CELLS = 64
export const PDQ_DCT_SIZE = 16
const DCT_AREA = PDQ_DCT_SIZE * PDQ_DCT_SIZE

/** Row i is the DCT-II basis of frequency i + 1 over 64 samples, scaled by sqrt(2/64). */
const DCT_MATRIX = (() => {
  const matrix = new Float64Array(PDQ_DCT_SIZE * PDQ_CELLS)
  const scale = Math.sqrt(2 / PDQ_CELLS)
  for (let i = 0; i < PDQ_DCT_SIZE; i++) {
    for (let j = 0; j < PDQ_CELLS; j++) {
      matrix[i * PDQ_CELLS + j] = scale * Math.cos((Math.PI / 2 / PDQ_CELLS) * (i + 1) * (2 * j + 1))
    }
  }
  return matrix
})()

const partial16x64 = new Float64Array(PDQ_DCT_SIZE * PDQ_CELLS)

/** B = D · A · Dᵀ for the 64×64 block A, keeping only frequencies 1..16 in each direction. */
export function dct64To16(block64: Float64Array, out16x16: Float64Array): void {
  const D = DCT_MATRIX
  const T = partial16x64
  for (let i = 0; i < PDQ_DCT_SIZE; i++) {
    const dRow = i * PDQ_CELLS
    for (let j = 0; j < PDQ_CELLS; j++) {
      let sum = 0
      for (let k = 0; k < PDQ_CELLS; k++) sum += D[dRow + k]! * block64[k * PDQ_CELLS + j]!
      T[dRow + j] = sum
    }
  }
  for (let i = 0; i < PDQ_DCT_SIZE; i++) {
    const tRow = i * PDQ_CELLS
    for (let j = 0; j < PDQ_DCT_SIZE; j++) {
      const dRow = j * PDQ_CELLS
      let sum = 0
      for (let k = 0; k < PDQ_CELLS; k++) sum += T[tRow + k]! * D[dRow + k]!
      out16x16[i * PDQ_DCT_SIZE + j] = sum
    }
  }
}

/**
 * Reference quality heuristic: the count of significant luminance steps between neighbouring cells of the
 * 64×64 block (each step in percent of full scale, truncated), divided by 90 and capped at 100.
 */
export function pdqQuality(block64: Float64Array): number {
  let gradientSum = 0
  for (let i = 0; i < PDQ_CELLS - 1; i++) {
    for (let j = 0; j < PDQ_CELLS; j++) {
      const p = i * PDQ_CELLS + j
      gradientSum += Math.abs(Math.trunc(((block64[p]! - block64[p + PDQ_CELLS]!) * 100) / 255))
    }
  }
  for (let i = 0; i < PDQ_CELLS; i++) {
    for (let j = 0; j < PDQ_CELLS - 1; j++) {
      const p = i * PDQ_CELLS + j
      gradientSum += Math.abs(Math.trunc(((block64[p]! - block64[p + 1]!) * 100) / 255))
    }
  }
  return Math.min(100, Math.trunc(gradientSum / 90))
}

const sortScratch = new Float64Array(DCT_AREA)

/**
 * One bit per coefficient: set when it exceeds the median (the 128th smallest, as the reference's Torben
 * median returns). Bit k = 16·i + j has weight 2^k, and byte 0 of a Hash256 is the most significant.
 */
export function bitsFromDct(coefficients: Float64Array): Hash256 {
  sortScratch.set(coefficients)
  sortScratch.sort()
  const median = sortScratch[DCT_AREA / 2 - 1]!
  const hash = new Uint8Array(HASH256_BYTES)
  for (let k = 0; k < DCT_AREA; k++) {
    if (coefficients[k]! > median) hash[HASH256_BYTES - 1 - (k >> 3)]! |= 1 << (k & 7)
  }
  return hash
}

export interface DihedralHashes {
  orig: Hash256
  rot90: Hash256
  rot180: Hash256
  rot270: Hash256
  flipx: Hash256
  flipy: Hash256
  flipp: Hash256
  flipm: Hash256
}

/** Sign of coefficient (i, j) under each transform, and whether the transform transposes (the reference's table). */
const DIHEDRAL_SIGNS: Record<Exclude<keyof DihedralHashes, 'orig'>, { transpose: boolean; sign: (i: number, j: number) => number }> = {
  rot90: { transpose: true, sign: (_i, j) => (j & 1 ? 1 : -1) },
  rot180: { transpose: false, sign: (i, j) => ((i + j) & 1 ? -1 : 1) },
  rot270: { transpose: true, sign: (i) => (i & 1 ? 1 : -1) },
  flipx: { transpose: false, sign: (i) => (i & 1 ? 1 : -1) },
  flipy: { transpose: false, sign: (_i, j) => (j & 1 ? 1 : -1) },
  flipp: { transpose: true, sign: () => 1 },
  flipm: { transpose: true, sign: (i, j) => ((i + j) & 1 ? -1 : 1) },
}

const transformed = new Float64Array(DCT_AREA)

/** All eight dihedral hashes from one set of DCT coefficients (no re-hashing of transformed pixels). */
export function dihedralFromDct(coefficients: Float64Array): DihedralHashes {
  const out = { orig: bitsFromDct(coefficients) } as DihedralHashes
  for (const [name, { transpose, sign }] of Object.entries(DIHEDRAL_SIGNS)) {
    for (let i = 0; i < PDQ_DCT_SIZE; i++) {
      for (let j = 0; j < PDQ_DCT_SIZE; j++) {
        const target = transpose ? j * PDQ_DCT_SIZE + i : i * PDQ_DCT_SIZE + j
        transformed[target] = sign(i, j) * coefficients[i * PDQ_DCT_SIZE + j]!
      }
    }
    out[name as keyof DihedralHashes] = bitsFromDct(transformed)
  }
  return out
}

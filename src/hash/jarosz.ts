/**
 * Jarosz tent filter (two X,Y passes of 1-D box filters) and 64×64 decimation, as in Meta's PDQ reference
 * (pdq/cpp/downscaling). The box filter keeps the reference's four phases (shrunken windows at the edges)
 * and its exact order of additions, so results match it bit for bit after the median threshold.
 */

/** Window of each box pass: half of one output cell, since the two passes together span a whole cell. */
export function jaroszWindowSize(oldDimension: number, newDimension: number): number {
  return Math.floor((oldDimension + 2 * newDimension - 1) / (2 * newDimension))
}

interface BoxPhases {
  leadIn: number
  growing: number
  full: number
  shrinking: number
}

/** Reference phases: accumulate without writing, write while the window grows, slide, write while it shrinks. */
function boxPhases(length: number, window: number): BoxPhases {
  const half = (window + 2) >> 1
  return { leadIn: half - 1, growing: window - half + 1, full: length - window, shrinking: half - 1 }
}

/** Box filter along every row (each row is contiguous). */
export function boxAlongRows(input: Float64Array, output: Float64Array, rows: number, cols: number, window: number): void {
  const { leadIn, growing, full, shrinking } = boxPhases(cols, window)
  for (let r = 0, base = 0; r < rows; r++, base += cols) {
    let read = base
    let drop = base
    let write = base
    let sum = 0
    let count = 0
    for (let k = 0; k < leadIn; k++) {
      sum += input[read++]!
      count++
    }
    for (let k = 0; k < growing; k++) {
      sum += input[read++]!
      count++
      output[write++] = sum / count
    }
    for (let k = 0; k < full; k++) {
      sum += input[read++]!
      sum -= input[drop++]!
      output[write++] = sum / count
    }
    for (let k = 0; k < shrinking; k++) {
      sum -= input[drop++]!
      count--
      output[write++] = sum / count
    }
  }
}

/**
 * Box filter down the columns listed in `columns`, writing output[r * columns.length + k] for column columns[k].
 * It sweeps row by row with one running sum per column, so memory is read sequentially instead of with a
 * stride of a whole row; each column's sum still sees the same additions in the same order as the reference.
 */
export function boxAlongColumns(
  input: Float64Array,
  rows: number,
  cols: number,
  columns: Int32Array,
  window: number,
  output: Float64Array,
  sums: Float64Array,
): void {
  const width = columns.length
  const { leadIn, growing, full, shrinking } = boxPhases(rows, window)
  sums.fill(0, 0, width)
  let read = 0
  let drop = 0
  let write = 0
  let count = 0
  for (let k = 0; k < leadIn; k++, read += cols) {
    for (let c = 0; c < width; c++) sums[c]! += input[read + columns[c]!]!
    count++
  }
  for (let k = 0; k < growing; k++, read += cols, write += width) {
    count++
    for (let c = 0; c < width; c++) {
      const sum = sums[c]! + input[read + columns[c]!]!
      sums[c] = sum
      output[write + c] = sum / count
    }
  }
  for (let k = 0; k < full; k++, read += cols, drop += cols, write += width) {
    for (let c = 0; c < width; c++) {
      const sum = sums[c]! + input[read + columns[c]!]! - input[drop + columns[c]!]!
      sums[c] = sum
      output[write + c] = sum / count
    }
  }
  for (let k = 0; k < shrinking; k++, drop += cols, write += width) {
    count--
    for (let c = 0; c < width; c++) {
      const sum = sums[c]! - input[drop + columns[c]!]!
      sums[c] = sum
      output[write + c] = sum / count
    }
  }
}

/** Index of the source sample the reference decimation reads for output index i (cell centre, truncated). */
export function decimationIndex(i: number, inSize: number, outSize: number): number {
  return Math.floor(((i + 0.5) * inSize) / outSize)
}

/**
 * Jarosz tent filter (two X,Y passes of 1-D box filters) and 64×64 decimation, as in Meta's PDQ reference
 * (pdq/cpp/downscaling).
 *
 * The reference box filter shrinks its window at the edges: output o averages inputs
 * max(0, o − (w − h)) … min(n − 1, o + h − 1), with h = ⌊(w + 2) / 2⌋. Its four passes (X, Y, X, Y) are
 * linear and the X and Y passes act on different axes, so X,Y,X,Y equals (X∘X) then (Y∘Y). And only the
 * 64 decimated positions per axis are ever read. So instead of blurring the whole image four times, we
 * fold each axis's two box passes plus the decimation into one small filter: 64 outputs, each a weighted
 * sum of about 2w − 1 neighbouring inputs. The weights reproduce the reference's edge handling exactly;
 * only the order of floating-point additions differs, which the conformance tests show does not change
 * a single bit of the hashes. This halves the cost of a 512×512 hash compared with the literal port.
 */

/** Window of each box pass: half of one output cell, since the two passes together span a whole cell. */
export function jaroszWindowSize(oldDimension: number, newDimension: number): number {
  return Math.floor((oldDimension + 2 * newDimension - 1) / (2 * newDimension))
}

/** First and last input index averaged into output `o` of a reference box filter of width `window`. */
export function boxExtent(o: number, length: number, window: number): [first: number, last: number] {
  const half = (window + 2) >> 1
  return [Math.max(0, o - (window - half)), Math.min(length - 1, o + half - 1)]
}

/** Index of the source sample the reference decimation reads for output index i (cell centre, truncated). */
export function decimationIndex(i: number, inSize: number, outSize: number): number {
  return Math.floor(((i + 0.5) * inSize) / outSize)
}

/** Two box passes plus decimation along one axis: output j = Σ_t weights[j·stride + t] · input[first[j] + t]. */
export interface AxisFilter {
  length: number
  first: Int32Array
  taps: Int32Array
  stride: number
  weights: Float64Array
  /** Which inputs any output reads (the rest need not be computed). */
  used: Uint8Array
}

/** Builds the folded filter for an axis of `length` samples decimated to `outputs`. */
export function tentAxisFilter(length: number, outputs: number): AxisFilter {
  const window = jaroszWindowSize(length, outputs)
  const first = new Int32Array(outputs)
  const taps = new Int32Array(outputs)
  const spans: Array<[number, number]> = []
  let stride = 1
  for (let j = 0; j < outputs; j++) {
    const [secondFirst, secondLast] = boxExtent(decimationIndex(j, length, outputs), length, window)
    const lo = boxExtent(secondFirst, length, window)[0]
    const hi = boxExtent(secondLast, length, window)[1]
    spans.push([lo, hi])
    first[j] = lo
    taps[j] = hi - lo + 1
    stride = Math.max(stride, hi - lo + 1)
  }
  const weights = new Float64Array(outputs * stride)
  const used = new Uint8Array(length)
  for (let j = 0; j < outputs; j++) {
    const [secondFirst, secondLast] = boxExtent(decimationIndex(j, length, outputs), length, window)
    const secondCount = secondLast - secondFirst + 1
    for (let m = secondFirst; m <= secondLast; m++) {
      const [a, b] = boxExtent(m, length, window)
      const weight = 1 / ((b - a + 1) * secondCount)
      for (let k = a; k <= b; k++) weights[j * stride + k - first[j]!]! += weight
    }
    for (let k = spans[j]![0]; k <= spans[j]![1]; k++) used[k] = 1
  }
  return { length, first, taps, stride, weights, used }
}

let lastFilters: AxisFilter[] = []

/** Filters are reused across calls: video frames and squashed images all share a handful of sizes. */
export function cachedAxisFilter(length: number, outputs: number): AxisFilter {
  const hit = lastFilters.find((f) => f.length === length && f.first.length === outputs)
  if (hit) return hit
  const filter = tentAxisFilter(length, outputs)
  lastFilters = [filter, ...lastFilters.slice(0, 3)]
  return filter
}

/**
 * XOR masks that enumerate every value within Hamming radius r of a b-bit chunk value:
 * `value ^ mask` for each mask visits the ball exactly once. Cached because every query with the
 * same (bits, radius) reuses the same list.
 */
const cache = new Map<string, Uint32Array>()

export function xorMasksWithinRadius(bits: number, radius: number): Uint32Array {
  if (radius < 0) return new Uint32Array(0)
  if (radius >= bits) radius = bits
  const key = `${bits}:${radius}`
  let masks = cache.get(key)
  if (masks === undefined) {
    masks = new Uint32Array(ballSize(bits, radius))
    let next = 0
    // Depth-first over combinations of set bits, lowest position first; each prefix is itself a mask.
    const emit = (mask: number, lowestFree: number, bitsLeft: number): void => {
      masks![next++] = mask >>> 0
      if (bitsLeft === 0) return
      for (let bit = lowestFree; bit < bits; bit++) emit(mask | (1 << bit), bit + 1, bitsLeft - 1)
    }
    emit(0, 0, radius)
    cache.set(key, masks)
  }
  return masks
}

/** Number of b-bit values within Hamming radius r of a given value: sum of C(b, k) for k <= r. */
export function ballSize(bits: number, radius: number): number {
  let total = 0
  let binomial = 1
  for (let k = 0; k <= Math.min(radius, bits); k++) {
    total += binomial
    binomial = (binomial * (bits - k)) / (k + 1)
  }
  return total
}

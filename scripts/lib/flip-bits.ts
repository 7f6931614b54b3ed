/** Near-duplicate PDQ hashes for the benchmarks' queries (bench-api.ts, bench-hma.ts). */
import { randomInt } from 'node:crypto'

/** `hex` (a PDQ hash) with `bits` distinct random bits flipped: a near neighbour at exactly that distance. */
export function flipRandomBits(hex: string, bits: number): string {
  const bytes = Buffer.from(hex, 'hex')
  const flipped = new Set<number>()
  while (flipped.size < bits) flipped.add(randomInt(256))
  for (const bit of flipped) bytes[bit >> 3]! ^= 1 << (bit & 7)
  return bytes.toString('hex')
}

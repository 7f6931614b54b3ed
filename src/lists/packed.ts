/**
 * PackedPdq batches (types.ts) back to items, for the consumers that need them as such: a sink that signs
 * records (contributions, a shared bank), tests.
 */
import { wordsToHex } from '../hash/hash256.js'
import type { ListSignal, PackedPdq } from './types.js'

/** The items a packed batch stands for. */
export function unpackPdq(batch: PackedPdq): ListSignal[] {
  const out: ListSignal[] = new Array(batch.count)
  for (let i = 0; i < batch.count; i++) out[i] = { kind: 'signal', line: batch.lines[i]!, type: 'pdq', value: wordsToHex(batch.words, i * 8) }
  return out
}

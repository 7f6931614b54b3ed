/**
 * Where did two branches of one feed part? Pure logic over two lookups, no I/O of its own.
 *
 * Records are hash-chained (each names its predecessor's id), so two consistent chains of one feed hold
 * the same record at every seq below their fork and different records at every seq from it on: "differs
 * at seq" is monotone, and a binary search over [1, hi] finds the fork in O(log hi) lookups. The record
 * the peer holds there, set against ours, is the smallest equivocation proof these two branches allow.
 */

export interface ForkProbe {
  /** Our record id at seq (undefined: we hold none). */
  mine(seq: number): Promise<string | undefined>
  /** The peer's record id at seq (undefined: it holds none or sent something undecodable). */
  theirs(seq: number): Promise<string | undefined>
}

/** Outcome of checking one feed against a peer. */
export type ForkCheck = { fork: false } | { fork: true; seq: number }

/**
 * The first seq in [1, hi] where the two chains differ, given that they differ at `hi` (checked here:
 * `{ fork: false }` when they do not). A seq where either side holds nothing ends the search without a
 * fork: the chains cannot be compared there.
 */
export async function findFork(hi: number, probe: ForkProbe): Promise<ForkCheck> {
  if (hi < 1) return { fork: false }
  const differs = async (seq: number): Promise<boolean | undefined> => {
    const [a, b] = await Promise.all([probe.mine(seq), probe.theirs(seq)])
    if (a === undefined || b === undefined) return undefined
    return a !== b
  }
  if ((await differs(hi)) !== true) return { fork: false }
  let lo = 1
  let high = hi
  while (lo < high) {
    const mid = Math.floor((lo + high) / 2)
    const d = await differs(mid)
    if (d === undefined) return { fork: false }
    if (d) high = mid
    else lo = mid + 1
  }
  return { fork: true, seq: high }
}

/**
 * The highest seq at which a feed can be compared with a peer without fetching anything new: the lower
 * of both heads, and below the fork when the feed is already frozen at one (what lies beyond differs by
 * design). 0 when there is nothing to compare.
 */
export function comparableSeq(mySeq: number, theirSeq: number, forkSeq?: number): number {
  return Math.max(0, Math.min(mySeq, theirSeq, forkSeq === undefined ? Infinity : forkSeq - 1))
}

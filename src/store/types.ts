/** What the replica says about its feeds and about each record it is given (used by sync and net too). */
import type { ErrorCode } from '../errors.js'

export interface FeedHead {
  /** The author's ed25519 public key, hex. */
  feed: string
  /** Highest contiguous seq stored for this feed. */
  seq: number
  /** Record id (hex) of the record at `seq`. */
  id: string
}

export type ReceiveVerdict = 'accepted' | 'duplicate' | 'pending' | 'rejected'

export interface ReceiveResult {
  verdict: ReceiveVerdict
  /** Set when rejected (and for some pending cases): why. */
  code?: ErrorCode
  message?: string
  /** Record id (hex) when the bytes decoded far enough to have one. */
  id?: string
}

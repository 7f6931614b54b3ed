/**
 * The contract between replication (sync/, net/) and the replica (store/, node.ts).
 * net/ moves opaque encoded records; it never decodes or verifies them itself: the replica does.
 * Feed keys and record ids are lowercase hex (64 digits).
 */
export type { FeedHead, ReceiveResult, ReceiveVerdict } from '../store/types.js'
import type { FeedHead, ReceiveResult } from '../store/types.js'

/** What the node exposes to replication. Implemented by node.ts over the store. */
export interface ReplicaAccess {
  /** Current heads of every feed this replica holds. */
  heads(): Promise<FeedHead[]>
  /** Encoded records of `feed` with seq in [fromSeq, fromSeq + limit), in order; fewer if the replica has fewer. */
  readRange(feed: string, fromSeq: number, limit: number): Promise<Uint8Array[]>
  /** Verify and append received records (in the given order). Never throws for bad input: each gets a verdict. */
  receive(records: Uint8Array[], fromPeer?: string): Promise<ReceiveResult[]>
  /** Encoded signed objects that travel besides feeds (roster versions, equivocation proofs). */
  extras(): Promise<Uint8Array[]>
  receiveExtra(bytes: Uint8Array, fromPeer?: string): Promise<ReceiveResult>
}

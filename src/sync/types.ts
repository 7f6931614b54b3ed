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
  /** Id of the record held at (feed, seq), if any (fork search compares it with the peer's). */
  idAt(feed: string, seq: number): Promise<string | undefined>
  /** Id of an encoded record from a peer, or undefined when it does not decode. */
  idOf(record: Uint8Array): string | undefined
  /** Feeds frozen at a fork: feed -> seq of its equivocation proof (docs/protocol.md, "Forks"). */
  forks(): Promise<ReadonlyMap<string, number>>
}

/**
 * Rejections that are the author's fault, never the relay's: a fork (two records at one seq), a record on
 * a frozen feed, or a record whose prev is not our head (the relay holds another branch). A relay is not
 * penalised for them; a sync session resolves the fork instead (net/sync-client.ts, sync/fork-search.ts).
 */
export const AUTHOR_FAULT_CODES: ReadonlySet<string> = new Set(['EQUIVOCATION', 'FEED_EQUIVOCATED', 'PREV_MISMATCH'])

/**
 * Every bound of the sync protocol (SYNC_PROTOCOL) and of gossip, as named constants.
 * Decoders enforce them on untrusted input; planners and servers respect them on output.
 */
import { RECORD_LIMITS } from '../constants.js'

export const SYNC_LIMITS = {
  /** Records asked for (and served) per range request. */
  maxRecordsPerRequest: 1024,
  /** A server stops adding records to one response past this many bytes (always sends at least one). */
  maxBatchBytes: 2 * 1024 * 1024,
  /** Largest frame either side accepts: a full batch plus envelope overhead. */
  maxMessageBytes: 2 * 1024 * 1024 + 64 * 1024,
  /** Largest single encoded record (the record codec's own bound). */
  maxRecordBytes: RECORD_LIMITS.maxRecordBytes,
  /** Largest single extra (roster version, equivocation proof). */
  maxExtraBytes: 1024 * 1024,
  /** Heads per heads response; more feeds are paginated with `after`. */
  maxHeadsPerMessage: 4096,
  /** Pages of heads a client fetches in one session (4096 x 64 = 262,144 feeds). */
  maxHeadPages: 64,
  /** Extras per extras response; more are paginated with `offset`. */
  maxExtrasPerMessage: 256,
  maxExtraPages: 64,
  /** Range requests a client keeps outstanding on one stream. */
  maxRequestsInFlight: 4,
  /** Received batches a client hands to its replica before the earlier ones are stored. */
  maxReceivesInFlight: 2,
  /** A client hands consecutive responses to its replica together, up to this many records (client side only). */
  recordsPerReceive: 1024,
  /** Range requests planned per round; later rounds re-plan from the replica's new heads. */
  maxRequestsPerRound: 1024,
  /** Rounds per session; a session that makes no progress in a round stops early. */
  maxRoundsPerSession: 32,
  /**
   * One-record requests a client spends per session looking for forks (sync/fork-search.ts): a binary
   * search costs log2(seq) of them, ~20 for a feed of a million records, so 256 covers a dozen forks.
   */
  maxForkProbesPerSession: 256,
  /** Length of the error message a server may send. */
  maxErrorMessageLength: 256,
} as const

export const GOSSIP_LIMITS = {
  /** One gossiped record (the validator rejects anything larger). */
  maxRecordBytes: RECORD_LIMITS.maxRecordBytes,
  /** One gossiped extra. */
  maxExtraBytes: SYNC_LIMITS.maxExtraBytes,
  /** One gossipsub RPC frame (may batch several messages). */
  maxRpcBytes: 4 * 1024 * 1024,
} as const

export const FIRST_SEQ = 1

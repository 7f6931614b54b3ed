/**
 * Format versions, signing domains and the one table of limits: every bound hashmesh puts on a signed or
 * wire object (records, rosters, extras, equivocation proofs, sync frames, gossip messages) and on the
 * HTTP edge that builds them. Decoders enforce these on untrusted input, builders and servers respect them
 * on output, and `api/schemas.ts` derives its request bounds from them. Imports nothing.
 *
 * Protocol ids and gossip topics live in `protocol-ids.ts`. The formats themselves are owned by `record/`
 * (records, rosters, equivocation proofs) and `sync/` (sync frames, extras), the only importers of
 * `@ipld/dag-cbor` and `cborg`.
 */

export const RECORD_FORMAT_VERSION = 1
/** Domain separation prefix for record signatures (never reused for any other signed object). */
export const RECORD_SIGNING_DOMAIN = 'hashmesh/record/v1\n'
export const ROSTER_SIGNING_DOMAIN = 'hashmesh/roster/v1\n'
/** Every feed starts at seq 1. */
export const FIRST_SEQ = 1

// ---------------------------------------------------------------- signed objects (record/)

export const RECORD_LIMITS = {
  maxRecordBytes: 256 * 1024,
  maxSignalsPerRecord: 1000,
  maxLabels: 32,
  maxLabelLength: 64,
  maxNoteLength: 1024,
  maxReasonLength: 256,
  /** vPDQ signal: frames per video and bytes of its encoded value. */
  maxVpdqFrames: 4096,
  /** A record's contentType: a lowercase word of at most this many characters. */
  maxContentTypeLength: 32,
  /** Quality of a signal or a vPDQ frame, 0 to this. */
  maxQuality: 100,
} as const

export const ROSTER_LIMITS = { maxMembers: 256, maxPeersPerMember: 16, maxNameLength: 64, maxBytes: 128 * 1024 } as const

export const STORE_LIMITS = {
  /** Out-of-order records kept per feed while waiting for the gap to fill. */
  maxPendingPerFeed: 4096,
  maxPendingTotal: 65536,
} as const

// ---------------------------------------------------------------- sync and gossip (sync/)

/** Heads per heads response, the longest list a sync frame may hold. */
const MAX_HEADS_PER_MESSAGE = 4096

/** Every bound of the sync protocol (SYNC_PROTOCOL): what one frame may hold and what one session may do. */
export const SYNC_LIMITS = {
  /** Records asked for (and served) per range request. */
  maxRecordsPerRequest: 1024,
  /** A server stops adding records to one response past this many bytes (always sends at least one). */
  maxBatchBytes: 2 * 1024 * 1024,
  /** Largest frame either side accepts: a full batch plus envelope overhead. */
  maxMessageBytes: 2 * 1024 * 1024 + 64 * 1024,
  /** Largest single encoded record (the record codec's own bound). */
  maxRecordBytes: RECORD_LIMITS.maxRecordBytes,
  /** Largest single extra (roster version, equivocation proof), on sync and gossip alike. */
  maxExtraBytes: 1024 * 1024,
  /** Heads per heads response; more feeds are paginated with `after`. */
  maxHeadsPerMessage: MAX_HEADS_PER_MESSAGE,
  /** Pages of heads a client fetches in one session (4096 x 64 = 262,144 feeds). */
  maxHeadPages: 64,
  /** Extras per extras response; more are paginated with `offset`. */
  maxExtrasPerMessage: 256,
  maxExtraPages: 64,
  /**
   * What the frame decoder counts while it decodes, before any list is built (sync/bounded-decode.ts):
   * items one list or map may announce (the longest legal list is a page of heads), nesting (message map >
   * heads list > head map) and values in all, keys and containers included (a full heads page: 7 per head,
   * 9 around them). A frame past any of them is refused at the token that crosses it.
   */
  maxFrameListItems: MAX_HEADS_PER_MESSAGE,
  maxFrameDepth: 3,
  maxFrameValues: 9 + 7 * MAX_HEADS_PER_MESSAGE,
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

// ---------------------------------------------------------------- the HTTP edge (api/schemas.ts)

/** Bounds of HTTP requests that are not a record's own (a request may make or carry many records). */
export const API_LIMITS = {
  /** Signals in one contribution request; the node splits them into records of maxSignalsPerRecord. */
  maxSignalsPerContribution: 100 * RECORD_LIMITS.maxSignalsPerRecord,
  /** Signals in one match request. */
  maxSignalsPerMatch: 1000,
  /**
   * Length of a signal value as text: twice the longest value's hex, so that a wrong value gets the
   * decoder's precise HASH_INVALID rather than a schema error.
   */
  maxSignalValueLength: 128,
  /** Comma-separated labels in a query string: every label at its longest. */
  maxLabelsQueryLength: RECORD_LIMITS.maxLabels * RECORD_LIMITS.maxLabelLength,
  /** Records in one import request. */
  maxImportRecords: 1000,
  /**
   * Length of one imported record as hex: above the hex of the largest record (2 x 262,144), so that an
   * oversized record gets the decoder's RECORD_TOO_LARGE verdict rather than a schema error.
   */
  maxImportRecordHexLength: 600_000,
  /** Records per page of GET /v1/feeds/:feed, and the page size when none is asked. */
  maxFeedPage: 1000,
  defaultFeedPage: 100,
} as const

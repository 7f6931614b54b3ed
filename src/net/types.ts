/** Public shapes of the network layer: what node.ts configures, calls and listens to. */
import type { ReplicaAccess, ReceiveResult, ReceiveVerdict } from '../sync/types.js'
import type { AbortOptions } from '../abort.js'
import type { ErrorCode } from '../errors.js'

export type NetLogger = (event: string, fields: Record<string, unknown>) => void

export interface NetworkInit {
  /** Protobuf-encoded libp2p private key (see generatePeerKey). */
  peerPrivateKey: Uint8Array
  listen: string[]
  announce: string[]
  /** Multiaddrs ending in /p2p/<peerId>; dialled at start and re-dialled on every sync tick when not connected. */
  bootstrap: string[]
  /** Keep private/loopback addresses (LAN, tests); when false they are neither dialled nor put in the DHT. */
  allowPrivateAddresses: boolean
  /** libp2p pnet key file bytes (see generatePsk); peers without the same key cannot connect. */
  psk?: Uint8Array
  federationId: string
  /** Roster gate, consulted on every connection attempt and every sync tick (the roster may change at runtime). */
  isAllowedPeer: (peerId: string) => boolean
  /** Peer ids of every member node in the current roster: those not connected are dialled (found in the DHT). */
  rosterPeers?: () => string[]
  replica: ReplicaAccess
  syncIntervalMs: number
  /** Gossip mesh degree D (gossipsub keeps D-1..D+2 mesh peers and gossips to D others); default 3. */
  meshDegree?: number
  /** Where bans outlive a restart; loaded at creation, saved on every new ban. The network does no file I/O of its own. */
  bans?: BanStore
  logger?: NetLogger
  /**
   * True while this node is not in the current roster (its members refuse it): no background dials or
   * sync sessions until a roster lists it again. Explicit syncNow and dial still run.
   */
  dormant?: () => boolean
  /** The incidents fast path (priority.ts); without it the node neither subscribes nor serves it. */
  priority?: PriorityAccess
}

/** What the incidents fast path (priority.ts) needs from the node. */
export interface PriorityAccess {
  /** An incidents-topic message (notice or record envelope): verified and kept, with a verdict. */
  receive(message: Uint8Array, fromPeer?: string): Promise<ReceiveResult & { notice?: boolean }>
  /** Envelopes of the notices of the incidents open here (sent to a peer that asks on connect). */
  openNotices(): Uint8Array[]
}

/** A ban as persisted: the peer, when it ends (ms since the epoch) and why. */
export interface BanEntry {
  peerId: string
  until: number
  reason: string
}

export interface BanStore {
  /** The bans saved last (expired ones are ignored); may throw, which is logged and leaves no bans. */
  load(): BanEntry[]
  /** Replace the saved bans with these (every ban still running); may throw, which is logged. */
  save(entries: BanEntry[]): void
}

/**
 * Why a connection was refused or failed. After authentication: notInRoster, banned. Before it (inbound,
 * only the source address known): badPsk (handshake failed with a pre-shared key in use), handshakeTimeout,
 * handshakeFailed (closed or garbled without a key in use), ipLimit (too many handshakes from one
 * address), rateLimit (too many new connections a second from one address), pendingLimit (the handshake
 * pool is full), evicted (a stalled handshake closed to make room).
 */
export type RefusalReason = 'notInRoster' | 'banned' | 'badPsk' | 'handshakeTimeout' | 'handshakeFailed' | 'ipLimit' | 'rateLimit' | 'pendingLimit' | 'evicted'

export interface PeerInfo {
  peerId: string
  addresses: string[]
  direction: 'inbound' | 'outbound'
  /** Invalid items received from this peer so far (resets after a ban). */
  invalid: number
  lastSyncAt?: number
  /** Round-trip time of the connection's last ping (libp2p's connection monitor), ms. */
  rttMs?: number
}

export type VerdictCounts = Record<ReceiveVerdict, number>

export interface PeerSyncReport {
  peerId: string
  ok: boolean
  /** Set when the session failed: TIMEOUT, PROTOCOL, RATE_LIMITED, PEER_BANNED, PEER_REFUSED, INTERNAL... */
  error?: { code: ErrorCode; message: string }
  /** Range requests sent and records received. */
  requests: number
  records: VerdictCounts
  extras: VerdictCounts
  /** Records the peer announced beyond my heads at the start of the session. */
  missingAtStart: number
  /** Feeds where both sides hold a different record at the same seq. */
  diverged: number
  /** Forks found with this peer (sync/fork-search.ts) and handed to the replica as proofs. */
  forks: number
  durationMs: number
  /** The peer's feed heads as it announced them at the start of the session (what it has: the console's "here vs peers"). */
  peerHeads?: Array<{ feed: string; seq: number }>
}

export interface SyncReport {
  peers: PeerSyncReport[]
  records: VerdictCounts
  extras: VerdictCounts
  failed: number
}

export interface NetMetrics {
  peersConnected: number
  /** Refused and failed connections in all (the sum of connectionsRefusedByReason). */
  connectionsRefused: number
  connectionsRefusedByReason: Record<RefusalReason, number>
  /** Inbound connections in their handshake now, the addresses they come from, member addresses known. */
  inbound: { pending: number; pendingAddresses: number; memberAddresses: number }
  /** Dials of roster peers we were not connected to (roster-dialer.ts), and how many of them failed. */
  rosterDials: number
  rosterDialFailures: number
  gossip: {
    published: number
    publishedExtras: number
    /** Publishes with nobody subscribed yet: the record is stored, sync will deliver it. */
    publishNoPeers: number
    publishErrors: number
    records: VerdictCounts
    extras: VerdictCounts
    oversized: number
    /** Records of authors not in our roster, held until a sync with the relay (and its roster) settled them. */
    heldForRoster: number
  }
  sync: {
    sessionsStarted: number
    sessionsSucceeded: number
    sessionsFailed: number
    requestsSent: number
    records: VerdictCounts
    extras: VerdictCounts
    requestsServed: number
    recordsServed: number
    /** Incoming requests answered late to hold a peer to its rate, and refused outright. */
    requestsDelayed: number
    requestsRateLimited: number
    protocolErrors: number
    timeouts: number
    /** Forks found by sync sessions (sync/fork-search.ts). */
    forksFound: number
  }
  hygiene: {
    invalidTotal: number
    bansTotal: number
    invalidByPeer: Record<string, number>
    bannedUntil: Record<string, number>
  }
}

export interface NetworkEvents {
  'peer:connect': { peerId: string }
  'peer:disconnect': { peerId: string }
  'peer:banned': { peerId: string; until: number; reason: string }
  synced: PeerSyncReport
}

export interface Network {
  readonly peerId: string
  start(): Promise<void>
  stop(): Promise<void>
  multiaddrs(): string[]
  /** Gossip an encoded record already stored locally. Never throws for lack of peers (sync delivers it later). */
  publish(record: Uint8Array, options?: AbortOptions): Promise<void>
  /** Gossip an encoded extra (roster version, equivocation proof) already stored locally. */
  publishExtra(bytes: Uint8Array, options?: AbortOptions): Promise<void>
  /** An incidents-topic envelope to every connected subscriber (priority.ts); false when nobody got it. */
  publishPriority?(message: Uint8Array): Promise<boolean>
  /** Counters of the incidents fast path, when it runs. */
  priorityCounters?(): Record<string, number>
  peers(): PeerInfo[]
  /** Dial a multiaddr (with /p2p/<id>); throws PEER_REFUSED, PEER_BANNED or NODE_UNREACHABLE. */
  dial(multiaddr: string, options?: AbortOptions): Promise<string>
  /** Run a sync session with one peer (dialling it if needed), or with every connected peer; waits for any session already running. Background sessions (on connect, each interval) never dial. */
  syncNow(peerId?: string, options?: AbortOptions): Promise<SyncReport>
  /** Close connections to peers the roster no longer allows (also done on every sync tick). */
  enforceRoster(): Promise<void>
  metrics(): NetMetrics
  on<E extends keyof NetworkEvents>(event: E, listener: (detail: NetworkEvents[E]) => void): () => void
}

export function emptyVerdicts(): VerdictCounts {
  return { accepted: 0, duplicate: 0, pending: 0, rejected: 0 }
}

export function addVerdicts(into: VerdictCounts, from: VerdictCounts): void {
  into.accepted += from.accepted
  into.duplicate += from.duplicate
  into.pending += from.pending
  into.rejected += from.rejected
}

/**
 * The use cases of a member's node: one contract for every caller. Implemented in process by NodeService
 * (service.ts, which the HTTP routes call too) and over HTTP by the CLI's client (cli/http-client.ts)
 * while a node runs on the data directory. Shapes are what the HTTP API carries (JSON); bytes travel as
 * hex (records) or raw (media). Every method takes `{ signal }` (abort.ts); input is validated once, in
 * NodeService, so both implementations answer bad input with the same error code.
 */
import type { PeerInfo } from '../net/types.js'
import type { MatchedSignal } from '../match/matcher.js'
import type { SignedRoster } from '../record/roster.js'
import type { OpinionBody, RevokeReason, SignalType } from '../record/types.js'
import type { FeedHead, ReceiveResult } from '../sync/types.js'
import type { AbortOptions } from './abort.js'
import type { BanksApi } from './banks-contract.js'
import type { ContributionInput } from './contribute.js'
import type { MediaFingerprint } from './media.js'
import type { NetworkView } from './network-wiring.js'
import type { ContributionResult } from './node.js'
import type { EquivocationView, NodeStatus } from './status.js'
import type { RecordView } from './views.js'

export type { AbortOptions } from './abort.js'
export type * from './banks-contract.js'
export type { PeerInfo } from '../net/types.js'
export type { ContributionInput } from './contribute.js'
export type { ContributionResult } from './node.js'
export type { RecordView } from './views.js'

export type StatusView = NodeStatus & { replicaDigest: string; network: NetworkView | null }
export interface FeedPage { feed: string; head: { seq: number; id: string }; records: RecordView[] }
export interface RevokeRequest { signal?: number; reason?: RevokeReason }
export interface MatchRequest { signals: Array<{ type: SignalType; value: string }>; threshold?: number }
export interface MatchResponse { matches: MatchedSignal[] }
/** Query of the media routes (labels comma-separated, as in the query string). */
export interface MediaQuery { labels?: string; contentType?: string; note?: string; dihedral?: boolean; threshold?: number }
export interface MediaMatchResponse { query: MediaFingerprint; matches: MatchedSignal[] }
export type MediaContributionResult = ContributionResult & { fingerprint: MediaFingerprint }
export interface RosterView { pin: string | null; versions: SignedRoster[] }
/** The verdict on a roster version, with the version itself when it was accepted. */
export type InstallRosterResult = ReceiveResult & { roster?: SignedRoster }
/** A roster as JSON (record/roster.ts rosterFromJson). */
export type RosterJson = { document: unknown; signatures: Array<{ key: string; signature: string }> }

export interface NodeApi {
  readonly mode: 'local' | 'remote'
  status(options?: AbortOptions): Promise<StatusView>
  peers(options?: AbortOptions): Promise<PeerInfo[]>
  contribute(input: ContributionInput, options?: AbortOptions): Promise<ContributionResult>
  revoke(id: string, request: RevokeRequest, options?: AbortOptions): Promise<RecordView>
  opinion(body: OpinionBody, options?: AbortOptions): Promise<RecordView>
  record(id: string, options?: AbortOptions): Promise<RecordView>
  feeds(options?: AbortOptions): Promise<FeedHead[]>
  feed(feed: string, page: { from?: number; limit?: number }, options?: AbortOptions): Promise<FeedPage>
  /** Records as hex (an export's `bytes`); each gets a verdict, a line that is not hex included. */
  importRecords(recordsHex: string[], options?: AbortOptions): Promise<ReceiveResult[]>
  match(request: MatchRequest, options?: AbortOptions): Promise<MatchResponse>
  hashMedia(bytes: Uint8Array, query: MediaQuery, options?: AbortOptions): Promise<MediaFingerprint>
  matchMedia(bytes: Uint8Array, query: MediaQuery, options?: AbortOptions): Promise<MediaMatchResponse>
  contributeMedia(bytes: Uint8Array, query: MediaQuery, options?: AbortOptions): Promise<MediaContributionResult>
  roster(options?: AbortOptions): Promise<RosterView>
  /** Installs a roster version; a rejected one is an error (its code), accepted/duplicate/pending a verdict. */
  installRoster(roster: RosterJson, options?: AbortOptions): Promise<InstallRosterResult>
  equivocations(options?: AbortOptions): Promise<EquivocationView[]>
  /** Banks: curated collections of signals, local, negative or shared (banks-contract.ts). */
  readonly banks: BanksApi
  close(): Promise<void>
}

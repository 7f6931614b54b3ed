/**
 * NodeApi in process, over a HashmeshNode: what the HTTP routes call and what the CLI uses when no node
 * runs on the data directory. The one place that turns contract input into use-case calls: ids and feed
 * keys lowercased, hex records checked, labels split, roster JSON decoded, default reasons applied.
 */
import { fail } from '../errors.js'
import { fromHex } from '../record/crypto.js'
import { encodeSignedRoster, rosterFromJson } from '../record/roster.js'
import type { OpinionBody } from '../record/types.js'
import type { ReceiveResult } from '../sync/types.js'
import type { DecodeGate } from '../hash/decode-gate.js'
import { checkAborted, type AbortOptions } from './abort.js'
import type {
  FeedPage, InstallRosterResult, MatchRequest, MatchResponse, MediaContributionResult, MediaMatchResponse, MediaQuery, NodeApi, RevokeRequest, RosterJson, RosterView, StatusView,
} from './contract.js'
import type { ContributionInput } from './contribute.js'
import { contributionSignals, createDecodeGate, fingerprintMedia, matchQueries, type MediaFingerprint } from './media.js'
import type { HashmeshNode } from './node.js'
import { recordView, type RecordView } from './views.js'
import { BanksService, type UrlFetchSeams } from './banks-service.js'
import { LocalBanks } from './banks-api.js'
import type { ActivityView } from './activity.js'
import { RosterProposals, type RosterProposalView } from './roster-proposals.js'

const HEX_RECORD = /^([0-9a-fA-F]{2})*$/
const NOT_HEX: ReceiveResult = { verdict: 'rejected', code: 'RECORD_DECODE', message: 'record is not an even number of hex digits' }

export interface ServiceOptions {
  /** Where media decodes wait for a slot (bounded memory); by default one from the node's config. */
  decodeGate?: DecodeGate
  /** Close the node with the service (the CLI's in-process client); the HTTP server closes it itself. */
  ownsNode?: boolean
  /** Calls come from the operator at the data directory (the CLI), who may install and pin a genesis roster. */
  operator?: boolean
  /** Test-only seams of the HMA routes' `?url=` fetcher. */
  urlFetch?: UrlFetchSeams
}

export class NodeService implements NodeApi {
  readonly mode = 'local'
  private readonly gate: DecodeGate
  private banksServiceInstance: BanksService | undefined
  private localBanks: LocalBanks | undefined
  private readonly proposals: RosterProposals

  constructor(readonly node: HashmeshNode, private readonly options: ServiceOptions = {}) {
    this.gate = options.decodeGate ?? createDecodeGate(node.config)
    this.proposals = new RosterProposals({
      current: () => node.rosterView().current,
      signer: node.signer,
      install: async (json) => node.installRoster(encodeSignedRoster(rosterFromJson(JSON.stringify(json))), false),
    })
  }

  /** The last `minutes` minutes of activity (console charts) and what each peer announced at its last sync. */
  async activity(minutes?: number): Promise<ActivityView> {
    return this.node.activity.view(minutes)
  }

  /** Roster proposals held for signing (roster-proposals.ts). */
  async rosterProposals(): Promise<RosterProposalView[]> {
    return this.proposals.list()
  }

  async addRosterProposal(roster: RosterJson): Promise<RosterProposalView> {
    return this.proposals.add(roster)
  }

  signRosterProposal(id: string) {
    return this.proposals.sign(id)
  }

  /** The node's banks (the HMA routes call it): decodes go through this service's gate, one per node API. */
  get banksService(): BanksService {
    return (this.banksServiceInstance ??= new BanksService(this.node, { decodeGate: this.gate, urlFetch: this.options.urlFetch }))
  }

  /** The /v1 banks contract (banks-contract.ts). */
  get banks(): LocalBanks {
    return (this.localBanks ??= new LocalBanks(this.banksService))
  }

  async status(): Promise<StatusView> {
    return { ...this.node.status(), replicaDigest: await this.node.replicaDigest(), network: this.node.networkStatus() }
  }

  async peers() {
    return this.node.net?.peers() ?? []
  }

  contribute(input: ContributionInput, options: AbortOptions = {}) {
    return this.node.contribute(input, options)
  }

  async revoke(id: string, request: RevokeRequest, options: AbortOptions = {}): Promise<RecordView> {
    const record = await this.node.revoke(id.toLowerCase(), { signal: request.signal, reason: request.reason ?? 'mistake' }, options)
    return recordView(await this.node.getRecord(record.id))
  }

  async opinion(body: OpinionBody, options: AbortOptions = {}): Promise<RecordView> {
    const record = await this.node.opinion(body, options)
    return recordView(await this.node.getRecord(record.id))
  }

  async record(id: string, options: AbortOptions = {}): Promise<RecordView> {
    return recordView(await this.node.getRecord(id.toLowerCase(), options))
  }

  async feeds() {
    return this.node.feedHeads()
  }

  async feed(feed: string, page: { from?: number; limit?: number }, options: AbortOptions = {}): Promise<FeedPage> {
    const key = feed.toLowerCase()
    const head = this.node.head(key)
    if (!head) fail('NOT_FOUND', `no feed ${key}`)
    return { feed: key, head, records: (await this.node.feedRecords(key, page.from ?? 1, page.limit ?? 100, options)).map(recordView) }
  }

  async importRecords(recordsHex: string[], options: AbortOptions = {}): Promise<ReceiveResult[]> {
    checkAborted(options.signal)
    // Non-hex entries get their own verdict (they used to reach the decoder as 0 bytes: "record is empty").
    const isHex = recordsHex.map((hex) => typeof hex === 'string' && HEX_RECORD.test(hex))
    const received = await this.node.receive(recordsHex.filter((_, i) => isHex[i]).map((hex) => fromHex(hex, hex.length / 2, 'record')))
    return isHex.map((ok) => (ok ? received.shift()! : NOT_HEX))
  }

  async match(request: MatchRequest, options: AbortOptions = {}): Promise<MatchResponse> {
    const queries = request.signals.map((s) => ({ type: s.type, value: s.value }))
    return { matches: await this.node.match(queries, { threshold: request.threshold, signal: options.signal }) }
  }

  hashMedia(bytes: Uint8Array, query: MediaQuery, options: AbortOptions = {}): Promise<MediaFingerprint> {
    return fingerprintMedia(bytes, this.node.config, { dihedral: query.dihedral, gate: this.gate, signal: options.signal })
  }

  async matchMedia(bytes: Uint8Array, query: MediaQuery, options: AbortOptions = {}): Promise<MediaMatchResponse> {
    const fp = await this.hashMedia(bytes, query, options)
    const matches = await this.node.match(matchQueries(fp, this.node.config), { threshold: query.threshold, signal: options.signal })
    return { query: fp, matches }
  }

  async contributeMedia(bytes: Uint8Array, query: MediaQuery, options: AbortOptions = {}): Promise<MediaContributionResult> {
    const fp = await fingerprintMedia(bytes, this.node.config, { gate: this.gate, signal: options.signal })
    const labels = query.labels ? query.labels.split(',').map((l) => l.trim()).filter(Boolean) : []
    const result = await this.node.contribute({ signals: contributionSignals(fp), labels, contentType: query.contentType, note: query.note }, options)
    return { ...result, fingerprint: fp }
  }

  async roster(): Promise<RosterView> {
    const { pin, versions } = this.node.rosterView()
    return { pin, versions }
  }

  async installRoster(roster: RosterJson, options: AbortOptions = {}): Promise<InstallRosterResult> {
    const decoded = rosterFromJson(JSON.stringify(roster))
    const result = await this.node.installRoster(encodeSignedRoster(decoded), this.options.operator ?? false, options)
    if (result.verdict === 'rejected') fail(result.code ?? 'ROSTER_INVALID', result.message ?? 'roster rejected')
    return result
  }

  equivocations() {
    return this.node.equivocations()
  }

  async close(): Promise<void> {
    if (this.options.ownsNode) await this.node.close()
  }
}

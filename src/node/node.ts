/**
 * The composition root: one member's node. It owns the identity, the config, the replica store, the roster
 * view and (when started) the network and the match index, and offers the use cases the API and CLI call:
 * contribute, revoke, opinion, receive/import, read, match, roster.
 */
import { writeFileSync, readFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { loadConfig, loadTaxonomy, NODE_CONFIG_FILE, type Config, type ConfigOverrides } from '../config.js'
import { fail } from '../errors.js'
import { createRecord } from '../record/build.js'
import { decodeRecord } from '../record/codec.js'
import { Signer } from '../record/crypto.js'
import { ParallelVerifier } from '../record/parallel-verify.js'
import { encodeSignedRoster, type SignedRoster } from '../record/roster.js'
import type { OpinionBody, RevokeReason, SignedRecord, VerifiedRecord } from '../record/types.js'
import { ReplicaStore } from '../store/replica-store.js'
import { Matcher, type MatchedSignal, type QuerySignal } from '../match/matcher.js'
import type { ReceiveResult } from '../sync/types.js'
import { replicaDigest, type DigestFeed } from '../sync/digest.js'
import { planContribution, type ContributionInput } from './contribute.js'
import { FILES, loadIdentity, type Identity } from './identity.js'
import { receiveRecords } from './receive.js'
import { RosterState } from './roster-state.js'

export interface NodeOptions { overrides?: ConfigOverrides; env?: NodeJS.ProcessEnv }

export interface ContributionResult {
  records: Array<{ id: string; seq: number; signals: number }>
  skipped: Array<{ type: string; value: string; quality?: number; reason: string }>
}

export class HashmeshNode {
  readonly signer: Signer
  private matcher: Matcher | undefined
  private verifier: ParallelVerifier | undefined
  private readonly ownRecordListeners: Array<(records: VerifiedRecord[]) => void> = []
  private readonly rosterListeners: Array<(roster: Uint8Array) => void> = []

  private constructor(
    readonly identity: Identity,
    readonly config: Config,
    readonly store: ReplicaStore,
    readonly roster: RosterState,
  ) {
    this.signer = new Signer(identity.memberKeyPair)
  }

  static async open(dataDir: string, options: NodeOptions = {}): Promise<HashmeshNode> {
    const identity = loadIdentity(dataDir)
    const config = loadConfig({ dataDir: identity.dataDir, env: options.env, overrides: options.overrides })
    const store = await ReplicaStore.open(join(identity.dataDir, FILES.db))
    const roster = new RosterState(config.p2p.rosterGenesis, identity.memberKey)
    for (const bytes of await store.rosterVersions()) roster.accept(bytes)
    return new HashmeshNode(identity, config, store, roster)
  }

  get memberKey(): string {
    return this.identity.memberKey
  }

  /** Called with each batch of the node's own new records (the network publishes them). */
  onOwnRecords(listener: (records: VerifiedRecord[]) => void): void {
    this.ownRecordListeners.push(listener)
  }

  /** Called with each newly accepted roster version (encoded), e.g. to gossip it and re-check connections. */
  onRosterChange(listener: (roster: Uint8Array) => void): void {
    this.rosterListeners.push(listener)
  }

  private async appendOwn(build: (head: { seq: number; id: string | null }) => VerifiedRecord[]): Promise<VerifiedRecord[]> {
    const records = await this.store.appendOwn(this.memberKey, build)
    for (const listener of this.ownRecordListeners) listener(records)
    return records
  }

  async contribute(input: ContributionInput): Promise<ContributionResult> {
    const plan = planContribution(input, loadTaxonomy(), this.config.hash)
    const now = Date.now()
    const records = await this.appendOwn((head) => {
      const out: VerifiedRecord[] = []
      let position = head
      for (const body of plan.bodies) {
        const rec = createRecord(this.signer, position, 'signals', body, now)
        out.push(rec)
        position = { seq: rec.record.seq, id: rec.record.id }
      }
      return out
    })
    return {
      records: records.map(({ record }) => ({ id: record.id, seq: record.seq, signals: record.kind === 'signals' ? record.body.signals.length : 0 })),
      skipped: plan.skipped,
    }
  }

  async revoke(targetId: string, options: { signal?: number; reason: RevokeReason }): Promise<SignedRecord> {
    const target = await this.store.getRecord(targetId)
    if (!target) fail('NOT_FOUND', `no record ${targetId}`)
    if (target.record.author !== this.memberKey) fail('REVOKE_NOT_AUTHOR', 'only the author of a record can revoke its signals')
    if (target.record.kind !== 'signals') fail('RECORD_INVALID', `record ${targetId} is a ${target.record.kind} record, not signals`)
    if (options.signal !== undefined && (options.signal < 0 || options.signal >= target.record.body.signals.length)) {
      fail('NOT_FOUND', `record ${targetId} has no signal ${options.signal}`)
    }
    const body = { target: targetId, reason: options.reason, ...(options.signal !== undefined ? { signal: options.signal } : {}) }
    const [rec] = await this.appendOwn((head) => [createRecord(this.signer, head, 'revoke', body)])
    return rec!.record
  }

  async opinion(body: OpinionBody): Promise<SignedRecord> {
    const [rec] = await this.appendOwn((head) => [createRecord(this.signer, head, 'opinion', { ...body, signal: { ...body.signal, value: body.signal.value.toLowerCase() } })])
    return rec!.record
  }

  /** Verifies and appends records from outside (gossip, sync, import). Never throws for bad input. */
  receive(items: Uint8Array[]): Promise<ReceiveResult[]> {
    this.verifier ??= new ParallelVerifier()
    return receiveRecords(this.store, this.verifier, (key) => this.roster.isMember(key), items)
  }

  async getRecord(id: string): Promise<VerifiedRecord> {
    const rec = await this.store.getRecord(id)
    if (!rec) fail('NOT_FOUND', `no record ${id}`)
    return rec
  }

  async feedRecords(feed: string, fromSeq: number, limit: number): Promise<VerifiedRecord[]> {
    return (await this.store.readRange(feed, fromSeq, limit)).map((bytes) => ({ record: decodeRecord(bytes).record, bytes }))
  }

  /** Starts the signature-verification worker now (a running node), not on the first received batch. */
  startVerifier(): void {
    this.verifier ??= new ParallelVerifier()
  }

  /** Builds the match index from the store (logged progress) and keeps it current from then on. */
  async enableMatching(progress?: (done: number) => void): Promise<{ signals: number; ms: number }> {
    if (this.matcher) return { signals: this.matcher.catalog.size, ms: 0 }
    const started = performance.now()
    const { match } = this.config
    this.matcher = new Matcher(this.store, {
      policy: {
        members: match.members,
        minQuality: match.minQuality,
        ignoreDisputed: match.ignoreDisputed,
        ignoreFalsePositive: match.ignoreFalsePositive,
        minAgreeingMembers: match.minAgreeingMembers,
        actOnEquivocated: match.actOnEquivocated,
      },
      pdqThreshold: match.pdqThreshold,
      isMember: (key) => this.roster.isMember(key),
      memberName: (key) => this.memberName(key),
      video: { frameThreshold: match.vpdqFrameThreshold, queryPercent: this.config.video.matchQueryPercent, candidatePercent: this.config.video.matchCandidatePercent },
    })
    const signals = await this.matcher.rebuild(progress)
    return { signals, ms: performance.now() - started }
  }

  async match(queries: QuerySignal[], options: { threshold?: number } = {}): Promise<MatchedSignal[]> {
    if (!this.matcher) fail('INTERNAL', 'matching is not enabled on this node')
    return this.matcher.match(queries, options)
  }

  indexStats(): { ready: boolean; pdqHashes: number; memoryBytes: number } {
    return { ready: this.matcher?.isReady ?? false, pdqHashes: this.matcher?.catalog.size ?? 0, memoryBytes: this.matcher?.catalog.memoryBytes() ?? 0 }
  }

  /** Installs a roster version. `trustLocal` (operator action) may install and pin the genesis. */
  async installRoster(bytes: Uint8Array, trustLocal = false): Promise<ReceiveResult & { roster?: SignedRoster }> {
    const result = this.roster.accept(bytes, trustLocal)
    if (result.verdict === 'accepted' && result.roster) {
      const encoded = encodeSignedRoster(result.roster)
      await this.store.putRosterVersion(result.roster.document.serial, encoded)
      if (result.roster.document.serial === 1) this.pinGenesis(result.roster.id)
      for (const listener of this.rosterListeners) listener(encoded)
    }
    return result
  }

  private pinGenesis(id: string): void {
    const path = join(this.identity.dataDir, NODE_CONFIG_FILE)
    const current = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, Record<string, unknown>>) : {}
    if (current.p2p?.rosterGenesis === id) return
    current.p2p = { ...(current.p2p ?? {}), rosterGenesis: id }
    writeFileSync(path, JSON.stringify(current, null, 2) + '\n')
  }

  memberName(key: string): string | undefined {
    return key === this.memberKey ? this.identity.name : this.roster.memberName(key)
  }

  status(): Record<string, unknown> {
    const counts = this.store.getCounts()
    const roster = this.roster.current
    return {
      member: { name: this.identity.name, key: this.memberKey },
      peerId: this.identity.peerId,
      records: counts.records,
      signals: counts.signals,
      recordsByKind: counts.byKind,
      feeds: counts.feeds,
      heads: this.store.feedHeads().map((h) => ({ ...h, member: this.memberName(h.feed) ?? null, equivocating: this.store.isEquivocating(h.feed), forkSeq: this.store.forkSeq(h.feed) ?? null })),
      pending: counts.pending,
      equivocations: counts.equivocations,
      index: this.indexStats(),
      roster: roster ? { federation: roster.document.federation, serial: roster.document.serial, id: roster.id, members: roster.document.members.length } : null,
    }
  }

  /** The replica digest (sync/digest.ts): equal on honest nodes that have exchanged everything. */
  async replicaDigest(): Promise<string> {
    const proofs = new Map((await this.store.equivocationProofs()).map((p) => [p.feed, p]))
    const feeds: DigestFeed[] = []
    for (const head of this.store.feedHeads()) {
      const proof = proofs.get(head.feed)
      if (!proof) feeds.push(head)
      else feeds.push({ feed: head.feed, forkSeq: proof.seq, prefixId: proof.seq > 1 ? await this.store.idAtSeq(head.feed, proof.seq - 1) : '', proofIds: proof.ids })
      proofs.delete(head.feed)
    }
    // a proof can arrive (as an extra) before any record of its feed
    for (const proof of proofs.values()) feeds.push({ feed: proof.feed, forkSeq: proof.seq, prefixId: proof.seq > 1 ? undefined : '', proofIds: proof.ids })
    return replicaDigest(feeds)
  }

  /** Every flagged feed's best equivocation proof, for audits (both records, base64, ascending ids). */
  async equivocations(): Promise<Array<{ feed: string; member: string | null; seq: number; ids: [string, string]; records: [string, string] }>> {
    return (await this.store.equivocationProofs()).map((p) => ({
      feed: p.feed,
      member: this.memberName(p.feed) ?? null,
      seq: p.seq,
      ids: p.ids,
      records: [Buffer.from(p.records[0]).toString('base64'), Buffer.from(p.records[1]).toString('base64')],
    }))
  }

  async close(): Promise<void> {
    await this.verifier?.close()
    await this.store.close()
  }
}

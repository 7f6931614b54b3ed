/**
 * The composition root: one member's node. How it fits together:
 *
 *   open(dir)   identity, config, the replica store (LevelDB), the roster chain it holds
 *   start()     signature-verifier worker, match index (rebuilt from the store, then kept current by the
 *               store's commits), and the p2p network when a roster is installed (network-wiring.ts)
 *   use cases   contribute, revoke, opinion, receive (import, gossip, sync), read, match, roster, status
 *   stop()      network, verifier, store, in that order
 *
 * The store and the roster are private: callers (api/, cli/, tests) use the methods here or the use-case
 * contract (contract.ts, service.ts). Tests and benchmarks that must reach the store use NODE_INTERNALS.
 */
import { writeFileSync, readFileSync, existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { loadConfig, loadTaxonomy, NODE_CONFIG_FILE, type Config, type ConfigOverrides } from '../config.js'
import { fail } from '../errors.js'
import type { Network } from '../net/index.js'
import { createRecord } from '../record/build.js'
import { decodeRecord } from '../record/codec.js'
import { Signer } from '../record/crypto.js'
import { ParallelVerifier } from '../record/parallel-verify.js'
import { encodeSignedRoster, type SignedRoster } from '../record/roster.js'
import type { OpinionBody, RevokeReason, SignedRecord, VerifiedRecord } from '../record/types.js'
import { openLevel, type KeyValueStore } from '../store/level-db.js'
import { ReplicaStore, type EquivocationProof } from '../store/replica-store.js'
import { Matcher, type MatchedSignal, type MatchOptions, type QuerySignal } from '../match/matcher.js'
import { PdqCatalog } from '../match/pdq-catalog.js'
import { ExactPdqHolder, type BankPdqHolder } from '../bank/pdq-holder.js'
import { IncidentPropagation } from './incident-propagation.js'
import type { FeedHead, ReceiveResult } from '../sync/types.js'
import type { BackgroundPriority } from '../thread-priority.js'
import { planContribution, type ContributionInput } from './contribute.js'
import { allExtras, receiveExtra, type ExtrasParts } from './extras.js'
import { FILES, loadIdentity, type Identity } from './identity.js'
import { silentLog, type NodeLog } from './log.js'
import { flatCounters, networkView, startNetwork, type NetworkView, type WiringParts } from './network-wiring.js'
import { receiveRecords } from './receive.js'
import { RosterState } from './roster-state.js'
import { equivocationViews, replicaDigestOf, statusOf, type EquivocationView, type NodeStatus } from './status.js'
import { checkAborted, type AbortOptions } from './abort.js'
import { LocalControls, quarantineSettings } from '../match/local-controls.js'
import { logLocalControls } from './local-controls-log.js'
import { IncidentBook } from './incidents.js'
import { incidentWiring } from './incident-wiring.js'
import { ActivityLog } from './activity.js'

export interface NodeOptions {
  overrides?: ConfigOverrides
  env?: NodeJS.ProcessEnv
  /**
   * False for a process that writes banks and never matches (an offline `hashmesh import`): bank content's
   * PDQ hashes are then kept for exact duplicate checks only, and no match index is built (a node builds
   * it from the store when it starts). A node opened so must not be started.
   */
  bankMatching?: boolean
}

export interface StartOptions {
  log?: NodeLog
  /** Log `record.stored` (trace) for every stored record; off unless the logger keeps trace lines. */
  traceRecords?: boolean
}

/** A service that runs while the node runs (node/exchanges.ts): started after the network, stopped before it. */
export interface AttachedService { start(log: NodeLog): Promise<void>; stop(): Promise<void> }

export interface ContributionResult {
  records: Array<{ id: string; seq: number; signals: number }>
  skipped: Array<{ type: string; value: string; quality?: number; reason: string }>
}

/** Test and benchmark access to a node's private parts. */
export const NODE_INTERNALS = Symbol('hashmesh.node.internals')
export interface NodeInternals { store: ReplicaStore; roster: RosterState }

export class HashmeshNode {
  readonly signer: Signer
  /** The last 24 h minute by minute (in memory): what the console charts. */
  readonly activity: ActivityLog
  /** Which members hold each open incident's contributions, from the peers' sync reports (incident-propagation.ts). */
  readonly incidentPropagation: IncidentPropagation
  private matcher: Matcher | undefined
  /** Every PDQ hash the node knows, federation and banks alike (match/pdq-catalog.ts); the matcher and the banks share it. */
  private readonly pdqCatalog: PdqCatalog
  private verifier: ParallelVerifier | undefined
  private network: Network | undefined
  private state: 'open' | 'started' | 'closed' = 'open'
  private startingNow = false
  private readonly ownRecordListeners: Array<(records: VerifiedRecord[]) => void> = []
  private readonly rosterListeners: Array<(roster: Uint8Array) => void> = []
  private readonly services: AttachedService[] = []
  /** Ends prepareStart()'s hold on the index build process (start() and stop() call it). */
  private releaseBuildProcess: () => Promise<void> = () => Promise.resolve()
  private buildProcessHeld = false
  /** Stops completePdqColumns (see startParts) when the node stops. */
  private readonly columnsDone = new AbortController()
  /**
   * prepareStart()'s: its threads and process have loaded their modules; with the priority the index build
   * process could give itself (undefined: none for this store).
   */
  private prepared: Promise<BackgroundPriority | undefined> = Promise.resolve(undefined)
  /** Set once start() has started the attached services (with its log). */
  private servicesLog: NodeLog | undefined

  private constructor(
    readonly identity: Identity,
    readonly config: Config,
    private readonly store: ReplicaStore,
    private readonly roster: RosterState,
    /** The replica's key-value store, shared with the banks (bank/bank-store.ts, keys under bank!). */
    private readonly kv: KeyValueStore,
    /** Switches and flood quarantine: this node's own say over what matches (match/local-controls.ts). */
    readonly localControls: LocalControls,
    /** Incident notices and the contributions naming each incident (incidents.ts). */
    readonly incidents: IncidentBook,
    /** Where bank content's PDQ hashes go when they are not matched (NodeOptions.bankMatching). */
    private readonly bankPdqWithoutMatching?: BankPdqHolder,
  ) {
    this.pdqCatalog = new PdqCatalog({ buildPriority: config.match.indexBuildPriority })
    this.signer = new Signer(identity.memberKeyPair)
    this.activity = new ActivityLog(identity.memberKey)
    this.incidentPropagation = new IncidentPropagation(incidents)
    store.onCommit((records) => this.activity.recordsCommitted(records))
  }

  static async open(dataDir: string, options: NodeOptions = {}): Promise<HashmeshNode> {
    const identity = loadIdentity(dataDir)
    const config = loadConfig({ dataDir: identity.dataDir, env: options.env, overrides: options.overrides })
    const dbPath = join(identity.dataDir, FILES.db)
    mkdirSync(dbPath, { recursive: true })
    // Opened here rather than by ReplicaStore.open so the banks can share it (bankStorage()).
    const kv = await openLevel(dbPath)
    const store = await ReplicaStore.openWith(kv)
    const roster = new RosterState(config.p2p.rosterGenesis, identity.memberKey)
    for (const bytes of await store.rosterVersions()) roster.accept(bytes)
    const incidents = await IncidentBook.open(kv, (key) => roster.isMember(key))
    store.onCommit((records) => incidents.observe(records))
    const localControls = await LocalControls.open(store, kv, quarantineSettings(config.quarantine), identity.memberKey, (record) => incidents.incidentOf(record))
    return new HashmeshNode(identity, config, store, roster, kv, localControls, incidents, options.bankMatching === false ? new ExactPdqHolder() : undefined)
  }

  get [NODE_INTERNALS](): NodeInternals {
    return { store: this.store, roster: this.roster }
  }

  /** The key-value store the banks keep their keys in (bank!…); the replica owns and closes it. */
  bankStorage(): KeyValueStore {
    return this.kv
  }

  /** The one PDQ catalog: the federation's signals (once matching is enabled) and the banks' content. */
  bankPdqIndex(): BankPdqHolder {
    return this.bankPdqWithoutMatching ?? this.pdqCatalog
  }

  get memberKey(): string {
    return this.identity.memberKey
  }

  /** The running p2p network (undefined before start() or without a roster). */
  get net(): Network | undefined {
    return this.network
  }

  // ---- lifecycle ----

  /** True while start() runs (index rebuild, network): the HTTP API answers only its status routes meanwhile. */
  get starting(): boolean {
    return this.startingNow
  }

  /** Starts everything a member runs: verifier, match index, network. A node starts once. */
  async start(options: StartOptions = {}): Promise<void> {
    if (this.state !== 'open') fail('INTERNAL', `node already ${this.state}: a node starts once`)
    if (this.bankPdqWithoutMatching) fail('INTERNAL', 'a node opened without bank matching (for an offline import) cannot be started')
    void this.prepareStart()
    this.state = 'started'
    this.startingNow = true
    try {
      await this.startParts(options)
    } finally {
      this.startingNow = false
      void this.releaseBuildProcess()
    }
  }

  /**
   * What start() will need, readied before the API listens (run-node.ts): the process that builds the match
   * index from a large store (match/pdq-build-process.ts), kept until start() ends, and the signature
   * verifier's threads. Started in the middle of the start-up, the build's worker thread and modules took
   * the main thread's core for 15-40 ms while /status waited (when the build ran on a thread); started at the end of the rebuild, the
   * verifier's threads (with the build's thread ending and the network starting) held /status up 12-20 ms just
   * as it turned 200 (bench-hma, 2 M hashes; 10.6-12.9 ms at most once started here). Resolves when those
   * threads have loaded their modules: run-node.ts listens after that, so their start does not take the CPUs
   * from the API's first answers (13-17 ms for the first /status while they loaded).
   */
  prepareStart(): Promise<BackgroundPriority | undefined> {
    if (this.state !== 'open' || this.buildProcessHeld) return this.prepared
    this.buildProcessHeld = true
    this.releaseBuildProcess = this.pdqCatalog.holdBuildProcess(this.store.getCounts().signals)
    this.startVerifier()
    this.prepared = Promise.all([this.pdqCatalog.buildProcessSettled(), this.verifier!.settled()]).then(([priority]) => priority)
    return this.prepared
  }

  private async startParts(options: StartOptions): Promise<void> {
    const log = options.log ?? silentLog
    logLocalControls(this.localControls, log, (key) => this.memberName(key))
    // (once the build process has said: a start() without prepareStart() first does not wait for it here)
    void this.prepared.then((priority) => {
      if (this.config.match.indexBuildPriority === 'idle' && priority === 'nice') {
        log('warn', 'index.build-priority', { msg: 'the match index is built at nice 15, not under SCHED_IDLE: util-linux\'s chrt could not set it (not installed?), and /status may answer more slowly meanwhile; install util-linux, or set match.indexBuildPriority to "low"' })
      }
    })
    this.pdqCatalog.onBuildWarning((message) => log('warn', 'index.build-fallback', { msg: message }))
    this.localControls.start()
    const index = await this.enableMatching((done) => log('info', 'index.rebuild.progress', { msg: `building the match index: ${done} signals so far`, signals: done }))
    log('info', 'index.ready', { msg: `match index ready: ${index.signals} signals in ${Math.round(index.ms)} ms`, signals: index.signals, ms: Math.round(index.ms) })
    // The build process ends now, and the network starts once it has. (When the build ran on a worker thread,
    // the thread freed the build's arrays as it ended, each munmap holding this process's address space lock at
    // the thread's idle priority, and the main thread's own heap growth waited for that lock: /status answers of
    // 17-28 ms. A process of its own frees its memory in its own address space; the wait stays, a few ms.) (The
    // banks' load may hold the process longer: then it ends when that load is done.)
    await this.releaseBuildProcess()
    this.startVerifier() // (started by prepareStart() already, before the API listened)
    this.network = await startNetwork(this.wiringParts(), log, options.traceRecords ?? false)
    this.servicesLog = log
    for (const service of this.services) await service.start(log)
    this.network?.on('synced', (report) => {
      this.activity.synced(report)
      this.incidentPropagation.peerHeads(this.roster.memberOfPeer(report.peerId), report.peerHeads)
    })
    // A store begun before records kept their PDQ hashes in one value was rebuilt from the signal index (a key
    // per hash, slower); those values are written now, in the background, for the next start.
    void this.store.completePdqColumns({ signal: this.columnsDone.signal }).then(
      (records) => records > 0 && log('info', 'store.pdq-columns', { msg: `wrote the PDQ hashes of ${records} record${records === 1 ? '' : 's'} as one value each: the next start reads those instead of the signal index`, records }),
      (err: unknown) => {
        if (this.state === 'closed') return // (stopped meanwhile: it starts over at the next start)
        log('warn', 'store.pdq-columns.failed', { msg: `could not write the PDQ hashes of stored records as one value each (the next start reads the signal index again): ${err instanceof Error ? err.message : String(err)}` })
      },
    )
  }

  /** Stops the network, the verifier and the store; safe to call twice. */
  async stop(): Promise<void> {
    if (this.state === 'closed') return
    this.state = 'closed'
    void this.releaseBuildProcess()
    this.columnsDone.abort()
    for (const service of this.services) await service.stop()
    const network = this.network
    this.network = undefined
    await network?.stop()
    await this.verifier?.close()
    await this.localControls.stop()
    await this.store.close()
  }

  close(): Promise<void> {
    return this.stop()
  }

  private extrasParts(): ExtrasParts {
    return { store: this.store, roster: this.roster, installRoster: async (bytes) => { const { roster: _r, ...result } = await this.installRoster(bytes, false); return result } }
  }

  private wiringParts(): WiringParts {
    const extras = this.extrasParts()
    return {
      identity: this.identity,
      config: this.config,
      store: this.store,
      roster: this.roster,
      receive: (records) => this.receive(records),
      extras: () => allExtras(extras),
      receiveExtra: (bytes) => receiveExtra(extras, bytes),
      onOwnRecords: (listener) => this.onOwnRecords(listener),
      onRosterChange: (listener) => this.onRosterChange(listener),
      incidents: incidentWiring(this.incidents, (records) => this.receive(records)),
    }
  }

  /** Runs `service` while the node runs: started now when the node already runs, stopped by stop(). */
  attach(service: AttachedService): void {
    this.services.push(service)
    if (this.servicesLog && this.state === 'started') void service.start(this.servicesLog).catch((err: Error) => this.servicesLog?.('error', 'service.start.failed', { message: err.message }))
  }

  // ---- events ----

  /** Called with each batch of the node's own new records (the network publishes them). */
  onOwnRecords(listener: (records: VerifiedRecord[]) => void): void {
    this.ownRecordListeners.push(listener)
  }

  /** Called with each newly accepted roster version (encoded), e.g. to gossip it and re-check connections. */
  onRosterChange(listener: (roster: Uint8Array) => void): void {
    this.rosterListeners.push(listener)
  }

  /** Called once for each new or improved equivocation proof. */
  onEquivocation(listener: (proof: EquivocationProof) => void): void {
    this.store.onEquivocation(listener)
  }

  // ---- use cases: writing ----

  private async appendOwn(build: (head: { seq: number; id: string | null }) => VerifiedRecord[], options: AbortOptions): Promise<VerifiedRecord[]> {
    const records = await this.store.appendOwn(this.memberKey, build, options)
    for (const listener of this.ownRecordListeners) listener(records)
    return records
  }

  async contribute(input: ContributionInput, options: AbortOptions = {}): Promise<ContributionResult> {
    const plan = planContribution(input, loadTaxonomy(), this.config.hash)
    this.incidents.checkContribution(input.labels)
    checkAborted(options.signal)
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
    }, options)
    return {
      records: records.map(({ record }) => ({ id: record.id, seq: record.seq, signals: record.kind === 'signals' ? record.body.signals.length : 0 })),
      skipped: plan.skipped,
    }
  }

  async revoke(targetId: string, options: { signal?: number; reason: RevokeReason }, abort: AbortOptions = {}): Promise<SignedRecord> {
    const target = await this.store.getRecord(targetId, abort)
    if (!target) fail('NOT_FOUND', `no record ${targetId}`)
    if (target.record.author !== this.memberKey) fail('REVOKE_NOT_AUTHOR', 'only the author of a record can revoke its signals')
    if (target.record.kind !== 'signals') fail('RECORD_INVALID', `record ${targetId} is a ${target.record.kind} record, not signals`)
    if (options.signal !== undefined && (options.signal < 0 || options.signal >= target.record.body.signals.length)) {
      fail('NOT_FOUND', `record ${targetId} has no signal ${options.signal}`)
    }
    const body = { target: targetId, reason: options.reason, ...(options.signal !== undefined ? { signal: options.signal } : {}) }
    const [rec] = await this.appendOwn((head) => [createRecord(this.signer, head, 'revoke', body)], abort)
    return rec!.record
  }

  async opinion(body: OpinionBody, options: AbortOptions = {}): Promise<SignedRecord> {
    const [rec] = await this.appendOwn((head) => [createRecord(this.signer, head, 'opinion', { ...body, signal: { ...body.signal, value: body.signal.value.toLowerCase() } })], options)
    return rec!.record
  }

  /** Verifies and appends records from outside (gossip, sync, import). Never throws for bad input. */
  receive(items: Uint8Array[]): Promise<ReceiveResult[]> {
    this.startVerifier()
    return receiveRecords(this.store, this.verifier!, (key) => this.roster.isMember(key), items)
  }

  /** Installs a roster version. `trustLocal` (operator action) may install and pin the genesis. */
  async installRoster(bytes: Uint8Array, trustLocal = false, options: AbortOptions = {}): Promise<ReceiveResult & { roster?: SignedRoster }> {
    checkAborted(options.signal)
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

  // ---- use cases: reading ----

  async getRecord(id: string, options: AbortOptions = {}): Promise<VerifiedRecord> {
    const rec = await this.store.getRecord(id, options)
    if (!rec) fail('NOT_FOUND', `no record ${id}`)
    return rec
  }

  async feedRecords(feed: string, fromSeq: number, limit: number, options: AbortOptions = {}): Promise<VerifiedRecord[]> {
    return (await this.store.readRange(feed, fromSeq, limit, options)).map((bytes) => ({ record: decodeRecord(bytes).record, bytes }))
  }

  /** Encoded records of `feed` from `fromSeq` on, in order (exports). */
  iterateFeed(feed: string, fromSeq = 1): AsyncIterable<Uint8Array> {
    return this.store.iterateFeed(feed, fromSeq)
  }

  feedHeads(): FeedHead[] {
    return this.store.feedHeads()
  }

  head(feed: string): { seq: number; id: string } | undefined {
    return this.store.head(feed)
  }

  counts(): ReturnType<ReplicaStore['getCounts']> {
    return this.store.getCounts()
  }

  recordBytes(id: string): Promise<Uint8Array | undefined> {
    return this.store.getRecordBytes(id)
  }

  /** The seq a forked feed is frozen from (docs/protocol.md §3.1); undefined when it did not fork. */
  forkSeq(feed: string): number | undefined {
    return this.store.forkSeq(feed)
  }

  isMember(key: string): boolean {
    return this.roster.isMember(key)
  }

  memberName(key: string): string | undefined {
    return key === this.memberKey ? this.identity.name : this.roster.memberName(key)
  }

  rosterView(): { pin: string | null; versions: SignedRoster[]; current: SignedRoster | undefined } {
    return { pin: this.roster.pin, versions: this.roster.versions(), current: this.roster.current }
  }

  // ---- matching ----

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
        incidentAutoAct: this.config.incident.autoAct,
      },
      incidentOf: (record) => this.incidents.incidentOf(record),
      pdqThreshold: match.pdqThreshold,
      isMember: (key) => this.roster.isMember(key),
      memberName: (key) => this.memberName(key),
      local: this.localControls,
      catalog: this.pdqCatalog,
      video: { frameThreshold: match.vpdqFrameThreshold, queryPercent: this.config.video.matchQueryPercent, candidatePercent: this.config.video.matchCandidatePercent },
    })
    const signals = await this.matcher.rebuild(progress)
    return { signals, ms: performance.now() - started }
  }

  async match(queries: QuerySignal[], options: MatchOptions & AbortOptions = {}): Promise<MatchedSignal[]> {
    if (!this.matcher) fail('NODE_UNREACHABLE', 'matching needs a running node: start one with "hashmesh start --data DIR"')
    checkAborted(options.signal)
    const matches = await this.matcher.match(queries, options)
    this.activity.matched(queries.length, matches.length)
    return matches
  }

  indexStats(): { ready: boolean; pdqHashes: number; memoryBytes: number } {
    return { ready: this.matcher?.isReady ?? false, pdqHashes: this.matcher?.catalog.size ?? 0, memoryBytes: this.matcher?.catalog.memoryBytes() ?? 0 }
  }

  // ---- status ----

  status(): NodeStatus {
    return statusOf(this, this.store, this.roster)
  }

  /** Peers, sync state and counters of the running network; null without one. */
  networkStatus(): NetworkView | null {
    return this.network ? networkView(this.network) : null
  }

  /** Network counters, flat, for /metrics; empty without a network. */
  networkCounters(): Record<string, number> {
    return this.network ? flatCounters(this.network.metrics() as unknown as Record<string, unknown>) : {}
  }

  /** The replica digest (sync/digest.ts): equal on honest nodes that have exchanged everything. */
  replicaDigest(): Promise<string> {
    return replicaDigestOf(this.store)
  }

  /** Every flagged feed's best equivocation proof, for audits. */
  async equivocations(): Promise<EquivocationView[]> {
    return equivocationViews(await this.store.equivocationProofs(), (key) => this.memberName(key))
  }
}

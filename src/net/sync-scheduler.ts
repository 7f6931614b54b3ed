/**
 * When to sync: with a peer shortly after it connects, with the SYNC_PEERS_PER_TICK least recently synced peers each interval, and on
 * demand (syncNow). At most one session per peer at a time (a second caller shares the running one,
 * or queues behind it when it asks for a fresh session) and at most MAX_CONCURRENT_SESSIONS overall.
 */
import type { NetContext } from './context.js'
import { FailureLog } from './failure-log.js'
import { runSyncSession, type OpenSyncStream } from './sync-client.js'
import { addVerdicts, emptyVerdicts, type PeerSyncReport, type SyncReport } from './types.js'

export const MAX_CONCURRENT_SESSIONS = 4
/** Peers synced with on each periodic tick (new connections are synced at once regardless). */
export const SYNC_PEERS_PER_TICK = 3
/** Delay between a new connection and its first sync session (lets identify and gossip settle). */
export const CONNECT_SYNC_DELAY_MS = 50

export interface SchedulerDeps {
  ctx: NetContext
  intervalMs: number
  /** allowDial: may open a new connection; otherwise only an existing connection is used. */
  openStream: (peerId: string, allowDial: boolean) => OpenSyncStream
  connectedPeers: () => string[]
  /** Housekeeping before each periodic round (roster enforcement, bootstrap redials). */
  beforeTick: () => Promise<void>
  onReport: (report: PeerSyncReport) => void
  /** True while this node is not in the current roster: no background dials or sessions (syncNow still runs). */
  dormant?: () => boolean
}

export class SyncScheduler {
  private readonly running = new Map<string, Promise<PeerSyncReport>>()
  private readonly waiters: (() => void)[] = []
  private active = 0
  private timer?: NodeJS.Timeout
  private ticking = false
  readonly lastSyncAt = new Map<string, number>()
  private readonly failures: FailureLog

  constructor(private readonly deps: SchedulerDeps) {
    this.failures = new FailureLog((event, fields) => deps.ctx.log(event, fields), 'sync.session.failed')
  }

  private get dormant(): boolean {
    return this.deps.dormant?.() ?? false
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.deps.intervalMs)
    this.timer.unref()
  }

  stop(): void {
    clearInterval(this.timer)
    for (const wake of this.waiters.splice(0)) wake()
  }

  /** Settles when every running session has ended (they end fast once ctx.signal is aborted). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.running.values()])
  }

  onConnect(peerId: string): void {
    setTimeout(() => {
      if (!this.deps.ctx.signal.aborted && !this.dormant) void this.syncPeer(peerId)
    }, CONNECT_SYNC_DELAY_MS).unref()
  }

  /**
   * A session with `peerId`; `fresh` waits for a running one and starts another (new data may exist).
   * Only an explicit request may dial: background sessions use existing connections, so a peer that
   * refuses us (its roster lacks us) is not redialled in a loop by our own on-connect syncs.
   */
  syncPeer(peerId: string, fresh = false, allowDial = false): Promise<PeerSyncReport> {
    const current = this.running.get(peerId)
    if (current && !fresh) return current
    const previous = current ? current.then(() => undefined, () => undefined) : Promise.resolve()
    const run = previous.then(() => this.runLimited(peerId, allowDial))
    this.running.set(peerId, run)
    void run.finally(() => {
      if (this.running.get(peerId) === run) this.running.delete(peerId)
    })
    return run
  }

  async syncPeers(peerIds: string[], fresh = false, allowDial = false): Promise<SyncReport> {
    const reports = await Promise.all(peerIds.map((p) => this.syncPeer(p, fresh, allowDial)))
    const total: SyncReport = { peers: reports, records: emptyVerdicts(), extras: emptyVerdicts(), failed: 0 }
    for (const r of reports) {
      addVerdicts(total.records, r.records)
      addVerdicts(total.extras, r.extras)
      if (!r.ok) total.failed++
    }
    return total
  }

  private async tick(): Promise<void> {
    if (this.ticking || this.deps.ctx.signal.aborted || this.dormant) return
    this.ticking = true
    try {
      await this.deps.beforeTick()
      await this.syncPeers(this.peersForTick(this.deps.connectedPeers()))
    } catch (err) {
      this.deps.ctx.log('sync.tick.failed', { message: (err as Error).message })
    } finally {
      this.ticking = false
    }
  }

  /**
   * Anti-entropy needs only a few partners per round, not every peer: the least recently synced ones
   * (never-synced first), so every peer comes round in turn and a node with many peers does not spend
   * its CPU on sessions that find nothing missing.
   */
  private peersForTick(peers: string[]): string[] {
    if (peers.length <= SYNC_PEERS_PER_TICK) return peers
    const last = (p: string) => this.lastSyncAt.get(p) ?? 0
    return [...peers].sort((a, b) => last(a) - last(b) || Math.random() - 0.5).slice(0, SYNC_PEERS_PER_TICK)
  }

  private async runLimited(peerId: string, allowDial: boolean): Promise<PeerSyncReport> {
    while (this.active >= MAX_CONCURRENT_SESSIONS && !this.deps.ctx.signal.aborted) {
      await new Promise<void>((resolve) => this.waiters.push(resolve))
    }
    this.active++
    try {
      const report = await runSyncSession(this.deps.ctx, peerId, this.deps.openStream(peerId, allowDial))
      this.lastSyncAt.set(peerId, Date.now())
      // a failing peer is summarised (one line a minute with a count), not logged every interval
      if (report.ok) {
        this.failures.succeeded(peerId)
        this.deps.ctx.log('sync.session.done', { ...report })
      } else {
        this.failures.failed(peerId, { ...report })
      }
      this.deps.onReport(report)
      return report
    } finally {
      this.active--
      this.waiters.shift()?.()
    }
  }
}

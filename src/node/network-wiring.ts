/**
 * The network side of the composition root: what replication may see of the replica (ReplicaAccess),
 * the libp2p network built from the node's config and roster, and the events that tie them together
 * (own records and roster versions are gossiped, equivocation proofs are gossiped, the roster is
 * re-enforced on every change). A gossiped record walks net -> here (replicaAccess.receive) -> node's
 * receive -> store -> match, with no stop in api/.
 */
import { readFileSync } from 'node:fs'
import { createNetwork, type Network, type NetMetrics } from '../net/index.js'
import { recordIdOf } from '../record/codec.js'
import type { ReplicaStore } from '../store/replica-store.js'
import { encodeProofExtra, encodeRosterExtra } from '../sync/extras-wire.js'
import type { ReceiveResult, ReplicaAccess } from '../sync/types.js'
import type { Config } from '../config.js'
import { banFile } from './ban-file.js'
import type { Identity } from './identity.js'
import type { NodeLog } from './log.js'
import type { RosterState } from './roster-state.js'

/** What the network wiring needs from the node; the node passes its private parts in. */
export interface WiringParts {
  identity: Identity
  config: Config
  store: ReplicaStore
  roster: RosterState
  receive(records: Uint8Array[]): Promise<ReceiveResult[]>
  extras(): Promise<Uint8Array[]>
  receiveExtra(bytes: Uint8Array): Promise<ReceiveResult>
  onOwnRecords(listener: (records: Array<{ bytes: Uint8Array }>) => void): void
  onRosterChange(listener: (roster: Uint8Array) => void): void
}

export function replicaAccess(parts: WiringParts): ReplicaAccess {
  const { store } = parts
  return {
    heads: async () => store.feedHeads(),
    readRange: (feed, fromSeq, limit) => store.readRange(feed, fromSeq, limit),
    receive: (records) => parts.receive(records),
    extras: () => parts.extras(),
    receiveExtra: (bytes) => parts.receiveExtra(bytes),
    idAt: (feed, seq) => store.idAtSeq(feed, seq),
    idOf: (bytes) => recordIdOf(bytes),
    forks: async () => store.forks(),
  }
}

/** Net events that an operator needs at the default level; the rest are debug lines. */
function levelOf(event: string): 'warn' | 'info' | 'debug' {
  if (event.includes('fail') || event.includes('banned')) return 'warn'
  if (event.startsWith('peer.refused') || event.startsWith('feed.fork') || event === 'bans.restored') return 'info'
  return 'debug'
}

/** Starts the network when a roster is installed (undefined, with a warning, when none is). */
export async function startNetwork(parts: WiringParts, log: NodeLog, traceRecords: boolean): Promise<Network | undefined> {
  const { config, identity, store, roster } = parts
  const current = roster.current
  if (!current) {
    log('warn', 'p2p.disabled', { reason: 'no roster installed: run "hashmesh roster install FILE"' })
    return undefined
  }
  const { p2p } = config
  const network = await createNetwork({
    peerPrivateKey: identity.peerKey,
    listen: p2p.listen,
    announce: p2p.announce,
    bootstrap: p2p.bootstrap,
    allowPrivateAddresses: p2p.allowPrivateAddresses,
    psk: p2p.pskFile ? new Uint8Array(readFileSync(p2p.pskFile)) : undefined,
    federationId: current.document.federation,
    isAllowedPeer: (peerId) => roster.isAllowedPeer(peerId),
    rosterPeers: () => roster.allowedPeers(),
    replica: replicaAccess(parts),
    syncIntervalMs: p2p.syncIntervalMs,
    meshDegree: p2p.meshDegree,
    bans: banFile(identity.dataDir),
    logger: (event, fields) => log(levelOf(event), event, fields),
  })
  // One line per stored record at trace level: when it arrived here (benchmarks measure propagation with
  // it). Only when trace lines are kept: this runs for every record a catch-up stores.
  if (traceRecords) {
    store.onCommit((records) => {
      for (const r of records) log('trace', 'record.stored', { feed: r.author, seq: r.seq })
    })
  }
  const published = (what: string) => (err: Error) => log('warn', 'gossip.publish.failed', { what, message: err.message })
  parts.onOwnRecords((records) => {
    for (const { bytes } of records) void network.publish(bytes).catch(published('record'))
  })
  parts.onRosterChange((rosterBytes) => {
    void network.publishExtra(encodeRosterExtra(rosterBytes)).catch(published('roster'))
    void network.enforceRoster().catch((err: Error) => log('warn', 'roster.enforce.failed', { message: err.message }))
  })
  store.onEquivocation((proof) => {
    log('warn', 'feed.equivocation', { feed: proof.feed, seq: proof.seq })
    void network.publishExtra(encodeProofExtra(proof)).catch(published('equivocation proof'))
  })
  await network.start()
  return network
}

/** What the API shows of the network: peers, sync state and flat counters for /metrics. */
export interface NetworkView {
  peerId: string
  addresses: string[]
  peers: number
  peerList: Array<{ peerId: string; direction: string; lastSyncAt: number | null; invalid: number }>
  sync: { sessionsStarted: number; sessionsSucceeded: number; sessionsFailed: number; recordsReceived: NetMetrics['sync']['records'] }
  metrics: NetMetrics
}

export function networkView(network: Network): NetworkView {
  const metrics = network.metrics()
  const peers = network.peers()
  return {
    peerId: network.peerId,
    addresses: network.multiaddrs(),
    peers: peers.length,
    peerList: peers.map((p) => ({ peerId: p.peerId, direction: p.direction, lastSyncAt: p.lastSyncAt ?? null, invalid: p.invalid })),
    sync: { sessionsStarted: metrics.sync.sessionsStarted, sessionsSucceeded: metrics.sync.sessionsSucceeded, sessionsFailed: metrics.sync.sessionsFailed, recordsReceived: metrics.sync.records },
    metrics,
  }
}

/** Network counters as flat `a_b_c` names (per-peer maps left out: they belong on /v1/peers). */
export function flatCounters(value: Record<string, unknown>, prefix = ''): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [key, v] of Object.entries(value)) {
    const name = prefix ? `${prefix}_${key}` : key
    if (typeof v === 'number') out[name] = v
    else if (v && typeof v === 'object' && !name.endsWith('ByPeer') && !name.endsWith('bannedUntil')) Object.assign(out, flatCounters(v as Record<string, unknown>, name))
  }
  return out
}

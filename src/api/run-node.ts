/**
 * A node as a running process: the match index, the p2p network (when a roster is installed) and the
 * HTTP API, with clean shutdown. It sits at the process edge, after node/ in the layering, beside the API
 * server it starts. Used by `hashmesh start`, the devnet, the demo and integration tests.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createNetwork, type Network } from '../net/index.js'
import type { ConfigOverrides } from '../config.js'
import type { ReplicaAccess } from '../sync/types.js'
import { startApiServer, type ApiServer } from './server.js'
import { allExtras, receiveExtra } from '../node/extras.js'
import { encodeProofExtra, encodeRosterExtra } from '../sync/extras-wire.js'
import { FILES, apiTokenReader } from '../node/identity.js'
import { banFile } from '../node/ban-file.js'
import { HashmeshNode } from '../node/node.js'
import { recordIdOf } from '../record/codec.js'

export type Log = (level: 'info' | 'warn' | 'error' | 'debug' | 'trace', event: string, fields?: Record<string, unknown>) => void

export interface RunningNode {
  node: HashmeshNode
  network: Network | undefined
  api: ApiServer
  apiUrl: string
  stop(): Promise<void>
}

export function replicaAccess(node: HashmeshNode): ReplicaAccess {
  return {
    heads: async () => node.store.feedHeads(),
    readRange: (feed, fromSeq, limit) => node.store.readRange(feed, fromSeq, limit),
    receive: (records) => node.receive(records),
    extras: () => allExtras(node),
    receiveExtra: (bytes) => receiveExtra(node, bytes),
    idAt: (feed, seq) => node.store.idAtSeq(feed, seq),
    idOf: (bytes) => recordIdOf(bytes),
    forks: async () => node.store.forks(),
  }
}

export interface RunNodeOptions {
  overrides?: ConfigOverrides
  log?: Log
  /** Log `record.stored` (trace) for every stored record; off unless the logger keeps trace lines. */
  traceRecords?: boolean
  apiLogger?: boolean | object
}

export async function runNode(dataDir: string, options: RunNodeOptions = {}): Promise<RunningNode> {
  const log: Log = options.log ?? (() => undefined)
  const node = await HashmeshNode.open(dataDir, { overrides: options.overrides })
  let network: Network | undefined
  let api: ApiServer | undefined
  try {
    node.startVerifier()
    const index = await node.enableMatching((done) => log('info', 'index.rebuild.progress', { signals: done }))
    log('info', 'index.ready', { signals: index.signals, ms: Math.round(index.ms) })
    network = await startNetwork(node, log, options.traceRecords ?? false)
    api = await startApiServer(node, {
      host: node.config.api.host,
      port: node.config.api.port,
      token: apiTokenReader(node.identity.dataDir),
      bodyLimitBytes: node.config.api.bodyLimitBytes,
      jsonBodyLimitBytes: node.config.api.jsonBodyLimitBytes,
      logger: options.apiLogger,
      network: network ? networkView(network) : undefined,
    })
  } catch (err) {
    await network?.stop().catch(() => undefined)
    await node.close()
    throw err
  }
  const runningFile = join(node.identity.dataDir, FILES.running)
  writeFileSync(runningFile, JSON.stringify({ pid: process.pid, apiUrl: api.url, peerId: node.identity.peerId, multiaddrs: network?.multiaddrs() ?? [] }, null, 2) + '\n')
  log('info', 'node.started', { api: api.url, peerId: node.identity.peerId, p2p: network?.multiaddrs() ?? 'off (no roster)' })
  let stopping: Promise<void> | undefined
  const stop = () =>
    (stopping ??= (async () => {
      await api!.close().catch((err: Error) => log('warn', 'api.close.failed', { message: err.message }))
      await network?.stop().catch((err: Error) => log('warn', 'net.stop.failed', { message: err.message }))
      await node.close()
      try {
        if (JSON.parse(readFileSync(runningFile, 'utf8')).pid === process.pid) rmSync(runningFile, { force: true })
      } catch {
        /* already gone */
      }
      log('info', 'node.stopped')
    })())
  return { node, network, api, apiUrl: api.url, stop }
}

async function startNetwork(node: HashmeshNode, log: Log, traceRecords: boolean): Promise<Network | undefined> {
  const roster = node.roster.current
  if (!roster) {
    log('warn', 'p2p.disabled', { reason: 'no roster installed: run "hashmesh roster install FILE"' })
    return undefined
  }
  const { p2p } = node.config
  const network = await createNetwork({
    peerPrivateKey: node.identity.peerKey,
    listen: p2p.listen,
    announce: p2p.announce,
    bootstrap: p2p.bootstrap,
    allowPrivateAddresses: p2p.allowPrivateAddresses,
    psk: p2p.pskFile ? new Uint8Array(readFileSync(p2p.pskFile)) : undefined,
    federationId: roster.document.federation,
    isAllowedPeer: (peerId) => node.roster.isAllowedPeer(peerId),
    rosterPeers: () => node.roster.allowedPeers(),
    replica: replicaAccess(node),
    syncIntervalMs: p2p.syncIntervalMs,
    meshDegree: p2p.meshDegree,
    bans: banFile(node.identity.dataDir),
    // refusals are rate-limited in net (one line per peer or address per minute): shown at info
    logger: (event, fields) =>
      log(event.includes('fail') || event.includes('banned') ? 'warn' : event === 'peer.refused' || event === 'bans.restored' ? 'info' : 'debug', event, fields),
  })
  // One line per stored record at trace level: when it arrived here (benchmarks measure propagation with
  // it). Only when trace lines are kept: this runs for every record a catch-up stores.
  if (traceRecords) {
    node.store.onCommit((records) => {
      for (const r of records) log('trace', 'record.stored', { feed: r.author, seq: r.seq })
    })
  }
  node.onOwnRecords((records) => {
    for (const { bytes } of records) void network.publish(bytes).catch((err: Error) => log('warn', 'gossip.publish.failed', { message: err.message }))
  })
  node.onRosterChange((rosterBytes) => {
    void network.publishExtra(encodeRosterExtra(rosterBytes)).catch(() => undefined)
    void network.enforceRoster().catch(() => undefined)
  })
  node.store.onEquivocation((proof) => {
    log('warn', 'feed.equivocation', { feed: proof.feed, seq: proof.seq })
    void network.publishExtra(encodeProofExtra(proof)).catch(() => undefined)
  })
  await network.start()
  return network
}

/** What the API shows of the network: peers, sync state and flat counters for /metrics. */
function networkView(network: Network): { peers(): unknown; status(): unknown; counters(): Record<string, number> } {
  return {
    peers: () => network.peers(),
    status: () => {
      const metrics = network.metrics()
      return {
        peerId: network.peerId,
        addresses: network.multiaddrs(),
        peers: network.peers().length,
        peerList: network.peers().map((p) => ({ peerId: p.peerId, direction: p.direction, lastSyncAt: p.lastSyncAt ?? null, invalid: p.invalid })),
        sync: { sessionsStarted: metrics.sync.sessionsStarted, sessionsSucceeded: metrics.sync.sessionsSucceeded, sessionsFailed: metrics.sync.sessionsFailed, recordsReceived: metrics.sync.records },
        metrics,
      }
    },
    counters: () => flatten(network.metrics() as unknown as Record<string, unknown>),
  }
}

function flatten(value: Record<string, unknown>, prefix = ''): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [key, v] of Object.entries(value)) {
    const name = prefix ? `${prefix}_${key}` : key
    if (typeof v === 'number') out[name] = v
    else if (v && typeof v === 'object' && !name.endsWith('ByPeer') && !name.endsWith('bannedUntil')) Object.assign(out, flatten(v as Record<string, unknown>, name))
  }
  return out
}

/**
 * hashmesh's network layer, the only importer of libp2p in the repository.
 *
 * How it fits together: node-assembly builds the libp2p node (TCP, noise, yamux, optional pnet PSK,
 * identify, ping, federation-private kad-dht, gossipsub) behind a connection gater that asks the roster
 * (isAllowedPeer) and our ban list (peer-hygiene) about every peer. New records travel by gossip
 * (gossip.ts, validated by the replica); anything gossip missed travels by anti-entropy sessions on
 * SYNC_PROTOCOL (sync-client.ts pulls, sync-server.ts serves) scheduled on connect, every
 * syncIntervalMs and on demand (sync-scheduler.ts). Records stay opaque bytes: the replica verifies.
 */
import { EventEmitter } from 'node:events'
import type { Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { checkAborted, raceAbort } from '../abort.js'
import { INCIDENTS_PROTOCOL, SYNC_PROTOCOL } from '../protocol-ids.js'
import { fail, HashmeshError, safetyCatch } from '../errors.js'
import { newCounters, type NetContext } from './context.js'
import { createGater } from './gater.js'
import { Gossip } from './gossip.js'
import { addressKey, InboundLimiter, INBOUND_UPGRADE_TIMEOUT_MS } from './inbound-limiter.js'
import { privateKeyFromBytes } from './keys.js'
import { assembleNode, type HashmeshLibp2p } from './node-assembly.js'
import { PeerHygiene } from './peer-hygiene.js'
import { PriorityChannel } from './priority.js'
import { RefusalLog } from './refusals.js'
import { dialMissingRosterPeers } from './roster-dialer.js'
import { DIAL_TIMEOUT_MS } from './stream-io.js'
import { createSyncHandler, MAX_INBOUND_SYNC_STREAMS, MAX_OUTBOUND_SYNC_STREAMS } from './sync-server.js'
import { SyncScheduler } from './sync-scheduler.js'
import type { Network, NetworkEvents, NetworkInit, NetMetrics, PeerInfo, SyncReport } from './types.js'

export type * from './types.js'
export { generatePeerKey, peerIdFromKey, generatePsk, isPeerId } from './keys.js'
export { recordsTopic, extrasTopic, dhtProtocol } from '../protocol-ids.js'
export { MAX_INVALID_PER_PEER, BAN_DURATION_MS, SYNC_REQUEST_BURST, SYNC_REQUESTS_PER_SECOND } from './peer-hygiene.js'
export { INBOUND_UPGRADE_TIMEOUT_MS, PENDING_PER_ADDRESS, PENDING_TOTAL } from './inbound-limiter.js'
export { REFUSAL_REASONS, REFUSAL_LOG_INTERVAL_MS } from './refusals.js'

/** Test-only access to the internals of a Network (libp2p node, unchecked publish). */
export const NET_INTERNALS = Symbol('hashmesh.net.internals')
export interface NetInternals {
  libp2p: HashmeshLibp2p
  publishUnchecked(kind: 'records' | 'extras', bytes: Uint8Array): Promise<boolean>
  openSyncStream(peerId: string, signal: AbortSignal, allowDial?: boolean): Promise<Stream>
}

const FEDERATION_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/
/** How long the ping at connect (a peer's first latency figure) may take. */
const CONNECT_PING_TIMEOUT_MS = 5_000
/** How long stop() waits for running sync sessions before stopping libp2p anyway. */
const STOP_DRAIN_MS = 3_000
/** Delay between a new connection and the next round of roster dials (identify and the DHT settle first). */
const ROSTER_DIAL_DELAY_MS = 1_000

function hostOf(addr: string): string | undefined {
  try {
    return multiaddr(addr).getComponents().find((c) => c.name === 'ip4' || c.name === 'ip6')?.value
  } catch (err) {
    safetyCatch(err) // InvalidMultiaddrError / ValidationError: not an address
    return undefined
  }
}

function p2pPeerOf(addr: string): string | undefined {
  try {
    return multiaddr(addr).getComponents().findLast((c) => c.name === 'p2p')?.value
  } catch (err) {
    safetyCatch(err) // InvalidMultiaddrError / ValidationError: not an address
    return undefined
  }
}

export async function createNetwork(init: NetworkInit): Promise<Network> {
  if (!FEDERATION_ID.test(init.federationId)) fail('CONFIG_INVALID', `federationId "${init.federationId}" must match ${FEDERATION_ID}`)
  for (const addr of init.bootstrap) {
    if (!p2pPeerOf(addr)) fail('CONFIG_INVALID', `bootstrap address "${addr}" must end in /p2p/<peerId>`)
  }
  const privateKey = privateKeyFromBytes(init.peerPrivateKey)
  const hygiene = new PeerHygiene()
  /** Round-trip time of the ping sent at connect, until the connection monitor has its own (conn.rtt). */
  const connectRtt = new Map<string, number>()
  const counters = newCounters()
  const log = init.logger ?? (() => {})
  try {
    const restored = init.bans ? hygiene.restoreBans(init.bans.load()) : 0
    if (restored > 0) log('bans.restored', { bans: restored })
  } catch (err) {
    log('bans.load.failed', { message: (err as Error).message })
  }
  const saveBans = (): void => {
    try {
      init.bans?.save(hygiene.banEntries())
    } catch (err) {
      log('bans.save.failed', { message: (err as Error).message })
    }
  }
  const events = new EventEmitter()
  const stopping = new AbortController()
  let libp2p: HashmeshLibp2p | undefined

  const ctx: NetContext = {
    replica: init.replica,
    hygiene,
    counters,
    log,
    signal: stopping.signal,
    penalize(peerId, n, reason) {
      if (!hygiene.reportInvalid(peerId, n, reason)) return
      const until = hygiene.banned()[peerId] ?? Date.now()
      log('peer.banned', { peer: peerId, until, reason })
      saveBans()
      events.emit('peer:banned', { peerId, until, reason })
      libp2p?.hangUp(peerIdFromString(peerId)).catch((err: Error) => log('peer.hangup.failed', { peer: peerId, message: err.message }))
    },
  }
  const limiter = new InboundLimiter()
  // the operator lists members' addresses as bootstrap peers: their dials to us come from there
  for (const host of init.bootstrap.map(hostOf)) if (host) limiter.rememberMemberAddress(addressKey(host))
  const refusalLog = new RefusalLog(log)
  const gater = createGater({
    isAllowedPeer: init.isAllowedPeer,
    hygiene,
    allowPrivateAddresses: init.allowPrivateAddresses,
    limiter,
    pskEnabled: init.psk !== undefined,
    upgradeTimeoutMs: INBOUND_UPGRADE_TIMEOUT_MS,
    onRefused(reason, subject, direction) {
      counters.connectionsRefused++
      counters.connectionsRefusedByReason[reason]++
      refusalLog.note(reason, subject, direction)
    },
  })
  const node = await assembleNode({ ...init, privateKey, gater })
  libp2p = node
  // a fresh session with a relay of records from authors we do not know: it may carry a newer roster
  const dormant = (): boolean => init.dormant?.() ?? false
  const gossip = new Gossip(node.services.pubsub, ctx, init.federationId, (peerId) => (dormant() ? Promise.resolve(undefined) : scheduler.syncPeer(peerId, true)))
  const connectedPeers = (): string[] => node.getPeers().map(String)
  const priority = init.priority
    ? new PriorityChannel(node.services.pubsub, ctx, init.federationId, init.priority, () => (dormant() ? Promise.resolve() : scheduler.syncPeers(connectedPeers(), true)), (peerId) => {
        const conn = node.getConnections(peerIdFromString(peerId)).find((c) => c.status === 'open')
        if (!conn) throw new HashmeshError('NODE_UNREACHABLE', `not connected to ${peerId}`)
        return conn.newStream(INCIDENTS_PROTOCOL, { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) })
      }, (peerId) => (dormant() ? Promise.resolve() : scheduler.syncPeer(peerId, true)))
    : undefined

  const enforceRoster = async (): Promise<void> => {
    for (const peerId of connectedPeers()) {
      let allowed = false
      try {
        allowed = init.isAllowedPeer(peerId) && !hygiene.isBanned(peerId)
      } catch (err) {
        safetyCatch(err)
        allowed = false // a failing roster check refuses rather than admits
      }
      if (!allowed) {
        log('peer.disconnect.roster', { peer: peerId })
        await node.hangUp(peerIdFromString(peerId)).catch(safetyCatch) // already gone
      }
    }
  }
  const redialBootstrap = async (): Promise<void> => {
    const connected = new Set(connectedPeers())
    await Promise.allSettled(
      init.bootstrap
        // a bootstrap peer the roster no longer lists would refuse us, or we it: not dialled every tick
        .filter((addr) => !connected.has(p2pPeerOf(addr)!) && init.isAllowedPeer(p2pPeerOf(addr)!))
        .map((addr) => node.dial(multiaddr(addr), { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) })),
    )
  }
  /**
   * Dials a roster peer by id. Without a known address, or when the known ones fail (the member moved),
   * it is looked up in the DHT first, outside libp2p's dial queue: a queued dial by bare peer id stays
   * pending during the lookup, and an explicit dial of the same peer's address (`network.dial`) merged
   * into it failed with "no valid addresses".
   */
  const dialRosterPeer = async (peerId: string): Promise<void> => {
    const peer = peerIdFromString(peerId)
    const signal = AbortSignal.timeout(DIAL_TIMEOUT_MS)
    const lookUp = async (): Promise<void> => {
      const found = await node.peerRouting.findPeer(peer, { signal })
      if (found.multiaddrs.length === 0) fail('NODE_UNREACHABLE', `no address found for ${peerId}`)
      await node.peerStore.merge(peer, { multiaddrs: found.multiaddrs })
    }
    const known = await node.peerStore.get(peer).then((p) => p.addresses.length > 0, () => false)
    if (!known) await lookUp()
    try {
      await node.dial(peer, { signal })
    } catch (err) {
      if (!known) throw err
      await lookUp()
      await node.dial(peer, { signal })
    }
  }
  /** One round of dialling roster peers we are not connected to; never throws. */
  let rosterRound: Promise<void> | undefined
  const dialRoster = (): Promise<void> => {
    if (!init.rosterPeers || node.status !== 'started') return Promise.resolve()
    rosterRound ??= (async () => {
      try {
        const round = await dialMissingRosterPeers({
          self: network.peerId,
          rosterPeers: init.rosterPeers!,
          connectedPeers,
          isBanned: (p) => hygiene.isBanned(p),
          dial: (p) => dialRosterPeer(p),
        })
        ctx.counters.rosterDials += round.attempted
        ctx.counters.rosterDialFailures += round.attempted - round.connected
        if (round.attempted > 0) log('roster.dialled', { ...round })
      } catch (err) {
        log('roster.dial.failed', { message: (err as Error).message })
      } finally {
        rosterRound = undefined
      }
    })()
    return rosterRound
  }
  /** A round soon after a new connection: the new peer's DHT table may know the members we miss. */
  let rosterTimer: NodeJS.Timeout | undefined
  const dialRosterSoon = (): void => {
    if (rosterTimer || !init.rosterPeers || dormant()) return
    rosterTimer = setTimeout(() => {
      rosterTimer = undefined
      if (!ctx.signal.aborted) void dialRoster()
    }, ROSTER_DIAL_DELAY_MS)
    rosterTimer.unref()
  }
  const openSyncStream = async (peerId: string, signal: AbortSignal, allowDial = true): Promise<Stream> => {
    const peer = peerIdFromString(peerId)
    if (allowDial) return node.dialProtocol(peer, SYNC_PROTOCOL, { signal })
    const conn = node.getConnections(peer).find((c) => c.status === 'open')
    if (!conn) throw new HashmeshError('NODE_UNREACHABLE', `not connected to ${peerId}`)
    return conn.newStream(SYNC_PROTOCOL, { signal })
  }
  const scheduler = new SyncScheduler({
    ctx,
    intervalMs: init.syncIntervalMs,
    openStream: (peerId, allowDial) => (signal) => openSyncStream(peerId, signal, allowDial),
    connectedPeers,
    beforeTick: async () => {
      await enforceRoster()
      await redialBootstrap()
      await dialRoster()
    },
    onReport: (report) => {
      events.emit('synced', report)
      void priority?.catchUp(report.peerId)
    },
    dormant,
  })

  let state: 'new' | 'started' | 'stopped' = 'new'
  const network: Network & { [NET_INTERNALS]: NetInternals } = {
    peerId: node.peerId.toString(),

    async start() {
      if (state !== 'new') fail('INTERNAL', `network already ${state}: a Network starts once`)
      state = 'started'
      await node.start()
      await node.handle(SYNC_PROTOCOL, createSyncHandler(ctx), {
        maxInboundStreams: MAX_INBOUND_SYNC_STREAMS,
        maxOutboundStreams: MAX_OUTBOUND_SYNC_STREAMS,
      })
      if (priority) await node.handle(INCIDENTS_PROTOCOL, priority.handler(), { maxInboundStreams: 2, maxOutboundStreams: 2 })
      node.addEventListener('peer:connect', (evt) => {
        const peerId = evt.detail.toString()
        events.emit('peer:connect', { peerId })
        // One ping now: the connection monitor's first comes only CONNECTION_PING_INTERVAL_MS later.
        void node.services.ping.ping(evt.detail, { signal: AbortSignal.timeout(CONNECT_PING_TIMEOUT_MS) }).then((rtt) => { connectRtt.set(peerId, rtt) }, safetyCatch)
        scheduler.onConnect(peerId)
        dialRosterSoon()
      })
      node.addEventListener('peer:disconnect', (evt) => {
        connectRtt.delete(evt.detail.toString())
        events.emit('peer:disconnect', { peerId: evt.detail.toString() })
      })
      gossip.start()
      priority?.start()
      scheduler.start()
      if (!dormant()) void redialBootstrap().then(() => dialRoster())
      log('net.started', { peerId: network.peerId, addresses: network.multiaddrs() })
    },

    async stop() {
      if (state !== 'started') return
      state = 'stopped'
      stopping.abort(new HashmeshError('STORE_CLOSED', 'network stopping'))
      scheduler.stop()
      clearTimeout(rosterTimer)
      await Promise.race([scheduler.drain(), new Promise((r) => setTimeout(r, STOP_DRAIN_MS).unref())])
      gossip.stop()
      priority?.stop()
      await node.unhandle(SYNC_PROTOCOL).catch(safetyCatch) // libp2p already stopping
      if (priority) await node.unhandle(INCIDENTS_PROTOCOL).catch(safetyCatch)
      await node.stop()
      log('net.stopped', { peerId: network.peerId })
    },

    multiaddrs: () => node.getMultiaddrs().map(String),
    publish: (record, options = {}) => gossip.publish(record, options),
    publishExtra: (bytes, options = {}) => gossip.publishExtra(bytes, options),
    ...(priority ? { publishPriority: (message: Uint8Array) => priority.publish(message), priorityCounters: () => ({ ...priority.counters }) } : {}),

    peers(): PeerInfo[] {
      const byPeer = new Map<string, PeerInfo>()
      const invalid = hygiene.invalidCounts()
      for (const conn of node.getConnections()) {
        const peerId = conn.remotePeer.toString()
        const info = byPeer.get(peerId)
        if (info) {
          info.addresses.push(conn.remoteAddr.toString())
          continue
        }
        const lastSyncAt = scheduler.lastSyncAt.get(peerId)
        byPeer.set(peerId, {
          peerId,
          addresses: [conn.remoteAddr.toString()],
          direction: conn.direction,
          invalid: invalid[peerId] ?? 0,
          ...(lastSyncAt === undefined ? {} : { lastSyncAt }),
          ...(conn.rtt === undefined && !connectRtt.has(peerId) ? {} : { rttMs: conn.rtt ?? connectRtt.get(peerId)! }),
        })
      }
      return [...byPeer.values()]
    },

    async dial(addr, options = {}) {
      checkAborted(options.signal)
      const peerId = p2pPeerOf(addr)
      if (!peerId) fail('BAD_REQUEST', `address "${addr}" must end in /p2p/<peerId>`)
      if (!init.isAllowedPeer(peerId)) fail('PEER_REFUSED', `peer ${peerId} is not allowed by the roster`)
      if (hygiene.isBanned(peerId)) fail('PEER_BANNED', `peer ${peerId} is banned`)
      try {
        const timeout = AbortSignal.timeout(DIAL_TIMEOUT_MS)
        const conn = await node.dial(multiaddr(addr), { signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout })
        return conn.remotePeer.toString()
      } catch (cause) {
        checkAborted(options.signal) // the caller gave up: its reason, not NODE_UNREACHABLE
        fail('NODE_UNREACHABLE', `cannot connect to ${addr}: ${(cause as Error).message}`, { cause })
      }
    },

    async syncNow(peerId?: string, options = {}): Promise<SyncReport> {
      if (state !== 'started') fail('INTERNAL', 'network is not started')
      checkAborted(options.signal)
      // sessions are shared with other callers and bounded by their own time-outs: an abort stops the wait
      const report = peerId === undefined ? scheduler.syncPeers(connectedPeers(), true) : scheduler.syncPeers([peerId], true, true)
      return raceAbort(report, options.signal)
    },

    enforceRoster,

    metrics(): NetMetrics {
      return structuredClone({
        ...counters,
        peersConnected: node.getPeers().length,
        inbound: limiter.stats(),
        ...(priority ? { priority: { ...priority.counters } } : {}),
        hygiene: {
          invalidTotal: hygiene.invalidTotal,
          bansTotal: hygiene.bansTotal,
          invalidByPeer: hygiene.invalidCounts(),
          bannedUntil: hygiene.banned(),
        },
      })
    },

    on<E extends keyof NetworkEvents>(event: E, listener: (detail: NetworkEvents[E]) => void): () => void {
      events.on(event, listener)
      return () => events.off(event, listener)
    },

    [NET_INTERNALS]: {
      libp2p: node,
      publishUnchecked: (kind, bytes) => gossip.publishUnchecked(kind, bytes),
      openSyncStream,
    },
  }
  return network
}

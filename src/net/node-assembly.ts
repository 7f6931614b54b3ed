/**
 * The libp2p node of a hashmesh peer: TCP + noise + yamux (+ pnet when a PSK is configured),
 * identify, ping, a federation-private kad-dht and gossipsub. Nothing here knows about records.
 */
import { installYamuxWindowHysteresis } from './yamux-window.js'
import type { NetworkInit } from './types.js'
import { createLibp2p, type Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify, type Identify } from '@libp2p/identify'
import { ping, type Ping } from '@libp2p/ping'
import { kadDHT, passthroughMapper, removePrivateAddressesMapper, type KadDHT } from '@libp2p/kad-dht'
import { gossipsub, type GossipSub } from '@libp2p/gossipsub'
import { bootstrap } from '@libp2p/bootstrap'
import { preSharedKey } from '@libp2p/pnet'
import type { ConnectionProtector, PrivateKey } from '@libp2p/interface'
import { GOSSIP_LIMITS } from '../constants.js'
import { dhtProtocol, extrasTopic, incidentsTopic, recordsTopic } from '../protocol-ids.js'
import { INBOUND_UPGRADE_TIMEOUT_MS, PENDING_RESERVED_FOR_MEMBERS, PENDING_TOTAL } from './inbound-limiter.js'
import type { InboundGate } from './gater.js'

export interface HashmeshServices {
  identify: Identify
  ping: Ping
  dht: KadDHT
  pubsub: GossipSub
  [key: string]: unknown
}

export type HashmeshLibp2p = Libp2p<HashmeshServices>

/** What the libp2p node needs: the network's own settings plus the decoded key and the gater. */
export type AssemblyInit = Pick<NetworkInit, 'listen' | 'announce' | 'bootstrap' | 'allowPrivateAddresses' | 'psk' | 'federationId' | 'meshDegree'> & {
  privateKey: PrivateKey
  gater: InboundGate
}

/** Connections kept at most; a federation is tens to hundreds of members. */
export const MAX_CONNECTIONS = 200

/**
 * libp2p's own bound on inbound connections in handshake (default 10, checked before any gater hook: ten
 * stalled sockets locked every member out). The gater's inbound limiter is the real bound; this one is a
 * backstop above it, since libp2p also counts connections refused by the gater until they close, and
 * authenticated ones until their muxer is chosen.
 */
export const LIBP2P_PENDING_INBOUND_BACKSTOP = 2 * (PENDING_TOTAL + PENDING_RESERVED_FOR_MEMBERS)
/**
 * New inbound connections per second per remote host that libp2p accepts before our gater sees them (its
 * default is 5). Set so high that it never acts: the gater's limiter applies the real rate and counts
 * what it refuses, while libp2p's refusals are invisible, and a refusal costs the same in either place.
 */
export const LIBP2P_CONNECTS_PER_SECOND_BACKSTOP = 10_000

const DEFAULT_MESH_DEGREE = 3
const CONNECTION_PING_INTERVAL_MS = 60_000

/**
 * Gossipsub's mesh bounds for a target degree D: keep D-1..D+2 mesh peers, gossip to D others, and the
 * two bounds the spec ties to D (its defaults, 4 and 2, assume D = 6): keep the Dscore best-scoring peers
 * when pruning (Dscore <= D), and at least Dout outbound ones (Dout < Dlo and Dout <= D/2; with the
 * default Dout = 2 at D = 2 every heartbeat grafted extra outbound peers).
 */
export function meshDegrees(d: number): { D: number; Dlo: number; Dhi: number; Dlazy: number; Dscore: number; Dout: number } {
  const Dlo = Math.max(1, d - 1)
  return { D: d, Dlo, Dhi: d + 2, Dlazy: d, Dscore: Math.max(1, Math.floor((2 * d) / 3)), Dout: Math.min(Math.floor(d / 2), Dlo - 1) }
}

/** libp2p's pnet protector, telling the gater when the nonces are exchanged (to tell a missing key from a stall). */
function watchedPreSharedKey(psk: Uint8Array, gater: InboundGate): () => ConnectionProtector {
  const create = preSharedKey({ psk })
  return () => {
    const inner = create()
    return {
      async protect(connection, options) {
        const protectedConnection = await inner.protect(connection, options)
        if (connection.direction === 'inbound') gater.notePskExchanged(connection)
        return protectedConnection
      },
    }
  }
}

export async function assembleNode(init: AssemblyInit): Promise<HashmeshLibp2p> {
  installYamuxWindowHysteresis()
  return createLibp2p<HashmeshServices>({
    privateKey: init.privateKey,
    start: false,
    addresses: { listen: init.listen, announce: init.announce },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    ...(init.psk ? { connectionProtector: watchedPreSharedKey(init.psk, init.gater) } : {}),
    connectionGater: init.gater,
    connectionManager: {
      maxConnections: MAX_CONNECTIONS,
      maxIncomingPendingConnections: LIBP2P_PENDING_INBOUND_BACKSTOP,
      inboundUpgradeTimeout: INBOUND_UPGRADE_TIMEOUT_MS,
      inboundConnectionThreshold: LIBP2P_CONNECTS_PER_SECOND_BACKSTOP,
    },
    // libp2p pings every connection on a new stream every 10 s by default; with 19 peers that was a
    // visible share of an idle node's CPU. Yamux's own keep-alive (30 s, no new stream) already keeps
    // connections alive, so the round-trip measurement runs once a minute.
    connectionMonitor: { pingInterval: CONNECTION_PING_INTERVAL_MS },
    peerDiscovery: init.bootstrap.length > 0 ? [bootstrap({ list: init.bootstrap })] : [],
    services: {
      identify: identify(),
      ping: ping(),
      dht: kadDHT({
        protocol: dhtProtocol(init.federationId),
        clientMode: false,
        peerInfoMapper: init.allowPrivateAddresses ? passthroughMapper : removePrivateAddressesMapper,
        logPrefix: 'hashmesh:dht',
      }),
      pubsub: gossipsub({
        globalSignaturePolicy: 'StrictNoSign',
        allowPublishToZeroTopicPeers: true,
        ignoreDuplicatePublishError: true,
        emitSelf: false,
        maxInboundDataLength: GOSSIP_LIMITS.maxRpcBytes,
        allowedTopics: [recordsTopic(init.federationId), extrasTopic(init.federationId), incidentsTopic(init.federationId)],
        // Every peer here passed the roster gate, and members often share an address (one host in tests
        // and devnets, NAT on a LAN). Gossipsub's default penalises more than 10 peers per IP so hard that
        // with 20 nodes on 127.0.0.1 every peer was graylisted and gossip delivered nothing (sync did).
        scoreParams: { IPColocationFactorWeight: 0 },
        // A federation is tens of members, each connected to most others. The defaults (mesh of 6, own
        // messages flooded to every peer) sent each record ~N x 6 times; with 10 nodes on one 2-core host
        // that saturated the CPUs in socket writes and yamux/noise framing. A mesh of 3 (2..5) plus lazy
        // gossip to 3 more still reaches everyone in a few hops, and anti-entropy sync repairs the rest.
        ...meshDegrees(init.meshDegree ?? DEFAULT_MESH_DEGREE),
        floodPublish: false,
      }),
    },
  })
}

/**
 * Connection gating: the roster decides who may connect, checked at every stage where libp2p knows the
 * remote peer id (dial, and after the encryption handshake in both directions), so a peer the roster
 * does not allow, or one we banned, never gets an upgraded connection.
 * The roster may change at runtime: isAllowedPeer is consulted on every call, never cached.
 */
import type { ConnectionGater, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { isPrivate } from '@libp2p/utils'
import type { PeerHygiene } from './peer-hygiene.js'

export interface GaterInit {
  isAllowedPeer: (peerId: string) => boolean
  hygiene: PeerHygiene
  allowPrivateAddresses: boolean
  /** Told about each refusal (for counters and logs). */
  onRefused: (peerId: string, reason: 'not-allowed' | 'banned', direction: 'inbound' | 'outbound') => void
}

export function createGater(init: GaterInit): ConnectionGater {
  const refuse = (peer: PeerId, direction: 'inbound' | 'outbound'): boolean => {
    const peerId = peer.toString()
    let allowed = false
    try {
      allowed = init.isAllowedPeer(peerId)
    } catch {
      allowed = false // a failing roster check refuses rather than admits
    }
    if (!allowed) {
      init.onRefused(peerId, 'not-allowed', direction)
      return true
    }
    if (init.hygiene.isBanned(peerId)) {
      init.onRefused(peerId, 'banned', direction)
      return true
    }
    return false
  }
  return {
    denyDialPeer: (peer) => refuse(peer, 'outbound'),
    denyDialMultiaddr: (addr: Multiaddr) => !init.allowPrivateAddresses && isPrivateAddr(addr),
    denyInboundEncryptedConnection: (peer) => refuse(peer, 'inbound'),
    denyOutboundEncryptedConnection: (peer) => refuse(peer, 'outbound'),
    denyInboundUpgradedConnection: (peer) => refuse(peer, 'inbound'),
    denyOutboundUpgradedConnection: (peer) => refuse(peer, 'outbound'),
  }
}

function isPrivateAddr(addr: Multiaddr): boolean {
  try {
    return isPrivate(addr)
  } catch {
    return false
  }
}

/**
 * Connection gating in two steps.
 *
 * Before authentication (denyInboundConnection) only the source address is known: the inbound limiter
 * bounds how many handshakes each address and all addresses together may hold, so stalled sockets cannot
 * take every slot (see inbound-limiter.ts). A connection that closes before it authenticates is counted
 * by why: handshake timeout, wrong or missing pre-shared key, closed or garbled, evicted.
 *
 * Once the encryption handshake names the remote peer (and at dial and after the upgrade, in both
 * directions), the roster decides who may connect and our ban list who may not, so a peer the roster
 * does not allow, or one we banned, never gets an upgraded connection. The roster may change at runtime:
 * isAllowedPeer is consulted on every call, never cached.
 */
import type { ConnectionGater, MultiaddrConnection, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { isPrivate } from '@libp2p/utils'
import { safetyCatch } from '../errors.js'
import { addressKey, type InboundLimiter, type PendingTicket } from './inbound-limiter.js'
import type { PeerHygiene } from './peer-hygiene.js'
import type { RefusalSubject } from './refusals.js'
import type { RefusalReason } from './types.js'

/** A connection closed this close to the upgrade timeout was closed by it (timers fire a little early or late). */
const TIMEOUT_SLACK_MS = 250

export interface GaterInit {
  isAllowedPeer: (peerId: string) => boolean
  hygiene: PeerHygiene
  allowPrivateAddresses: boolean
  limiter: InboundLimiter
  /** A pre-shared key is in use (see InboundGate.notePskExchanged). */
  pskEnabled: boolean
  /** libp2p's inbound upgrade timeout, to tell timeouts from other failures. */
  upgradeTimeoutMs: number
  /** Told about each refused or failed connection (for counters and logs). */
  onRefused: (reason: RefusalReason, subject: RefusalSubject, direction: 'inbound' | 'outbound') => void
  now?: () => number
}

export interface InboundGate extends ConnectionGater {
  /**
   * The pre-shared-key nonces were exchanged on this connection (the connection protector calls this).
   * A peer without our key (plain libp2p, or another key) gets this far and then sends bytes that decrypt
   * to garbage, so its handshake fails or stalls after this point; a socket that stalls before it is a
   * handshake timeout.
   */
  notePskExchanged(connection: object): void
}

export function createGater(init: GaterInit): InboundGate {
  const now = init.now ?? Date.now
  /** Inbound connections still in their handshake, with their limiter slot. */
  const pending = new WeakMap<MultiaddrConnection, PendingTicket>()
  const pskExchanged = new WeakSet<object>()

  const refuse = (peer: PeerId, direction: 'inbound' | 'outbound'): boolean => {
    const peerId = peer.toString()
    let allowed = false
    try {
      allowed = init.isAllowedPeer(peerId)
    } catch (err) {
      safetyCatch(err)
      allowed = false // a failing roster check refuses rather than admits
    }
    if (!allowed) {
      init.onRefused('notInRoster', { peer: peerId }, direction)
      return true
    }
    if (init.hygiene.isBanned(peerId)) {
      init.onRefused('banned', { peer: peerId }, direction)
      return true
    }
    return false
  }

  const failureReason = (maConn: MultiaddrConnection, error: Error | undefined, ageMs: number): RefusalReason => {
    if (init.pskEnabled && pskExchanged.has(maConn)) return 'badPsk'
    const text = `${error?.name ?? ''} ${error?.message ?? ''}`
    if (ageMs >= init.upgradeTimeoutMs - TIMEOUT_SLACK_MS || /timeout|timed out/i.test(text)) return 'handshakeTimeout'
    return 'handshakeFailed'
  }

  const admitInbound = (maConn: MultiaddrConnection): boolean => {
    const host = hostOf(maConn.remoteAddr)
    const address = host ?? maConn.remoteAddr.toString()
    let evicted = false
    const ticket = init.limiter.admit(host ? addressKey(host) : address, () => {
      evicted = true
      maConn.abort(new Error('pending connection evicted: the handshake pool is full and it stalled'))
    })
    if (typeof ticket === 'string') {
      init.onRefused(ticket, { address }, 'inbound')
      return true
    }
    pending.set(maConn, ticket)
    maConn.addEventListener(
      'close',
      (evt) => {
        if (!pending.has(maConn)) return // authenticated: the roster gate had its say
        pending.delete(maConn)
        init.limiter.release(ticket)
        init.onRefused(evicted ? 'evicted' : failureReason(maConn, evt.error, now() - ticket.openedAt), { address }, 'inbound')
      },
      { once: true },
    )
    return false
  }

  return {
    notePskExchanged: (connection) => void pskExchanged.add(connection),
    denyInboundConnection: admitInbound,
    denyDialPeer: (peer) => refuse(peer, 'outbound'),
    denyDialMultiaddr: (addr: Multiaddr) => !init.allowPrivateAddresses && isPrivateAddr(addr),
    denyInboundEncryptedConnection: (peer, maConn) => {
      const ticket = pending.get(maConn)
      if (ticket) {
        pending.delete(maConn)
        init.limiter.release(ticket)
      }
      const refused = refuse(peer, 'inbound')
      if (!refused && ticket) init.limiter.rememberMemberAddress(ticket.key)
      return refused
    },
    denyOutboundEncryptedConnection: (peer, maConn) => {
      const refused = refuse(peer, 'outbound')
      const host = hostOf(maConn.remoteAddr)
      // a member we reached lives at this address: its own dials to us will come from there
      if (!refused && host) init.limiter.rememberMemberAddress(addressKey(host))
      return refused
    },
    denyInboundUpgradedConnection: (peer) => refuse(peer, 'inbound'),
    denyOutboundUpgradedConnection: (peer) => refuse(peer, 'outbound'),
  }
}

function hostOf(addr: Multiaddr): string | undefined {
  return addr.getComponents().find((c) => c.name === 'ip4' || c.name === 'ip6')?.value
}

function isPrivateAddr(addr: Multiaddr): boolean {
  try {
    return isPrivate(addr)
  } catch (err) {
    safetyCatch(err) // an address isPrivate cannot read (a name, a relay): not known private
    return false
  }
}

/**
 * Admission of inbound connections before authentication. Until the encryption handshake names the remote
 * peer, all we know of a connection is its source address, and the roster gate cannot help: an outsider
 * that opens sockets and stalls takes a slot each. libp2p bounds pending inbound connections globally (10
 * by default), so ten stalled sockets locked every member out. Here the bound is per source address, the
 * general pool is shared fairly, and addresses members have connected from keep slots of their own:
 *
 * - an address (an IPv4 address, or an IPv6 /64, which one host usually owns whole) may hold at most
 *   PENDING_PER_ADDRESS connections in handshake, PENDING_PER_MEMBER_ADDRESS if a member was seen there;
 * - all addresses together hold at most PENDING_TOTAL; when that pool is full, the oldest connection from a
 *   non-member address is closed to make room if it is older than EVICTABLE_AFTER_MS (a handshake takes
 *   milliseconds to a second, so a connection that old has most likely stalled), else the new one is refused;
 * - member addresses have PENDING_RESERVED_FOR_MEMBERS more slots that other addresses never take;
 * - an address may open CONNECTS_PER_SECOND_PER_ADDRESS new connections a second (a token bucket),
 *   four times that from a member address. (libp2p's own per-host rate limit sits above this one: its
 *   refusals happen before any hook and could not be counted.)
 *
 * A connection leaves the table once authenticated (the roster gate then decides) or closed. Pure
 * bookkeeping with an injected clock; the gater wires it to libp2p.
 */
import { fullBucket, reserveToken, type TokenBucket } from './token-bucket.js'

/**
 * libp2p's inbound upgrade timeout (its default is 10 s). A handshake is about five round trips (pnet
 * nonces, multistream, noise XX, muxer): under 2 s even at 300 ms RTT. And the dialers are hashmesh nodes,
 * which give up after DIAL_TIMEOUT_MS (5 s; libp2p's own limit per address is 6 s): a handshake still
 * running after 5 s has nobody waiting for it.
 */
export const INBOUND_UPGRADE_TIMEOUT_MS = 5_000
/** Handshakes at once from an address no member was seen at: one node dials us once, a restart twice. */
export const PENDING_PER_ADDRESS = 4
/** From an address a member connected from: several member nodes may share it (NAT, a devnet host). */
export const PENDING_PER_MEMBER_ADDRESS = 16
/** Handshakes at once from all addresses together, beyond the members' reserve. */
export const PENDING_TOTAL = 32
/** Extra slots only member addresses may use when the general pool is full. */
export const PENDING_RESERVED_FOR_MEMBERS = 16
/** A pending connection this old may be closed to admit a newer one when the pool is full. */
export const EVICTABLE_AFTER_MS = 1_000
/** New connections per second from an address (libp2p's default per-host rate): a node dials us a few times a minute. */
export const CONNECTS_PER_SECOND_PER_ADDRESS = 5
/** Connections an address may open at once before the rate applies: a restart, a burst of roster dials. */
export const CONNECTS_BURST_PER_ADDRESS = 10
/** Rate and burst for member addresses are this many times larger: tens of member nodes can share a devnet host. */
export const MEMBER_ADDRESS_RATE_FACTOR = 4
/** Member addresses remembered at most (least recently seen dropped first); a federation has hundreds. */
export const MAX_MEMBER_ADDRESSES = 1_024
/** Rate buckets kept at most (least recently used dropped first: a dropped address starts again with a full burst). */
export const MAX_RATE_BUCKETS = 4_096

export type AdmitRefusal = 'ipLimit' | 'rateLimit' | 'pendingLimit'

export interface PendingTicket {
  readonly key: string
  readonly member: boolean
  readonly openedAt: number
}

interface Entry extends PendingTicket {
  evict: () => void
}

export interface InboundLimiterOptions {
  perAddress?: number
  perMemberAddress?: number
  total?: number
  reservedForMembers?: number
  evictableAfterMs?: number
  connectsPerSecond?: number
  connectsBurst?: number
  now?: () => number
}

export class InboundLimiter {
  private readonly pending = new Set<Entry>()
  private readonly byKey = new Map<string, number>()
  private readonly memberAddresses = new Set<string>()
  private readonly buckets = new Map<string, TokenBucket>()
  private readonly perAddress: number
  private readonly perMemberAddress: number
  private readonly total: number
  private readonly reserved: number
  private readonly evictableAfterMs: number
  private readonly rate: number
  private readonly burst: number
  private readonly now: () => number
  /** Pending connections closed to make room for newer ones. */
  evictedTotal = 0

  constructor(options: InboundLimiterOptions = {}) {
    this.perAddress = options.perAddress ?? PENDING_PER_ADDRESS
    this.perMemberAddress = options.perMemberAddress ?? PENDING_PER_MEMBER_ADDRESS
    this.total = options.total ?? PENDING_TOTAL
    this.reserved = options.reservedForMembers ?? PENDING_RESERVED_FOR_MEMBERS
    this.evictableAfterMs = options.evictableAfterMs ?? EVICTABLE_AFTER_MS
    this.rate = options.connectsPerSecond ?? CONNECTS_PER_SECOND_PER_ADDRESS
    this.burst = options.connectsBurst ?? CONNECTS_BURST_PER_ADDRESS
    this.now = options.now ?? Date.now
  }

  /** A member authenticated from this address (key from addressKey): its later connections get the member bounds. */
  rememberMemberAddress(key: string): void {
    this.memberAddresses.delete(key) // re-insert: Set order doubles as recency
    if (this.memberAddresses.size >= MAX_MEMBER_ADDRESSES) this.memberAddresses.delete(this.memberAddresses.values().next().value!)
    this.memberAddresses.add(key)
  }

  isMemberAddress(key: string): boolean {
    return this.memberAddresses.has(key)
  }

  /**
   * Admit a new connection from `key`, or say why not. `evict` closes it if it must later make room;
   * the caller calls release() once it authenticates or closes.
   */
  admit(key: string, evict: () => void): PendingTicket | AdmitRefusal {
    const member = this.memberAddresses.has(key)
    if ((this.byKey.get(key) ?? 0) >= (member ? this.perMemberAddress : this.perAddress)) return 'ipLimit'
    if (!this.takeToken(key, member ? MEMBER_ADDRESS_RATE_FACTOR : 1)) return 'rateLimit'
    const general = this.generalCount()
    const fits = general < this.total || (member && this.pending.size - general < this.reserved)
    if (!fits) {
      const oldest = this.oldestGeneral()
      if (!oldest || this.now() - oldest.openedAt < this.evictableAfterMs) return 'pendingLimit'
      this.release(oldest)
      this.evictedTotal++
      oldest.evict()
    }
    const entry: Entry = { key, member, openedAt: this.now(), evict }
    this.pending.add(entry)
    this.byKey.set(key, (this.byKey.get(key) ?? 0) + 1)
    return entry
  }

  /** The connection authenticated or closed; idempotent. */
  release(ticket: PendingTicket): void {
    if (!this.pending.delete(ticket as Entry)) return
    const n = this.byKey.get(ticket.key)! - 1
    if (n === 0) this.byKey.delete(ticket.key)
    else this.byKey.set(ticket.key, n)
  }

  stats(): { pending: number; pendingAddresses: number; memberAddresses: number } {
    return { pending: this.pending.size, pendingAddresses: this.byKey.size, memberAddresses: this.memberAddresses.size }
  }

  private takeToken(key: string, factor: number): boolean {
    const now = this.now()
    const burst = this.burst * factor
    let b = this.buckets.get(key)
    if (b) this.buckets.delete(key) // re-insert: Map order doubles as recency
    else {
      b = fullBucket(burst, now)
      if (this.buckets.size >= MAX_RATE_BUCKETS) this.buckets.delete(this.buckets.keys().next().value!)
    }
    this.buckets.set(key, b)
    return reserveToken(b, now, this.rate * factor, burst) !== undefined
  }

  /** Connections counted against the general pool: every pending one beyond the reserve members use. */
  private generalCount(): number {
    let members = 0
    for (const e of this.pending) if (e.member) members++
    return this.pending.size - Math.min(members, this.reserved)
  }

  /** The oldest connection from a non-member address (Set order is arrival order); members' are never evicted. */
  private oldestGeneral(): Entry | undefined {
    for (const e of this.pending) if (!e.member) return e
    return undefined
  }
}

/**
 * What limits are counted against: the IPv4 address, or the first 64 bits of an IPv6 address (a host
 * usually gets a whole /64, so per-address bounds on full IPv6 addresses would bound nothing).
 */
export function addressKey(host: string): string {
  const ip = host.replace(/%.*$/, '').toLowerCase() // drop an IPv6 zone id
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(ip)
  if (mapped) return mapped[1]!
  if (!ip.includes(':')) return ip
  const [head = '', tail] = ip.split('::')
  const left = head === '' ? [] : head.split(':')
  const right = tail === undefined || tail === '' ? [] : tail.split(':')
  const groups = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
  return `${groups.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(':')}::/64`
}

/** What the gossip, sync server and sync client share: the replica, counters and peer hygiene. */
import type { ReplicaAccess } from '../sync/types.js'
import type { PeerHygiene } from './peer-hygiene.js'
import { emptyRefusals } from './refusals.js'
import { emptyVerdicts, type NetLogger, type NetMetrics, type VerdictCounts } from './types.js'

export type Counters = Omit<NetMetrics, 'peersConnected' | 'hygiene' | 'inbound'>

export function newCounters(): Counters {
  return {
    connectionsRefused: 0,
    connectionsRefusedByReason: emptyRefusals(),
    rosterDials: 0,
    rosterDialFailures: 0,
    gossip: {
      published: 0,
      publishedExtras: 0,
      publishNoPeers: 0,
      publishErrors: 0,
      records: emptyVerdicts(),
      extras: emptyVerdicts(),
      oversized: 0,
      heldForRoster: 0,
    },
    sync: {
      sessionsStarted: 0,
      sessionsSucceeded: 0,
      sessionsFailed: 0,
      requestsSent: 0,
      records: emptyVerdicts(),
      extras: emptyVerdicts(),
      requestsServed: 0,
      recordsServed: 0,
      requestsDelayed: 0,
      requestsRateLimited: 0,
      protocolErrors: 0,
      timeouts: 0,
      forksFound: 0,
    },
  }
}

export interface NetContext {
  replica: ReplicaAccess
  hygiene: PeerHygiene
  counters: Counters
  log: NetLogger
  /** Aborted when the network stops. */
  signal: AbortSignal
  /** Count invalid items from a peer; past the bound the peer is banned and disconnected. */
  penalize(peerId: string, n: number, reason: string): void
}

export function countVerdicts(into: VerdictCounts, results: readonly { verdict: keyof VerdictCounts }[]): number {
  let rejected = 0
  for (const r of results) {
    into[r.verdict]++
    if (r.verdict === 'rejected') rejected++
  }
  return rejected
}

/**
 * Keeps a node connected to every member node in the roster, not only to its bootstrap peers. A round
 * dials, by peer id, the roster peers that are neither this node, connected nor banned; a peer with no
 * address, or whose known addresses fail, is looked up in the federation's DHT first (kad-dht, whose
 * routing tables fill from every connection; see dialRosterPeer in index.ts). So one bootstrap address
 * is enough to join the whole federation, and a member that moves to a new address is found again.
 */

/** Dials per round at most (a federation is tens of members; a round runs on start, after connects and on each sync tick). */
export const ROSTER_DIALS_PER_ROUND = 16

export interface RosterDialDeps {
  self: string
  /** Peer ids of every member node in the current roster. */
  rosterPeers: () => string[]
  connectedPeers: () => string[]
  isBanned: (peerId: string) => boolean
  /** Dials a peer by id (a DHT lookup when no address is known or the known ones fail); rejects on failure. */
  dial: (peerId: string) => Promise<unknown>
}

export interface RosterDialRound { missing: number; attempted: number; connected: number }

export async function dialMissingRosterPeers(deps: RosterDialDeps): Promise<RosterDialRound> {
  const connected = new Set(deps.connectedPeers())
  const missing = [...new Set(deps.rosterPeers())].filter((p) => p !== deps.self && !connected.has(p) && !deps.isBanned(p))
  // a random subset when many are missing, so that one unreachable member cannot starve the others
  const chosen = missing.length <= ROSTER_DIALS_PER_ROUND ? missing : shuffled(missing).slice(0, ROSTER_DIALS_PER_ROUND)
  const outcomes = await Promise.allSettled(chosen.map((p) => deps.dial(p)))
  return { missing: missing.length, attempted: chosen.length, connected: outcomes.filter((o) => o.status === 'fulfilled').length }
}

function shuffled<T>(items: T[]): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

/**
 * What scenarios d and f check once the two branches of a fork have met: when each node flags the
 * forked feed, whether their replica digests agree, bans and penalties against honest peers, and, with
 * the nodes stopped, the proof set each store holds.
 */
import { signalsBody } from '../lib/bench-fill.js'
import { createRecord, type ChainPosition } from '../../src/record/build.js'
import { toHex } from '../../src/record/crypto.js'
import type { Signer } from '../../src/record/crypto.js'
import type { VerifiedRecord } from '../../src/record/types.js'
import { checkStore, type Cluster } from './cluster.js'
import { api, forkDetected, hygieneAgainst, proofsOf, replicaDigest, sleep, type ScenarioContext } from './common.js'

/** A record of `signer`'s feed after `head`, built with the record helpers (as a misbehaving member would). */
export function forkRecord(signer: Signer, head: ChainPosition): VerifiedRecord {
  return createRecord(signer, head, 'signals', signalsBody(1))
}

/** Delivers records through a node's import API (POST /v1/records); returns the verdicts. */
export async function importRecords(cluster: Cluster, name: string, records: Array<{ bytes: Uint8Array }>): Promise<Array<{ verdict: string; code?: string }>> {
  const res = await api<{ results: Array<{ verdict: string; code?: string }> }>(cluster.target(name), 'POST', '/v1/records', { records: records.map((r) => toHex(r.bytes)) })
  return res.results
}

export interface ForkObservation {
  /** ms after `since` at which each node first flagged the feed (absent: never within the window). */
  flaggedAfterMs: Record<string, number>
  /** Honest peers banned / penalised (invalid items counted) by any node, worst seen over the window. */
  bans: Array<{ by: string; peer: string }>
  penalties: Array<{ by: string; peer: string; invalid: number }>
  /** Live replica digests (scripts/reliability/common.ts) at the end of the window, by node. */
  digests: Record<string, string>
  /** The digests the nodes report themselves (/v1/status replicaDigest), when they do. */
  nodeDigests: Record<string, string>
  /** ms after `since` at which all nodes first had one live digest and all flagged the feed. */
  convergedAfterMs?: number
  unreachable: string[]
}

/**
 * Polls every node's /v1/status (and /v1/equivocations): when it first flags `feed`, its live replica
 * digest, and bans and invalid counts it holds against `honestPeers` (name -> peer id). Runs until
 * `convergeBy` (epoch ms) or until every node flags the feed and all digests agree, whichever is first,
 * then `observeMs` longer (bans and penalties can come later than the detection).
 */
export async function observeFork(
  ctx: ScenarioContext,
  cluster: Cluster,
  names: string[],
  feed: string,
  honestPeers: Map<string, string>,
  since: number,
  convergeBy: number,
  observeMs: number,
): Promise<ForkObservation> {
  let untilMs = convergeBy + observeMs
  const obs: ForkObservation = { flaggedAfterMs: {}, bans: [], penalties: [], digests: {}, nodeDigests: {}, unreachable: [] }
  const nameOfPeer = new Map([...honestPeers].map(([name, peer]) => [peer, name]))
  const honest = new Set(honestPeers.values())
  const bans = new Map<string, { by: string; peer: string }>()
  const penalties = new Map<string, { by: string; peer: string; invalid: number }>()
  for (;;) {
    const unreachable: string[] = []
    await Promise.all(names.map(async (name) => {
      try {
        const s = await cluster.status(name)
        const view = { heads: s.heads, proofs: await proofsOf(cluster.target(name), s) }
        if (forkDetected(view, feed) && obs.flaggedAfterMs[name] === undefined) obs.flaggedAfterMs[name] = Date.now() - since
        obs.digests[name] = replicaDigest(view)
        if (s.replicaDigest) obs.nodeDigests[name] = s.replicaDigest
        const h = hygieneAgainst(s, honest)
        for (const peer of h.banned) bans.set(`${name}>${peer}`, { by: name, peer: nameOfPeer.get(peer) ?? peer })
        for (const [peer, invalid] of Object.entries(h.penalised)) {
          const key = `${name}>${peer}`
          if ((penalties.get(key)?.invalid ?? 0) < invalid) penalties.set(key, { by: name, peer: nameOfPeer.get(peer) ?? peer, invalid })
        }
      } catch {
        unreachable.push(name)
      }
    }))
    obs.unreachable = unreachable
    const allFlagged = names.every((n) => obs.flaggedAfterMs[n] !== undefined)
    const oneDigest = unreachable.length === 0 && new Set(names.map((n) => obs.digests[n])).size === 1 &&
      new Set(names.map((n) => obs.nodeDigests[n])).size === 1
    if (allFlagged && oneDigest && obs.convergedAfterMs === undefined) {
      obs.convergedAfterMs = Date.now() - since
      untilMs = Math.min(untilMs, Date.now() + observeMs)
    }
    if (Date.now() >= untilMs || ctx.signal.aborted) break
    await sleep(100, ctx.signal)
  }
  obs.bans = [...bans.values()]
  obs.penalties = [...penalties.values()]
  return obs
}

/** Stops every node, then reads each store: final replica digest (with the full proof set) and proofs. */
export async function finalProofSets(cluster: Cluster, names: string[]): Promise<{ digests: Record<string, string>; proofs: Record<string, string[]>; oneDigest: boolean; oneProofSet: boolean; storeProblems: string[] }> {
  await cluster.stopAll()
  const digests: Record<string, string> = {}
  const proofs: Record<string, string[]> = {}
  const storeProblems: string[] = []
  for (const name of names) {
    const c = await checkStore(cluster.member(name).dataDir)
    digests[name] = replicaDigest({ heads: c.heads, proofs: c.proofs })
    proofs[name] = c.proofs.map((p) => `${p.feed.slice(0, 8)}@${p.seq}:${p.ids.map((id) => id.slice(0, 8)).join('/')}`).sort()
    // a flagged feed's stored chain is one branch; only report problems on the others
    const flagged = c.heads.filter((h) => h.equivocating).map((h) => h.feed.slice(0, 8))
    for (const p of c.problems) if (!flagged.some((f) => p.startsWith(f))) storeProblems.push(`${name}: ${p}`)
  }
  const oneDigest = new Set(Object.values(digests)).size === 1
  const oneProofSet = new Set(Object.values(proofs).map((p) => p.join(','))).size === 1 && Object.values(proofs).every((p) => p.length > 0)
  return { digests, proofs, oneDigest, oneProofSet, storeProblems }
}

/** Waits until every named node reports at least `min` peers (or the time passes); returns the laggards. */
export async function waitForPeers(ctx: ScenarioContext, cluster: Cluster, want: Record<string, number>, timeoutMs: number): Promise<string[]> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const lacking: string[] = []
    for (const [name, min] of Object.entries(want)) {
      const peers = await cluster.status(name).then((s) => s.network?.peers ?? 0, () => 0)
      if (peers < min) lacking.push(`${name} (${peers} of ${min} peers)`)
    }
    if (lacking.length === 0 || Date.now() > until || ctx.signal.aborted) return lacking
    await sleep(200, ctx.signal)
  }
}

/** Where each node stands on `feed` (for the report when something did not converge). */
export async function snapshot(cluster: Cluster, names: string[], feed: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {}
  for (const name of names) {
    try {
      const s = await cluster.status(name)
      const h = s.heads.find((x) => x.feed === feed)
      out[name] = { peers: s.network?.peers ?? 0, head: h ? `${h.seq}:${h.id.slice(0, 8)}` : null, flagged: h?.equivocating ?? false, proofs: s.equivocations, nodeDigest: s.replicaDigest, log: cluster.member(name).log.join('').split('\n').filter((l) => /"level":(40|50|60)/.test(l)).slice(-3).join('\n').slice(-600) }
    } catch (err) {
      out[name] = { error: (err as Error).message }
    }
  }
  return out
}

/**
 * Log lines (nodes run at log level debug in scenarios d and f) in which node `by` mentions `peer` with a
 * rejection or a failure: the likely reason it counted invalid items against that peer.
 */
export function penaltyEvidence(cluster: Cluster, by: string, peerName: string): string[] {
  const peerId = cluster.peerIdOf(peerName)
  return cluster.member(by).log.join('').split('\n')
    .filter((line) => line.includes(peerId) && (/"rejected":[1-9]/.test(line) ||
      (!line.includes('"event":"sync.session.done"') && /"event":"[^"]*(rejected|failed|banned|refused|limited|fork)|"code":|"reason":/.test(line))))
    .slice(-5)
    .map((line) => line.replaceAll(peerId, peerName).slice(0, 600))
}

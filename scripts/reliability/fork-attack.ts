/**
 * Scenario f: the fork attack of issue 12.
 *
 * Members Alpha, Bravo, Charlie and Delta; Alpha, Bravo and Delta run nodes, Charlie (the dishonest
 * member) does not. With Charlie's key from its data dir the script signs X1 and Y1, two different
 * records at seq 1, and X2 at seq 2 (prev = X1). X1 is imported on Alpha and Y1 on Bravo at the same
 * time, then X2 on Alpha: the branches have met. Checks:
 *   - within one sync interval (+ 2 s for the session and the proof's gossip) every running node detects
 *     the fork (Charlie's feed flagged in /v1/status, or its proof listed by /v1/equivocations: a node
 *     that never held a record of the feed learns of the fork from the proof alone);
 *   - all reach one live replica digest, and one node-reported digest;
 *   - over an observation window after that no honest node (Alpha, Bravo, Delta) bans or penalises
 *     another (the conflict is Charlie's fault, not the relays');
 *   - with the nodes stopped, every store holds the same, non-empty proof set and all final replica
 *     digests agree.
 */
import { Cluster } from './cluster.js'
import { type Scenario, type ScenarioContext, type ScenarioResult } from './common.js'
import { finalProofSets, forkRecord, importRecords, observeFork, penaltyEvidence, snapshot, waitForPeers } from './fork-checks.js'

const RUNNING = ['Alpha', 'Bravo', 'Delta']

export async function forkAttack(ctx: ScenarioContext, o: { syncIntervalMs: number; graceMs: number; observeMs: number }): Promise<Omit<ScenarioResult, 'id' | 'name' | 'seconds'>> {
  const notes: string[] = []
  const cluster = await Cluster.create(ctx, { names: ['Alpha', 'Bravo', 'Charlie', 'Delta'], syncIntervalMs: o.syncIntervalMs, logLevel: 'debug' })
  const fail = (note: string): Omit<ScenarioResult, 'id' | 'name' | 'seconds'> => ({
    runs: '0 forks', lost: null, crashes: cluster.crashes.length, forks: 'n/a', honestBanned: null, ok: false,
    notes: [note, ...notes, ...cluster.crashes.map((c) => `${c.name} ${c.what}`)], details: {},
  })
  for (const name of RUNNING) if (!(await cluster.start(name))) return fail(`${name} failed to start`)
  const lacking = await waitForPeers(ctx, cluster, { Alpha: 2, Bravo: 2, Delta: 2 }, 30_000)
  if (lacking.length > 0) return fail(`nodes did not connect: ${lacking.join(', ')}`)

  const charlie = cluster.signerOf('Charlie')
  const feed = cluster.memberKeyOf('Charlie')
  const x1 = forkRecord(charlie, { seq: 0, id: null })
  const y1 = forkRecord(charlie, { seq: 0, id: null })
  const x2 = forkRecord(charlie, { seq: 1, id: x1.record.id })
  const [[atAlpha], [atBravo]] = await Promise.all([importRecords(cluster, 'Alpha', [x1]), importRecords(cluster, 'Bravo', [y1])])
  const [second] = await importRecords(cluster, 'Alpha', [x2])
  const metAt = Date.now()
  for (const [what, v] of [['X1 at Alpha', atAlpha], ['Y1 at Bravo', atBravo], ['X2 at Alpha', second]] as const) {
    if (v?.verdict !== 'accepted') notes.push(`${what}: ${v?.verdict} ${v?.code ?? ''} (expected accepted)`)
  }
  const honest = new Map(RUNNING.map((n) => [n, cluster.peerIdOf(n)]))
  const windowMs = o.syncIntervalMs + o.graceMs
  const obs = await observeFork(ctx, cluster, RUNNING, feed, honest, metAt, metAt + windowMs, o.observeMs)
  ctx.log(`flagged after ${JSON.stringify(obs.flaggedAfterMs)} ms (window ${windowMs} ms); one digest after ${obs.convergedAfterMs ?? '-'} ms`)
  const before = await snapshot(cluster, RUNNING, feed)
  const final = await finalProofSets(cluster, RUNNING)

  const inTime = RUNNING.filter((n) => (obs.flaggedAfterMs[n] ?? Infinity) <= windowMs)
  const everFlagged = RUNNING.filter((n) => obs.flaggedAfterMs[n] !== undefined)
  const { bans, penalties } = obs
  if (inTime.length < RUNNING.length) notes.push(`flagged within one sync interval on ${inTime.length} of ${RUNNING.length} nodes; by the end of the ${Math.round(o.observeMs / 1000)} s observation on ${everFlagged.length}`)
  if (!final.oneProofSet) notes.push(`proof sets differ or are empty: ${JSON.stringify(final.proofs)}`)
  if (!final.oneDigest) notes.push(`final replica digests: ${new Set(Object.values(final.digests)).size} distinct`)
  if (obs.convergedAfterMs === undefined) notes.push(`no single live replica digest (and node digest) by the end: ${new Set(Object.values(obs.digests)).size} distinct`)
  if (bans.length > 0) notes.push(`honest peers banned: ${bans.map((b) => `${b.by} banned ${b.peer}`).join(', ')}`)
  if (penalties.length > 0) notes.push(`honest peers penalised: ${penalties.map((p) => `${p.by} counted ${p.invalid} against ${p.peer}`).join(', ')}`)
  const evidence = penalties.map((p) => ({ ...p, log: penaltyEvidence(cluster, p.by, p.peer) }))
  for (const e of evidence) for (const line of e.log.slice(-1)) notes.push(`  ${e.by}'s log about ${e.peer}: ${line}`)
  for (const p of final.storeProblems.slice(0, 3)) notes.push(`store: ${p}`)
  for (const n of RUNNING.filter((n) => !everFlagged.includes(n))) notes.push(`${n} at the end: ${JSON.stringify(before[n])}`)
  for (const c of cluster.crashes) notes.push(`${c.name} ${c.what}`)
  const ok = inTime.length === RUNNING.length && obs.convergedAfterMs !== undefined && final.oneProofSet && final.oneDigest && bans.length === 0 && penalties.length === 0 &&
    cluster.crashes.length === 0 && final.storeProblems.length === 0 && notes.length === 0
  return {
    runs: '1 fork',
    lost: null,
    crashes: cluster.crashes.length,
    forks: `${inTime.length}/${RUNNING.length} nodes`,
    honestBanned: bans.length,
    ok,
    notes,
    details: { windowMs, flaggedAfterMs: obs.flaggedAfterMs, convergedAfterMs: obs.convergedAfterMs, bans, penalties: evidence, liveDigests: obs.digests, nodeDigests: obs.nodeDigests, proofs: final.proofs, finalDigests: final.digests, nodes: before },
  }
}

export const scenarioF: Scenario = {
  id: 'f',
  name: 'fork attack (X1/Y1 at seq 1, X2)',
  deadlineMs: { full: 5 * 60_000, quick: 180_000 },
  run: (ctx) => forkAttack(ctx, {
    syncIntervalMs: 2000,
    graceMs: 2000,
    observeMs: ctx.params.observeMs ?? (ctx.quick ? 6_000 : 60_000),
  }),
}

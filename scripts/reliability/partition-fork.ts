/**
 * Scenario d: a 5-node partition with a fork made during it, then the heal.
 *
 * N1..N5 start as two groups that only know each other ({N1, N2} and {N3, N4, N5}: each node's bootstrap
 * list names only its own group, and the DHT then knows nobody else). Every node contributes two
 * records. N5's member forks its feed: N5's API signs X at seq s, the script signs Y at the same seq
 * with N5's key read from N5's data dir and imports N5's first s-1 records and Y on N1; N5 then
 * contributes X2 on top of X. Each group converges on its own side of the fork. Heal: N2 restarts with
 * N3 added to its bootstrap list. Checks, from the moment N2 is up again: within the convergence window
 * every node detects the fork (N5's feed flagged, or its proof held) and all reach one live replica
 * digest (scripts/reliability/common.ts) and one node-reported digest; until the end of an observation
 * window after that no node bans or penalises an honest node (N1..N4); finally, with every node
 * stopped, all five stores give one replica digest with the full proof set (the same non-empty proof
 * set everywhere) and whole chains on the feeds without a fork.
 */
import { Cluster } from './cluster.js'
import { api, checkDeadline, replicaDigest, type Scenario, type ScenarioContext, type ScenarioResult } from './common.js'
import { finalProofSets, forkRecord, importRecords, observeFork, penaltyEvidence, snapshot, waitForPeers } from './fork-checks.js'

const NAMES = ['N1', 'N2', 'N3', 'N4', 'N5']
const GROUPS = [['N1', 'N2'], ['N3', 'N4', 'N5']]

export async function partitionFork(ctx: ScenarioContext, o: { convergeMs: number; observeMs: number; syncIntervalMs: number }): Promise<Omit<ScenarioResult, 'id' | 'name' | 'seconds'>> {
  const notes: string[] = []
  const cluster = await Cluster.create(ctx, { names: NAMES, syncIntervalMs: o.syncIntervalMs, logLevel: 'debug' })
  for (const group of GROUPS) for (const name of group) cluster.setBootstrap(name, group.filter((n) => n !== name))
  const fail = (note: string): Omit<ScenarioResult, 'id' | 'name' | 'seconds'> => ({
    runs: '0 heals', lost: null, crashes: cluster.crashes.length, forks: 'n/a', honestBanned: null, ok: false,
    notes: [note, ...notes, ...cluster.crashes.map((c) => `${c.name} ${c.what}`)], details: {},
  })
  // two at a time: five tsx start-ups at once on two cores mostly wait for each other
  for (let i = 0; i < NAMES.length; i += 2) {
    const started = await Promise.all(NAMES.slice(i, i + 2).map((n) => cluster.start(n)))
    if (started.includes(false)) return fail('a node failed to start')
  }
  const lacking = await waitForPeers(ctx, cluster, { N1: 1, N2: 1, N3: 2, N4: 2, N5: 2 }, 30_000)
  if (lacking.length > 0) return fail(`groups did not form: ${lacking.join(', ')}`)

  // Contributions on both sides.
  for (const name of NAMES) {
    for (let k = 0; k < 2; k++) {
      await api(cluster.target(name), 'POST', '/v1/contributions', { signals: [{ type: 'pdq', value: randomHex(), quality: 90 }], labels: ['behavior:glorification'] })
    }
  }
  // The fork: X by N5's own node, Y by the script with N5's key, delivered on the other side.
  const forker = 'N5'
  const feed = cluster.memberKeyOf(forker)
  const before = await cluster.head(forker, feed)
  const x = await api<{ records: Array<{ id: string; seq: number }> }>(cluster.target(forker), 'POST', '/v1/contributions', { signals: [{ type: 'pdq', value: randomHex(), quality: 90 }], labels: ['behavior:glorification'] })
  const y = forkRecord(cluster.signerOf(forker), before)
  if (y.record.seq !== x.records[0]!.seq || y.record.id === x.records[0]!.id) return fail('could not build the second branch')
  // N1's side has never seen N5's feed: the forking member hands over its whole branch (the shared
  // prefix, exported from N5, then Y), as an import.
  const prefix = before.seq === 0 ? [] : (await api<{ records: Array<{ bytes: string }> }>(cluster.target(forker), 'GET', `/v1/feeds/${feed}?from=1&limit=${before.seq}`)).records
  const verdicts = await importRecords(cluster, 'N1', [...prefix.map((r) => ({ bytes: Uint8Array.from(Buffer.from(r.bytes, 'hex')) })), y])
  const yVerdict = verdicts.at(-1)
  if (yVerdict?.verdict !== 'accepted') return fail(`N1 did not accept the second branch: ${JSON.stringify(verdicts)}`)
  await api(cluster.target(forker), 'POST', '/v1/contributions', { signals: [{ type: 'pdq', value: randomHex(), quality: 90 }], labels: ['behavior:glorification'] })

  // Each side converges on its own branch (the partition holds).
  const groupsConverged = await (async () => {
    const until = Date.now() + 30_000
    for (;;) {
      checkDeadline(ctx, 'waiting for the partitioned groups')
      const digests = await Promise.all(NAMES.map((n) => cluster.status(n).then((s) => replicaDigest({ heads: s.heads, proofs: { count: s.equivocations } }), () => n)))
      const same = (names: string[]) => new Set(names.map((n) => digests[NAMES.indexOf(n)])).size === 1
      if (GROUPS.every(same)) return true
      if (Date.now() > until) return false
      await new Promise((r) => setTimeout(r, 200))
    }
  })()
  if (!groupsConverged) return fail('the partitioned groups did not converge within 30 s')
  const [n1, n3] = await Promise.all([cluster.head('N1', feed), cluster.head('N3', feed)])
  if (n1.id !== y.record.id || n3.seq !== y.record.seq + 1) notes.push(`partition leaked before the heal: N1 holds ${forker}@${n1.seq}, N3 @${n3.seq}`)
  ctx.log(`partitioned: {N1,N2} hold ${forker}'s Y at seq ${y.record.seq}; {N3,N4,N5} hold X and X2 (seq ${n3.seq})`)

  // Heal: N2 restarts knowing N3.
  cluster.setBootstrap('N2', ['N1', 'N3'])
  await cluster.stop('N2')
  if (!(await cluster.start('N2'))) return fail('N2 failed to restart for the heal')
  const healedAt = Date.now()
  const honest = new Map(NAMES.filter((n) => n !== forker).map((n) => [n, cluster.peerIdOf(n)]))
  const obs = await observeFork(ctx, cluster, NAMES, feed, honest, healedAt, healedAt + o.convergeMs, o.observeMs)
  ctx.log(`after the heal (N2 up again): flagged after ${JSON.stringify(obs.flaggedAfterMs)} ms; one digest after ${obs.convergedAfterMs ?? '-'} ms`)
  const flaggedBy = NAMES.filter((n) => obs.flaggedAfterMs[n] !== undefined)
  const converged = obs.convergedAfterMs !== undefined && obs.convergedAfterMs <= o.convergeMs
  const { bans, penalties } = obs
  const atEnd = await snapshot(cluster, NAMES, feed)
  const final = await finalProofSets(cluster, NAMES)

  if (flaggedBy.length < NAMES.length) notes.push(`${forker}'s fork flagged on ${flaggedBy.length} of ${NAMES.length} nodes (${flaggedBy.join(', ') || 'none'})`)
  if (!converged) notes.push(`no single live replica digest (and node digest) within ${Math.round(o.convergeMs / 1000)} s of the heal: ${obs.convergedAfterMs === undefined ? `${new Set(Object.values(obs.digests)).size} distinct at the end` : `only after ${(obs.convergedAfterMs / 1000).toFixed(1)} s`}`)
  if (!final.oneDigest) notes.push(`final replica digests: ${new Set(Object.values(final.digests)).size} distinct`)
  if (!final.oneProofSet) notes.push(`proof sets differ or are empty: ${JSON.stringify(final.proofs)}`)
  if (bans.length > 0) notes.push(`honest peers banned: ${bans.map((b) => `${b.by} banned ${b.peer}`).join(', ')}`)
  if (penalties.length > 0) notes.push(`honest peers penalised: ${penalties.map((p) => `${p.by} counted ${p.invalid} against ${p.peer}`).join(', ')}`)
  const evidence = penalties.map((p) => ({ ...p, log: penaltyEvidence(cluster, p.by, p.peer) }))
  for (const e of evidence) for (const line of e.log.slice(-1)) notes.push(`  ${e.by}'s log about ${e.peer}: ${line}`)
  for (const p of final.storeProblems.slice(0, 3)) notes.push(`store: ${p}`)
  for (const n of NAMES.filter((n) => !flaggedBy.includes(n))) notes.push(`${n} at the end: ${JSON.stringify(atEnd[n])}`)
  for (const c of cluster.crashes) notes.push(`${c.name} ${c.what}`)
  const ok = flaggedBy.length === NAMES.length && converged && final.oneDigest && final.oneProofSet &&
    bans.length === 0 && penalties.length === 0 && cluster.crashes.length === 0 && final.storeProblems.length === 0
  return {
    runs: '1 heal',
    lost: null,
    crashes: cluster.crashes.length,
    forks: `${flaggedBy.length}/${NAMES.length} nodes`,
    honestBanned: bans.length,
    ok,
    notes,
    details: { flaggedAfterMs: obs.flaggedAfterMs, convergedAfterMs: obs.convergedAfterMs, bans, penalties: evidence, liveDigests: obs.digests, nodeDigests: obs.nodeDigests, finalDigests: final.digests, proofs: final.proofs, nodes: atEnd },
  }
}

function randomHex(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex')
}

export const scenarioD: Scenario = {
  id: 'd',
  name: '5-node partition + fork, heal',
  deadlineMs: { full: 6 * 60_000, quick: 240_000 },
  run: (ctx) => partitionFork(ctx, {
    syncIntervalMs: 2000,
    convergeMs: ctx.params.convergeMs ?? (ctx.quick ? 30_000 : 60_000),
    observeMs: ctx.params.observeMs ?? (ctx.quick ? 4_000 : 30_000),
  }),
}

/**
 * Scenario c: kill -9 during concurrent submissions.
 *
 * One member node; C clients POST /v1/contributions (one random PDQ signal each) as fast as the node
 * answers. The node is killed with SIGKILL K times (after 0.6-2 s of submissions each time; the clients
 * keep trying while it is down) and restarted. Afterwards every contribution that got a 2xx answer must
 * be in the node's feed at the seq the answer gave, with that id, and its signal must match exactly
 * (POST /v1/match, threshold 0: the index rebuilt at restart has it); with the node stopped, the store's
 * chain must be whole.
 */
import { randomBytes } from 'node:crypto'
import { Cluster, checkStore } from './cluster.js'
import { api, checkDeadline, Prng, sleep, type Scenario, type ScenarioContext, type ScenarioResult } from './common.js'

export interface SubmitKillOptions { clients: number; kills: number; seed?: number }

interface Ack { id: string; seq: number; value: string }

export async function submitKills(ctx: ScenarioContext, o: SubmitKillOptions): Promise<Omit<ScenarioResult, 'id' | 'name' | 'seconds'>> {
  const notes: string[] = []
  const rng = new Prng(o.seed ?? 3)
  const cluster = await Cluster.create(ctx, { names: ['Submitter'] })
  const name = 'Submitter'
  const feed = cluster.memberKeyOf(name)
  if (!(await cluster.start(name))) return { runs: '0 kills', lost: null, crashes: cluster.crashes.length, forks: 'n/a', honestBanned: null, ok: false, notes: ['node failed to start'], details: {} }

  const acked: Ack[] = []
  let attempts = 0
  let failures = 0
  let submitting = true
  const target = cluster.target(name)
  const client = async () => {
    while (submitting && !ctx.signal.aborted) {
      const value = randomBytes(32).toString('hex')
      attempts++
      try {
        const res = await api<{ records: Array<{ id: string; seq: number }> }>(target, 'POST', '/v1/contributions', {
          signals: [{ type: 'pdq', value, quality: 90 }],
          labels: ['behavior:glorification'],
        }, 5_000)
        for (const r of res.records) acked.push({ id: r.id, seq: r.seq, value })
      } catch {
        failures++ // the node is down or being killed: not acknowledged, nothing to check
        await sleep(50, ctx.signal)
      }
    }
  }
  const clients = Array.from({ length: o.clients }, () => client())

  const restarts: number[] = []
  let kills = 0
  for (let i = 1; i <= o.kills; i++) {
    checkDeadline(ctx, 'killing during submissions')
    const before = acked.length
    await sleep(600 + rng.int(1400), ctx.signal)
    // make sure the kill lands while contributions are being acknowledged
    while (acked.length === before && !ctx.signal.aborted) await sleep(20, ctx.signal)
    await cluster.kill9(name)
    kills++
    const t = performance.now()
    if (!(await cluster.start(name))) {
      notes.push(`kill ${i}: the node did not restart`)
      break
    }
    restarts.push(Math.round(performance.now() - t))
    ctx.log(`kill ${i}/${o.kills}: ${acked.length} acknowledged so far; restarted in ${restarts.at(-1)} ms`)
  }
  await sleep(1000, ctx.signal)
  submitting = false
  await Promise.all(clients)

  // Every acknowledged contribution is in the feed at its seq with its id.
  let lost = 0
  const bySeq = new Map<number, string>()
  try {
    const head = await cluster.head(name, feed)
    for (let from = 1; from <= head.seq; from += 1000) {
      const page = await api<{ records: Array<{ record: { id: string; seq: number } }> }>(target, 'GET', `/v1/feeds/${feed}?from=${from}&limit=1000`)
      for (const r of page.records) bySeq.set(r.record.seq, r.record.id)
    }
    for (const a of acked) {
      if (bySeq.get(a.seq) !== a.id) {
        lost++
        if (lost <= 3) notes.push(`acknowledged record ${a.id.slice(0, 12)} at seq ${a.seq} is missing (seq holds ${bySeq.get(a.seq)?.slice(0, 12) ?? 'nothing'})`)
      }
    }
    // ... and matches exactly.
    let unmatched = 0
    for (let i = 0; i < acked.length; i += 1000) {
      const batch = acked.slice(i, i + 1000)
      const res = await api<{ matches: Array<{ value: string; distance: number }> }>(target, 'POST', '/v1/match', { signals: batch.map((a) => ({ type: 'pdq', value: a.value })), threshold: 0 }, 30_000)
      const found = new Set(res.matches.filter((m) => m.distance === 0).map((m) => m.value))
      unmatched += batch.filter((a) => !found.has(a.value)).length
    }
    if (unmatched > 0) notes.push(`${unmatched} acknowledged signals do not match after the restarts`)
    lost = Math.max(lost, unmatched)
  } catch (err) {
    notes.push(`reading the feed failed: ${(err as Error).message}`)
  }
  await cluster.stopAll()
  const store = await checkStore(cluster.member(name).dataDir)
  if (store.problems.length > 0) notes.push(`store: ${store.problems[0]} (${store.problems.length} problems)`)
  for (const c of cluster.crashes) notes.push(`${c.name} ${c.what}`)
  if (acked.length === 0) notes.push('no contribution was acknowledged')
  const ok = kills === o.kills && lost === 0 && cluster.crashes.length === 0 && store.problems.length === 0 && acked.length > 0 && notes.length === 0
  return {
    runs: `${kills} kills`,
    lost,
    crashes: cluster.crashes.length,
    forks: 'n/a',
    honestBanned: null,
    ok,
    notes,
    details: { clients: o.clients, acknowledged: acked.length, attempts, failedRequests: failures, recordsInFeed: bySeq.size, restartMs: restarts },
  }
}

export const scenarioC: Scenario = {
  id: 'c',
  name: 'kill -9 during concurrent submissions',
  deadlineMs: { full: 8 * 60_000, quick: 90_000 },
  run: (ctx) => submitKills(ctx, { clients: ctx.params.clients ?? 8, kills: ctx.params.kills ?? (ctx.quick ? 2 : 10), seed: ctx.params.seed }),
}

/**
 * Scenarios a and b: kill -9 during a large sync catch-up.
 *
 * Member Sender holds N own records (filled directly into its store before it starts, 2 PDQ signals
 * each); a fresh member Receiver starts and catches up by anti-entropy sync. The victim (the receiving
 * node in a, the serving node in b) is killed with SIGKILL K times, spread evenly over the catch-up, and
 * restarted at once each time; the catch-up then continues. a kills when the Receiver's head for the
 * Sender's feed passes i*N/(K+1); b kills each incarnation of the Sender once it has served N/(K+1)
 * records (its sync.recordsServed counter: the Receiver's head lags what is on the wire by up to ~6,000
 * records). Checks:
 *   - every kill landed mid-catch-up: a, 0 < Receiver's head < N when it was killed; b, the Receiver,
 *     left alone after the kill, stalled short of N (the transfer was cut, not finished);
 *   - after each restart of the Receiver, its head is at least what it had reported before the kill
 *     (records it had stored are still there: anything less counts as lost);
 *   - in the end the Receiver's head equals the Sender's, /v1/status heads and record and signal
 *     counts are identical on both nodes, no node banned the other;
 *   - with both nodes stopped, each store's chains are whole (every seq present, prev links, head).
 */
import { fillOwnFeed } from '../lib/bench-fill.js'
import { Cluster, checkStore } from './cluster.js'
import { checkDeadline, pollUntil, Prng, sleep, type Scenario, type ScenarioContext, type ScenarioResult } from './common.js'

export interface CatchupKillOptions {
  victim: 'receiver' | 'sender'
  records: number
  kills: number
  signalsPerRecord?: number
  seed?: number
}

export async function catchupKills(ctx: ScenarioContext, o: CatchupKillOptions): Promise<Omit<ScenarioResult, 'id' | 'name' | 'seconds'>> {
  const notes: string[] = []
  const rng = new Prng(o.seed ?? 12)
  const cluster = await Cluster.create(ctx, { names: ['Sender', 'Receiver'], syncIntervalMs: 2000 })
  const victim = o.victim === 'receiver' ? 'Receiver' : 'Sender'
  let t = performance.now()
  const fill = await fillOwnFeed(cluster.member('Sender').dataDir, o.records, o.signalsPerRecord ?? 2)
  ctx.log(`filled ${o.records} records in ${((performance.now() - t) / 1000).toFixed(1)} s`)
  checkDeadline(ctx, 'filling the sender')
  if (!(await cluster.start('Sender'))) return { ...base(cluster, notes, 0), ok: false, notes: ['Sender failed to start', ...notes] }
  t = performance.now()
  if (!(await cluster.start('Receiver'))) return { ...base(cluster, notes, 0), ok: false, notes: ['Receiver failed to start', ...notes] }
  const catchupStarted = performance.now()
  ctx.log(`both nodes started (${Math.round(performance.now() - t)} ms for the Receiver)`)

  const kills: Array<{ headBefore: number; served?: number; stalledAt?: number; headAfterRestart?: number; restartMs: number; landed: boolean }> = []
  let lost = 0
  let lastSeen = 0
  let finishedEarly = false
  const step = Math.floor(o.records / (o.kills + 1))
  for (let i = 1; i <= o.kills; i++) {
    // When to kill. The receiver: when its head for the sender's feed passes i*N/(K+1). The sender: once
    // this incarnation has served N/(K+1) records (its sync.recordsServed counter), because the
    // receiver's head lags what is already on the wire by up to ~6,000 records (4 requests of 1,024 in
    // flight plus 2 batches being stored).
    const trigger = await pollUntil(ctx, ctx.deadline, 10, async () => {
      const h = await cluster.head('Receiver', fill.feed)
      lastSeen = h.seq
      if (h.seq >= o.records) return { head: h.seq, done: true }
      if (o.victim === 'receiver') return h.seq >= i * step ? { head: h.seq, done: false } : undefined
      const served = (await cluster.status('Sender')).network?.metrics.sync.recordsServed ?? 0
      return served >= step ? { head: h.seq, served, done: false } : undefined
    })
    if (trigger === undefined) break
    if (trigger.done) {
      finishedEarly = true
      notes.push(`kill ${i}: the catch-up had finished before it (head ${trigger.head})`)
      break
    }
    // A small random delay so kills do not always land at a poll boundary.
    await sleep(rng.int(30), ctx.signal)
    await cluster.kill9(victim)
    const kill: (typeof kills)[number] = { headBefore: trigger.head, served: (trigger as { served?: number }).served, restartMs: 0, landed: false }
    kills.push(kill)
    if (o.victim === 'receiver') {
      kill.landed = trigger.head > 0 && trigger.head < o.records
    } else {
      // The kill interrupted the transfer if the receiver, left alone, stalls short of the end.
      let stable = -1
      let stableSince = Date.now()
      const until = Date.now() + 5_000
      while (Date.now() < until && !ctx.signal.aborted) {
        const h = (await cluster.head('Receiver', fill.feed).catch(() => undefined))?.seq ?? stable
        if (h !== stable) {
          stable = h
          stableSince = Date.now()
        } else if (Date.now() - stableSince >= 600) break
        await sleep(100, ctx.signal)
      }
      kill.stalledAt = stable
      kill.landed = stable >= 0 && stable < o.records
    }
    const restartStarted = performance.now()
    if (!(await cluster.start(victim))) {
      notes.push(`kill ${i}: ${victim} did not restart`)
      break
    }
    kill.restartMs = Math.round(performance.now() - restartStarted)
    const after = await cluster.head('Receiver', fill.feed).catch(() => undefined)
    if (after) {
      kill.headAfterRestart = after.seq
      const before = Math.max(kill.headBefore, kill.stalledAt ?? 0)
      if (after.seq < before) {
        lost += before - after.seq
        notes.push(`kill ${i}: Receiver reported head ${before} before and ${after.seq} after the restart`)
      }
    }
    ctx.log(`kill ${i}/${o.kills} of ${victim} at receiver head ${trigger.head}/${o.records}${kill.served !== undefined ? ` (sender had served ${kill.served}; receiver stalled at ${kill.stalledAt})` : ''}; restarted in ${kill.restartMs} ms${after ? `, receiver head ${after.seq}` : ''}`)
  }

  // Let the catch-up finish.
  const caughtUp = await pollUntil(ctx, ctx.deadline - 20_000, 100, async () => {
    const h = await cluster.head('Receiver', fill.feed)
    lastSeen = h.seq
    return h.seq === fill.head.seq && h.id === fill.head.id
  })
  const catchupSeconds = (performance.now() - catchupStarted) / 1000
  if (!caughtUp) notes.push(`Receiver did not catch up: head ${lastSeen} of ${fill.head.seq}`)

  // Identical heads and counts on both nodes; no bans.
  let bans = 0
  let identical = false
  try {
    const [s, r] = await Promise.all([cluster.status('Sender'), cluster.status('Receiver')])
    const key = (x: typeof s) => JSON.stringify(x.heads.map((h) => [h.feed, h.seq, h.id]).sort())
    identical = key(s) === key(r) && s.records === r.records && s.signals === r.signals
    if (!identical) notes.push(`heads or counts differ: Sender ${s.records} records / ${s.signals} signals, Receiver ${r.records} / ${r.signals}`)
    bans = (s.network?.metrics.hygiene.bansTotal ?? 0) + (r.network?.metrics.hygiene.bansTotal ?? 0)
    if (bans > 0) notes.push(`bans: ${JSON.stringify([s.network?.metrics.hygiene.bannedUntil, r.network?.metrics.hygiene.bannedUntil])}`)
  } catch (err) {
    notes.push(`status failed: ${(err as Error).message}`)
  }

  // Stop both and check the stores' chains.
  await cluster.stopAll()
  const checks: Record<string, unknown> = {}
  for (const name of ['Sender', 'Receiver']) {
    const c = await checkStore(cluster.member(name).dataDir)
    checks[name] = { records: c.records, problems: c.problems.slice(0, 5) }
    if (c.problems.length > 0) notes.push(`${name} store: ${c.problems[0]} (${c.problems.length} problems)`)
    if (name === 'Receiver') lost += Math.max(0, fill.head.seq - (c.heads.find((h) => h.feed === fill.feed)?.seq ?? 0)) + c.missing
  }

  const landed = kills.filter((k) => k.landed).length
  if (landed < o.kills) notes.push(`${landed} of ${o.kills} kills landed mid-catch-up`)
  const crashes = cluster.crashes.length
  for (const c of cluster.crashes) notes.push(`${c.name} ${c.what}`)
  const ok = landed === o.kills && lost === 0 && crashes === 0 && identical && !!caughtUp && bans === 0 && !finishedEarly && notes.every((n) => !n.includes('store:'))
  return {
    runs: `${landed} kills`,
    lost,
    crashes,
    forks: 'n/a',
    honestBanned: bans,
    ok,
    notes,
    details: {
      records: o.records,
      victim,
      catchupSeconds: +catchupSeconds.toFixed(1),
      restartMs: { median: median(kills.map((k) => k.restartMs)), max: Math.max(0, ...kills.map((k) => k.restartMs)) },
      kills: kills.map((k) => ({ receiverHead: k.headBefore, served: k.served, stalledAt: k.stalledAt, afterRestart: k.headAfterRestart, restartMs: k.restartMs })),
      stores: checks,
    },
  }
}

function base(cluster: Cluster, notes: string[], lost: number): Omit<ScenarioResult, 'id' | 'name' | 'seconds'> {
  for (const c of cluster.crashes) notes.push(`${c.name} ${c.what}`)
  return { runs: '0 kills', lost, crashes: cluster.crashes.length, forks: 'n/a', honestBanned: null, ok: false, notes, details: {} }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] ?? 0
}

export const scenarioA: Scenario = {
  id: 'a',
  name: 'kill -9 receiver during catch-up',
  deadlineMs: { full: 15 * 60_000, quick: 120_000 },
  run: (ctx) => catchupKills(ctx, {
    victim: 'receiver',
    records: ctx.params.records ?? (ctx.quick ? 12_000 : 100_000),
    kills: ctx.params.kills ?? (ctx.quick ? 2 : 20),
    seed: ctx.params.seed,
  }),
}

export const scenarioB: Scenario = {
  id: 'b',
  name: 'kill -9 sender during catch-up',
  deadlineMs: { full: 15 * 60_000, quick: 120_000 },
  run: (ctx) => catchupKills(ctx, {
    victim: 'sender',
    records: ctx.params.records ?? (ctx.quick ? 12_000 : 100_000),
    kills: ctx.params.kills ?? (ctx.quick ? 2 : 20),
    seed: ctx.params.seed,
  }),
}

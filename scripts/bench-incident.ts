/**
 * The incidents fast path under load (issue 18): N member processes (scripts/lib/devnet.ts, each
 * `hashmesh start`), background traffic of R records a second on the records topic from every member but
 * the first, one incident declared, then K contributions naming it (round-robin over the members, one
 * every --gap ms). For every contribution and every other member: the time from its signing (the record's
 * own timestamp) to its being stored, and so matchable, on that member (the member's incident view,
 * `receivedHere`; one clock: one machine). Prints p50/p90/p99/max, lost, and the machine's load.
 *
 *   npx tsx scripts/bench-incident.ts [--members 10] [--background 20] [--contributions 50] [--gap 200] [--json] [--trace]
 *
 * --trace: the members log at trace level, and every delivery slower than --slow ms (300) is explained from
 * their logs: whether its incidents-topic copy arrived before the author's previous record and waited for it
 * ("pending"), and when that previous record was stored on the member.
 *
 * Target (issue 18): p99 ≤ 500 ms and 0 lost with 10 members, 20 records/s and 50 contributions.
 */
import '../src/shim.js'
import { readFileSync } from 'node:fs'
import { availableParallelism, loadavg } from 'node:os'
import { apiClient, createDevnet, type DevnetMember } from './lib/devnet.js'

const args = process.argv.slice(2)
const opt = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? Number(args[i + 1]) : fallback
}
const MEMBERS = opt('members', 10)
const BACKGROUND_PER_SECOND = opt('background', 20)
const CONTRIBUTIONS = opt('contributions', 50)
const GAP_MS = opt('gap', 200)
const json = args.includes('--json')
const trace = args.includes('--trace')
const SLOW_MS = opt('slow', 300)
const say = (line: string) => { if (!json) console.log(line) }
const pdq = () => Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex')
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

interface IncidentView { contributions: Array<{ record: string; member: { key: string }; seq: number; signedAt: number; receivedHere: number }> }

/** From a member's trace log: when each (feed, seq) was stored, and when each record was held as pending on the incidents topic. */
function traceOf(m: DevnetMember): { stored: Map<string, number>; pending: Map<string, number> } {
  const stored = new Map<string, number>()
  const pending = new Map<string, number>()
  for (const line of m.log.join('').split('\n')) {
    if (!line.startsWith('{')) continue
    let entry: { event?: string; time?: string; feed?: string; seq?: number; id?: string }
    try {
      entry = JSON.parse(line) as typeof entry
    } catch {
      continue
    }
    const at = Date.parse(entry.time ?? '')
    if (entry.event === 'record.stored' && !stored.has(`${entry.feed}:${entry.seq}`)) stored.set(`${entry.feed}:${entry.seq}`, at)
    if (entry.event === 'priority.record.pending' && entry.id && !pending.has(entry.id)) pending.set(entry.id, at)
  }
  return { stored, pending }
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs: number, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await probe().catch(() => undefined)
    if (v) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(everyMs)
  }
}

const names = Array.from({ length: MEMBERS }, (_, i) => `M${String(i + 1).padStart(2, '0')}`)
const devnet = await createDevnet({ names, syncIntervalMs: 15_000, logLevel: trace ? 'trace' : undefined })
const load: number[][] = [loadavg()]
/** CPU seconds (user + system) the member processes have used so far (Linux /proc; NaN elsewhere). */
const membersCpu = (): number => devnet.members.reduce((sum, m) => {
  try {
    const fields = readFileSync(`/proc/${m.process?.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return sum + (Number(fields[11]) + Number(fields[12])) / 100 // utime, stime in clock ticks (100 a second)
  } catch {
    return NaN
  }
}, 0)
try {
  let started = Date.now()
  await Promise.all(names.map((n) => devnet.start(n)))
  say(`${MEMBERS} members started in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  const clients = new Map(devnet.members.map((m: DevnetMember) => [m.name, apiClient(m)]))
  const api = (name: string) => clients.get(name)!
  started = Date.now()
  await Promise.all(names.map((n) => waitFor(`${n} connected`, async () => (await api(n).get<{ peers: unknown[] }>('/v1/peers')).peers.length >= Math.min(3, MEMBERS - 1), 120_000, 250)))
  say(`connected in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  await sleep(2_000) // subscriptions and meshes settle

  const incident = await api(names[0]!).post<{ id: string }>('/v1/incidents', { title: 'bench incident', severity: 'critical' })
  await Promise.all(names.map((n) => waitFor(`${n} has the incident`, async () => (await api(n).get<{ incidents: Array<{ id: string }> }>('/v1/incidents')).incidents.some((i) => i.id === incident.id), 60_000)))
  say(`incident ${incident.id} on every member`)

  // background traffic on the records topic
  let background = 0
  let backgroundFailed = 0
  let stop = false
  const backgroundLoop = (async () => {
    const others = names.slice(1)
    let next = Date.now()
    while (!stop && BACKGROUND_PER_SECOND > 0) { // --background 0: none (1000/0 would send without pause)
      const name = others[background % others.length]!
      background++
      void api(name).post('/v1/contributions', { signals: [{ type: 'pdq', value: pdq(), quality: 90 }], labels: [] }).catch(() => backgroundFailed++)
      next += 1000 / BACKGROUND_PER_SECOND
      await sleep(Math.max(0, next - Date.now()))
    }
  })()
  await sleep(3_000)
  load.push(loadavg())
  const cpuAt = { wall: Date.now(), cpu: membersCpu() }

  const contributed: Array<{ id: string; author: string; value: string }> = []
  for (let i = 0; i < CONTRIBUTIONS; i++) {
    const author = names[i % names.length]!
    const value = pdq()
    const result = await api(author).post<{ records: Array<{ id: string }> }>('/v1/contributions', { signals: [{ type: 'pdq', value, quality: 95 }], labels: [`incident:${incident.id}`] })
    contributed.push({ id: result.records[0]!.id, author, value })
    await sleep(GAP_MS)
  }
  load.push(loadavg())
  const membersCores = (membersCpu() - cpuAt.cpu) / ((Date.now() - cpuAt.wall) / 1000)
  // give stragglers up to 30 s, then measure
  const ids = new Set(contributed.map((c) => c.id))
  const views = new Map<string, IncidentView>()
  await waitFor('every contribution on every member', async () => {
    let all = true
    for (const n of names) {
      const view = await api(n).get<IncidentView>(`/v1/incidents/${incident.id}`)
      views.set(n, view)
      if (view.contributions.filter((c) => ids.has(c.record)).length < ids.size) all = false
    }
    return all
  }, 30_000, 1_000).catch(() => undefined)
  stop = true
  await backgroundLoop
  load.push(loadavg())

  const latencies: number[] = []
  let lost = 0
  for (const c of contributed) {
    for (const n of names) {
      if (n === c.author) continue
      const seen = views.get(n)?.contributions.find((x) => x.record === c.id)
      if (!seen) lost++
      else latencies.push(seen.receivedHere - seen.signedAt)
    }
  }
  // matchable, not only stored: ask every member about the last contribution
  const last = contributed.at(-1)!
  let matchable = 0
  for (const n of names) {
    const m = (await api(n).post<{ matches: unknown[] }>('/v1/match', { signals: [{ type: 'pdq', value: last.value }] })).matches
    if (m.length > 0) matchable++
  }
  if (trace) {
    // why the slow ones were slow: each member's own log
    const traces = new Map(devnet.members.map((m) => [m.name, traceOf(m)]))
    let slow = 0
    let slowPending = 0
    let pendingAll = 0
    for (const n of names) {
      const t = traces.get(n)!
      for (const c of views.get(n)?.contributions.filter((x) => ids.has(x.record)) ?? []) {
        const pendingAt = t.pending.get(c.record)
        if (pendingAt !== undefined) pendingAll++
        const latency = c.receivedHere - c.signedAt
        if (latency < SLOW_MS) continue
        slow++
        if (pendingAt !== undefined) slowPending++
        const prev = t.stored.get(`${c.member.key}:${c.seq - 1}`)
        const at = (x: number | undefined) => (x === undefined ? '-' : `${x - c.signedAt} ms`)
        const author = contributed.find((x) => x.id === c.record)?.author
        say(`slow: ${c.record.slice(0, 8)} by ${author} seq ${c.seq} on ${n}${author === n ? ' (its author)' : ''}: ${latency} ms; held pending on the incidents topic at ${at(pendingAt)}; previous record (seq ${c.seq - 1}) stored at ${at(prev)}`)
      }
    }
    say(`trace: ${slow} deliveries ≥ ${SLOW_MS} ms, ${slowPending} of them held pending for the author's previous record; ${pendingAll} deliveries in all were held pending`)
    // the rest of a slow delivery: the author storing its own record late (its write queue, a starved CPU), or the way over
    const ownDelay = (c: { id: string; author: string }) => {
      const own = views.get(c.author)?.contributions.find((x) => x.record === c.id)
      return own ? own.receivedHere - own.signedAt : NaN
    }
    const slowAuthors = contributed.filter((c) => ownDelay(c) >= SLOW_MS)
    say(`trace: ${slowAuthors.length} of ${contributed.length} contributions were stored on their own author ≥ ${SLOW_MS} ms after signing (max ${Math.max(0, ...contributed.map(ownDelay).filter((x) => !Number.isNaN(x)))} ms)`)
  }
  latencies.sort((a, b) => a - b)
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)] ?? NaN
  const result = {
    members: MEMBERS, backgroundPerSecond: BACKGROUND_PER_SECOND, backgroundSent: background, backgroundFailed, contributions: CONTRIBUTIONS,
    samples: latencies.length, lost, p50: pct(50), p90: pct(90), p99: pct(99), max: latencies.at(-1), lastMatchableOn: matchable, membersCores: Number(membersCores.toFixed(2)),
    load: load.map((l) => l.map((x) => x.toFixed(2)).join(' ')),
  }
  if (json) console.log(JSON.stringify(result))
  else {
    say(`${CONTRIBUTIONS} incident contributions x ${MEMBERS - 1} other members = ${latencies.length + lost} deliveries; lost ${lost}; background ${background} records (${backgroundFailed} failed)`)
    say(`signing -> matchable: p50 ${result.p50} ms, p90 ${result.p90} ms, p99 ${result.p99} ms, max ${result.max} ms (target p99 ≤ 500 ms, 0 lost)`)
    say(`last contribution matchable on ${matchable} of ${MEMBERS} members`)
    say(`the ${MEMBERS} members used ${result.membersCores} cores of CPU while the contributions were made (this machine has ${availableParallelism()})`)
    say(`load average (1/5/15 min) at start | background running | contributions done | end: ${result.load.join(' | ')}`)
  }
} finally {
  await devnet.close()
}

/**
 * HTTP benchmark of POST /v1/match on a real node (LevelDB + in-memory PDQ index + fastify on 127.0.0.1).
 *
 *   npx tsx scripts/bench-api.ts [--n 1000000] [--duration 10] [--connections 4] [--planted 0.1] [--restart 1] [--profile]
 *
 * 1. Builds a node in a temp dir holding N random PDQ hashes, contributed through node.contribute in
 *    records of 1,000 signals (the record limit); prints the time and rate.
 * 2. With --restart 1, stops and starts the node again to time the index rebuild from LevelDB.
 * 3. Runs autocannon in a child process (so the load generator does not share the server's event loop)
 *    against POST /v1/match with JSON bodies of one PDQ hash each: a fraction --planted are stored
 *    hashes with 0..31 bits flipped (each must match), the rest random (almost never match).
 *    Prints requests/s, latency p50/p97.5/p99/max, errors, non-2xx and the planted recall, the server's
 *    CPU per request and event-loop delay; then the same with misses only. --profile writes a CPU profile.
 */
import '../src/shim.js'
import { fork } from 'node:child_process'
import { randomBytes, randomInt } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { FILES, initDataDir } from '../src/node/identity.js'
import { runNode, type RunningNode } from '../src/api/run-node.js'
import { tempDir } from '../test/helpers/tmp.js'
import { flipRandomBits } from './lib/flip-bits.js'

const SIGNALS_PER_RECORD = 1000
const RECORDS_PER_CALL = 10
const PLANTED_POOL = 10_000
const THRESHOLD = 31

interface LoadPlan { url: string; token: string; planted: string[]; plantedFraction: number; duration: number; connections: number }
interface LoadResult {
  requestsPerSecond: number; total: number; latency: { p50: number; p97_5: number; p99: number; max: number; mean: number }
  errors: number; timeouts: number; non2xx: number; statusCodes: Record<string, number>; planted: number; plantedMatched: number; randomMatched: number
}

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}

function mem(): string {
  const { rss, heapUsed } = process.memoryUsage()
  return `rss ${(rss / 2 ** 20).toFixed(0)} MiB, heap ${(heapUsed / 2 ** 20).toFixed(0)} MiB`
}

async function build(n: number, restart: boolean): Promise<{ running: RunningNode; dir: { path: string; cleanup: () => void }; planted: string[] }> {
  const dir = tempDir('hashmesh-bench-api-')
  await initDataDir(dir.path, { name: 'bench-member' })
  let running = await runNode(dir.path, { overrides: { api: { port: 0 } } })
  const planted: string[] = []
  const plantEvery = Math.max(1, Math.floor(n / PLANTED_POOL))
  const started = performance.now()
  let lastReport = started
  for (let done = 0; done < n; ) {
    const count = Math.min(SIGNALS_PER_RECORD * RECORDS_PER_CALL, n - done)
    const pool = randomBytes(32 * count)
    const signals = Array.from({ length: count }, (_, i) => ({ type: 'pdq', value: pool.toString('hex', 32 * i, 32 * i + 32), quality: 90 }))
    for (let i = 0; i < count; i += plantEvery) planted.push(signals[i]!.value)
    await running.node.contribute({ signals, labels: ['behavior:propaganda'] })
    done += count
    if (performance.now() - lastReport > 5000 || done === n) {
      lastReport = performance.now()
      const s = (lastReport - started) / 1000
      console.log(`  contributed ${done.toLocaleString('en')} signals in ${s.toFixed(1)} s (${Math.round(done / s).toLocaleString('en')}/s; ${mem()})`)
    }
  }
  const seconds = (performance.now() - started) / 1000
  console.log(`build: ${n.toLocaleString('en')} PDQ hashes in ${Math.ceil(n / SIGNALS_PER_RECORD)} records via node.contribute: ${seconds.toFixed(1)} s, ${Math.round(n / seconds).toLocaleString('en')} signals/s`)
  console.log(`index: ${JSON.stringify(running.node.indexStats())}`)
  if (restart) {
    await running.stop()
    const t0 = performance.now()
    running = await runNode(dir.path, { overrides: { api: { port: 0 } } })
    console.log(`restart: node open + index rebuild from LevelDB + API listen: ${((performance.now() - t0) / 1000).toFixed(1)} s (${running.node.indexStats().pdqHashes.toLocaleString('en')} hashes; ${mem()})`)
  }
  return { running, dir, planted }
}

/** Child process: autocannon against the server, results back over IPC. */
async function runLoad(plan: LoadPlan): Promise<LoadResult> {
  const moduleName = 'autocannon' // no type declarations: the fields used are read below
  const { default: autocannon } = (await import(moduleName)) as { default: (opts: object) => Promise<any> }
  let planted = 0
  let plantedMatched = 0
  let randomMatched = 0
  const result = await autocannon({
    url: plan.url,
    connections: plan.connections,
    duration: plan.duration,
    requests: [{
      method: 'POST',
      path: '/v1/match',
      headers: { authorization: `Bearer ${plan.token}`, 'content-type': 'application/json' },
      setupRequest: (req: Record<string, unknown>, context: Record<string, unknown>) => {
        const isPlanted = Math.random() < plan.plantedFraction
        const value = isPlanted ? flipRandomBits(plan.planted[randomInt(plan.planted.length)]!, randomInt(THRESHOLD + 1)) : randomBytes(32).toString('hex')
        context.planted = isPlanted
        return { ...req, body: JSON.stringify({ signals: [{ type: 'pdq', value }] }) }
      },
      onResponse: (status: number, body: string, context: Record<string, unknown>) => {
        if (status !== 200) return
        const found = (JSON.parse(body) as { matches: unknown[] }).matches.length > 0
        if (context.planted) {
          planted++
          if (found) plantedMatched++
        } else if (found) randomMatched++
      },
    }],
  })
  const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, v]) => [code, Number((v as { count: number }).count)]))
  return {
    requestsPerSecond: result.requests.average, total: result.requests.total,
    latency: { p50: result.latency.p50, p97_5: result.latency.p97_5, p99: result.latency.p99, max: result.latency.max, mean: result.latency.mean },
    errors: result.errors, timeouts: result.timeouts, non2xx: result.non2xx, statusCodes, planted, plantedMatched, randomMatched,
  }
}

function loadInChild(plan: LoadPlan): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--client'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    child.once('message', (m) => resolve(m as LoadResult))
    child.once('error', reject)
    child.once('exit', (code) => code !== 0 && reject(new Error(`load generator exited with ${code}`)))
    child.send(plan)
  })
}

/** --profile: a CPU profile of this (server) process during the measured run, for Chrome DevTools. */
async function startProfiler(): Promise<{ stop(): Promise<string> }> {
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.start')
  return {
    async stop() {
      const { profile } = await session.post('Profiler.stop')
      const path = join(tmpdir(), `bench-api-${Date.now()}.cpuprofile`)
      writeFileSync(path, JSON.stringify(profile))
      session.disconnect()
      return path
    },
  }
}

async function measure(n: number, plan: LoadPlan): Promise<void> {
  const loop = monitorEventLoopDelay({ resolution: 5 })
  const profiler = process.argv.includes('--profile') ? await startProfiler() : undefined
  const cpuBefore = process.cpuUsage()
  loop.enable()
  const r = await loadInChild(plan)
  loop.disable()
  const cpu = process.cpuUsage(cpuBefore)
  console.log(`POST /v1/match, one PDQ hash per request, ${plan.plantedFraction * 100}% planted, against ${n.toLocaleString('en')} hashes (load average ${loadavg()[0]!.toFixed(1)}):`)
  console.log(`  ${r.requestsPerSecond.toFixed(0)} requests/s (${r.total.toLocaleString('en')} in ${plan.duration} s, ${plan.connections} connections)`)
  console.log(`  latency ms: p50 ${r.latency.p50}, p97.5 ${r.latency.p97_5}, p99 ${r.latency.p99}, max ${r.latency.max}, mean ${r.latency.mean.toFixed(2)}`)
  console.log(`  errors ${r.errors}, timeouts ${r.timeouts}, non-2xx ${r.non2xx}, status codes ${JSON.stringify(r.statusCodes)}`)
  console.log(`  planted queries matched: ${r.plantedMatched}/${r.planted}; random queries that matched: ${r.randomMatched}`)
  console.log(`  server CPU ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms = ${((cpu.user + cpu.system) / 1000 / r.total).toFixed(2)} ms per request; ${mem()}`)
  console.log(`  server event-loop delay ms: p50 ${(loop.percentile(50) / 1e6).toFixed(1)}, p99 ${(loop.percentile(99) / 1e6).toFixed(1)}, max ${(loop.max / 1e6).toFixed(1)}`)
  if (profiler) console.log(`  CPU profile of the server during the run: ${await profiler.stop()}`)
}

async function main(): Promise<void> {
  const n = option('n', 1_000_000)
  const plan = { duration: option('duration', 10), connections: option('connections', 4), plantedFraction: option('planted', 0.1) }
  console.log(`bench-api: N = ${n.toLocaleString('en')}, ${plan.connections} connections, ${plan.duration} s, ${plan.plantedFraction * 100}% planted queries (node ${process.version}, ${availableParallelism()} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')})`)
  const { running, dir, planted } = await build(n, option('restart', 1) === 1)
  try {
    const token = readFileSync(join(dir.path, FILES.apiToken), 'utf8').trim()
    // A short warm-up so JIT and first-touch costs stay out of the figures.
    await loadInChild({ ...plan, url: running.apiUrl, token, planted, duration: 2 })
    // The mix asked for, then misses only: a hit costs far more than a miss (the carrying record is read and verified).
    const mixes = plan.plantedFraction > 0 ? [plan.plantedFraction, 0] : [0]
    for (const plantedFraction of mixes) await measure(n, { ...plan, plantedFraction, url: running.apiUrl, token, planted })
  } finally {
    await running.stop()
    dir.cleanup()
  }
}

if (process.argv.includes('--client')) {
  process.once('message', (plan) => {
    void runLoad(plan as LoadPlan).then((result) => process.send!(result, () => process.exit(0)))
  })
} else {
  await main()
}

#!/bin/sh
//bin/true; export GLIBC_TUNABLES="glibc.malloc.mmap_threshold=1048576${GLIBC_TUNABLES:+:$GLIBC_TUNABLES}"; exec node --v8-pool-size=0 --max-semi-space-size=2 --import "$(cd "$(dirname "$0")/.." && pwd)/node_modules/tsx/dist/loader.mjs" "$0" "$@"
/**
 * HMA drop-in benchmark (issue 14, Performance), in one run:
 *
 *   sh scripts/bench-hma.ts [--n 1000000] [--banks 10] [--duration 10] [--connections 4] [--planted 0.1] [--rounds 2] [--gaps | --stalls] [--data DIR]
 *
 * sh runs the two lines above: node with the hashmesh command's flags and malloc setting (src/cli/node-flags.ts)
 * and tsx (found from this file, so it runs from any directory), in place of sh, so the restart's process has no
 * parent node processes. `npx tsx scripts/bench-hma.ts`
 * works too: it runs itself again with those flags, under three idle node processes (npm's, tsx's and its own)
 * whose garbage collections took the two CPUs for 4-5 ms at a time while the main thread waited (perf sched).
 *
 * 1. Fills a data directory: N random PDQ signals in the member's own feed (the federation index /v1/match
 *    searches) and N random PDQ signals spread over --banks local banks (the bank index /m/lookup searches,
 *    besides the federation).
 * 2. Restart with the API listening BEFORE the node's match index and the banks are rebuilt (what an HMA
 *    load balancer sees during a restart): a child process asks GET /status back to back for the whole
 *    rebuild and reports its latency (p50/p99/max) and the 503 INDEX-NOT-LOADED / 200 I-AM-ALIVE counts.
 *    Target: max ≤ 10 ms. With --gaps, prints where the server's event loop stopped for 8 ms or more meanwhile
 *    (scripts/lib/gap-profile.ts; the profiler itself slows the server a little). --stalls prints the same
 *    stops with the main thread's time on a CPU and waiting for one in each, without the profiler.
 * 3. autocannon (a child process, so the load generator does not share the server's event loop) against
 *    GET /m/lookup?signal=…&signal_type=pdq and POST /v1/match {signals:[pdq]}, alternately for --rounds
 *    rounds, with --planted of the queries near a stored hash (0..31 bits flipped). Target: /m/lookup req/s
 *    ≥ /v1/match req/s.
 * Prints `uptime`'s load before and after: the figures are only comparable at a similar load.
 */
import '../src/shim.js'
import { fork, spawnSync } from 'node:child_process'
import { randomBytes, randomInt } from 'node:crypto'
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { isHashmeshError } from '../src/errors.js'
import { hasMmapThreshold, missingNodeFlags, withMallocTunable } from '../src/cli/node-flags.js'
import { exitQuietlyOnEpipe } from '../src/cli/fail.js'
import { availableParallelism, loadavg } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { builtIsFresh } from './lib/cli-entry.js'
import { startGapProfile } from './lib/gap-profile.js'
import { hostStealMs, threadTimesLines } from './lib/thread-times.mjs'
import type { StatusPlan, StatusResult } from './lib/status-poller.mjs'
import { SEQ_HEADER, monotonicMs, percentile } from './lib/status-wire.mjs'
import { recordServedTimes, serverParts, splitAnswer } from './lib/served-times.js'
import { flipRandomBits } from './lib/flip-bits.js'
import { gcPausesLine, startGcPauses } from './lib/gc-pauses.js'
import { tempDir } from '../test/helpers/tmp.js'

const THRESHOLD = 31
const BANK_BATCH = 5_000

interface LoadPlan { kind: 'lookup' | 'match'; url: string; token: string; planted: string[]; plantedFraction: number; duration: number; connections: number }
interface LoadResult { requestsPerSecond: number; total: number; latency: { p50: number; p99: number; max: number }; non2xx: number; errors: number; plantedMatched: number; planted: number }

// Output piped into `head` and closed: every role ends quietly, as the CLI does.
exitQuietlyOnEpipe()
// (--load and --fill: the roles of this script's child processes; the /status poller is lib/status-poller.mjs)
const args = parseOptions()

function parseOptions() {
  try {
    return parseOptionsStrictly()
  } catch (err) {
    usage((err as Error).message.replace(/\s*\n\s*/g, ' '))
  }
}

/** A wrong option: one line, as the CLI says it, and exit code 2. */
function usage(message: string): never {
  console.error(`bench-hma: USAGE: ${message}`)
  process.exit(2)
}

function parseOptionsStrictly() {
  return parseArgs({
  options: {
    n: { type: 'string', default: '1000000' }, banks: { type: 'string', default: '10' }, duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '4' }, planted: { type: 'string', default: '0.1' }, rounds: { type: 'string', default: '2' },
    gaps: { type: 'boolean', default: false }, stalls: { type: 'boolean', default: false }, data: { type: 'string' },
    load: { type: 'boolean', default: false }, fill: { type: 'boolean', default: false },
  },
  }).values
}

/** A numeric option: a finite number of at least 0, else USAGE. */
function option(name: 'n' | 'banks' | 'duration' | 'connections' | 'planted' | 'rounds'): number {
  const value = Number(args[name])
  if (!Number.isFinite(value) || value < 0) usage(`--${name} must be a number of at least 0, got ${JSON.stringify(args[name])}`)
  return value
}

const load = () => loadavg().map((l) => l.toFixed(2)).join(' ')

/** Whether this process's parent is a node process (npx, tsx, or this script run again): idle, they still take the CPUs now and then. */
function underNode(): boolean {
  try {
    return /^(node|npm)/.test(readFileSync(`/proc/${process.ppid}/comm`, 'utf8'))
  } catch {
    return false // (no /proc: not said)
  }
}
const mem = () => `rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`

function query(planted: string[], fraction: number): { value: string; planted: boolean } {
  if (Math.random() < fraction) return { value: flipRandomBits(planted[randomInt(planted.length)]!, randomInt(THRESHOLD + 1)), planted: true }
  return { value: randomBytes(32).toString('hex'), planted: false }
}

// ---- child processes ----

async function runLoad(plan: LoadPlan): Promise<LoadResult> {
  const moduleName = 'autocannon' // no type declarations: the fields used are read below
  const { default: autocannon } = (await import(moduleName)) as { default: (opts: object) => Promise<any> }
  let planted = 0
  let plantedMatched = 0
  const auth = { authorization: `Bearer ${plan.token}` }
  const result = await autocannon({
    url: plan.url,
    connections: plan.connections,
    duration: plan.duration,
    requests: [{
      ...(plan.kind === 'match' ? { method: 'POST', path: '/v1/match', headers: { ...auth, 'content-type': 'application/json' } } : { method: 'GET', path: '/m/lookup', headers: auth }),
      setupRequest: (req: Record<string, unknown>, context: Record<string, unknown>) => {
        const q = query(plan.planted, plan.plantedFraction)
        context.planted = q.planted
        if (plan.kind === 'match') return { ...req, body: JSON.stringify({ signals: [{ type: 'pdq', value: q.value }] }) }
        return { ...req, path: `/m/lookup?signal=${q.value}&signal_type=pdq&bypass_coinflip=true` }
      },
      onResponse: (status: number, body: string, context: Record<string, unknown>) => {
        if (status !== 200 || !context.planted) return
        planted++
        const parsed = JSON.parse(body) as { matches?: unknown[] } | unknown[]
        if ((Array.isArray(parsed) ? parsed : parsed.matches ?? []).length > 0) plantedMatched++
      },
    }],
  })
  return {
    requestsPerSecond: result.requests.average, total: result.requests.total,
    latency: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
    non2xx: result.non2xx, errors: result.errors, planted, plantedMatched,
  }
}

/**
 * A child process running `role`; `start(plan)` hands it its plan (at once unless `plan` is left out: the
 * poller is forked before the server it polls exists, so the fork is not in the measured restart). `up`
 * resolves when it says it is working (the poller's first answer).
 */
function child<T>(role: string, plan?: object): { result: Promise<T>; up: Promise<void>; start: (plan: object) => void } {
  // (the poller is plain JavaScript on bare node: status-poller.mjs says why)
  const [script, argv, execArgv] = role === '--status' ? [fileURLToPath(new URL('./lib/status-poller.mjs', import.meta.url)), [], []] : [fileURLToPath(import.meta.url), [role], ['--import', import.meta.resolve('tsx')]]
  const proc = fork(script, argv, { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  let isUp: () => void = () => undefined
  let isDown: (err: Error) => void = () => undefined
  const up = new Promise<void>((resolve, reject) => ((isUp = resolve), (isDown = reject)))
  const result = new Promise<T>((resolve, reject) => {
    const failed = (err: Error): void => {
      isDown(err) // (a child that fails before it is up fails whoever waits for that, too)
      reject(err)
    }
    proc.on('message', (m) => (m === 'up' ? isUp() : resolve(m as T)))
    proc.once('error', failed)
    // ('close' comes after its messages: after its result this changes nothing; before it, the child failed or
    // its output was closed)
    proc.once('close', (code) => failed(Object.assign(new Error(`${role} ended without a result (exit code ${code})`), { code: 'CHILD_FAILED' })))
  })
  // (each is awaited later, or not at all: a failure meanwhile is theirs to report, not an unhandled rejection)
  up.catch(() => undefined)
  result.catch(() => undefined)
  const start = (p: object): void => void proc.send(p)
  if (plan !== undefined) start(plan)
  return { result, up, start }
}

// ---- the benchmark ----

interface FillPlan { dataDir: string; n: number; banks: number }

/** In a child process: the restart below is then a fresh process, as a real one is (not one whose allocator the fill has shaped). */
async function fill({ dataDir, n, banks }: FillPlan): Promise<{ bankPlanted: string[] }> {
  const [{ HashmeshNode }, { NodeService }, { fillOwnFeed }] = await Promise.all([import('../src/node/node.js'), import('../src/node/service.js'), import('./lib/bench-fill.js')])
  let t0 = performance.now()
  await fillOwnFeed(dataDir, Math.ceil(n / 1000), 1000)
  console.log(`fill: ${n.toLocaleString('en')} PDQ signals in the own feed (records of 1,000): ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  t0 = performance.now()
  const node = await HashmeshNode.open(dataDir)
  const service = new NodeService(node)
  const store = await service.banksService.loaded
  const bankPlanted: string[] = []
  const perBank = Math.ceil(n / banks)
  for (let b = 0; b < banks; b++) {
    const name = `BENCH_BANK_${b}`
    await service.banks.create({ name })
    for (let done = 0; done < perBank; ) {
      const count = Math.min(BANK_BATCH, perBank - done)
      const pool = randomBytes(32 * count)
      const inputs = Array.from({ length: count }, (_, i) => ({ signals: { pdq: pool.toString('hex', 32 * i, 32 * i + 32) } }))
      if (bankPlanted.length < 10_000) bankPlanted.push(...inputs.slice(0, 20).map((x) => x.signals.pdq))
      await store.addContents(name, inputs)
      done += count
    }
  }
  console.log(`fill: ${(perBank * banks).toLocaleString('en')} PDQ signals in ${banks} banks (batches of ${BANK_BATCH}): ${((performance.now() - t0) / 1000).toFixed(1)} s; ${mem()}`)
  await node.close()
  return { bankPlanted }
}

/**
 * The modules the restart runs, as a node runs them: compiled (dist, what `hashmesh start` runs) when the build
 * is fresh (scripts/lib/cli-entry.ts), else the sources through tsx, whose loader threads and compiles the
 * server then shares its CPUs with.
 */
async function serverModules() {
  const base = builtIsFresh() ? '../dist/src/' : '../src/'
  const [node, server, identity] = await Promise.all([import(`${base}node/node.js`), import(`${base}api/server.js`), import(`${base}node/identity.js`)])
  return {
    from: base === '../src/' ? 'src (through tsx: dist is missing or older than a source file; npm run build)' : 'dist',
    HashmeshNode: (node as typeof import('../src/node/node.js')).HashmeshNode,
    startApiServer: (server as typeof import('../src/api/server.js')).startApiServer,
    FILES: (identity as typeof import('../src/node/identity.js')).FILES,
    initDataDir: (identity as typeof import('../src/node/identity.js')).initDataDir,
  }
}

async function main(): Promise<void> {
  const { HashmeshNode, startApiServer, FILES, initDataDir, from } = await serverModules()
  const n = option('n')
  const banks = option('banks')
  const plan = { duration: option('duration'), connections: option('connections'), plantedFraction: option('planted') }
  const rounds = option('rounds')
  console.log(`bench-hma: N = ${n.toLocaleString('en')} (feed) + ${n.toLocaleString('en')} (${banks} banks), ${plan.connections} connections, ${plan.duration} s per run, ${rounds} round(s); node ${process.version} ${process.execArgv.filter((a) => a.startsWith('--v8') || a.startsWith('--max-semi')).join(' ')} GLIBC_TUNABLES=${process.env.GLIBC_TUNABLES ?? ''}, server code from ${from}${underNode() ? ' under node parent processes (sh scripts/bench-hma.ts runs without them)' : ''}, ${availableParallelism()} cores, load average ${load()}`)
  // --data DIR keeps the filled directory: a later run with the same DIR skips the fill (the restart is the same).
  const kept = args.data
  if (kept !== undefined && existsSync(kept) && !statSync(kept).isDirectory()) usage(`--data must be a directory (kept between runs), and ${kept} is a file`)
  const dir = kept === undefined ? tempDir('hashmesh-bench-hma-') : { path: kept, cleanup: () => undefined }
  const plantedFile = join(dir.path, 'bench-planted.json')
  try {
    let bankPlanted: string[]
    if (kept !== undefined && existsSync(plantedFile)) {
      bankPlanted = JSON.parse(readFileSync(plantedFile, 'utf8')) as string[]
      console.log(`fill: kept from an earlier run in ${kept} (its N and banks, not this run's options)`)
    } else {
      await initDataDir(dir.path, { name: 'bench-member' })
      bankPlanted = (await child<{ bankPlanted: string[] }>('--fill', { dataDir: dir.path, n, banks } satisfies FillPlan).result).bankPlanted
      if (kept !== undefined) writeFileSync(plantedFile, JSON.stringify(bankPlanted))
    }
    const token = readFileSync(join(dir.path, FILES.apiToken), 'utf8').trim()

    // Restart: the API listens first, then the node rebuilds its index (and the banks load) under /status polling.
    const poller = child<StatusResult>('--status') // (forked now: a fork in the server's process once it listens stopped its loop ~10 ms)
    const node = await HashmeshNode.open(dir.path, { overrides: { api: { port: 0 } } })
    await node.prepareStart() // (as run-node.ts does)
    const api = await startApiServer(node, { host: '127.0.0.1', port: 0, token, bodyLimitBytes: node.config.api.bodyLimitBytes, jsonBodyLimitBytes: node.config.api.jsonBodyLimitBytes })
    const served = recordServedTimes(SEQ_HEADER)
    try {
      // (the server's own measuring starts before the poller asks: set up later, it ran just as node.start() began,
      // and the poller's answers there waited for it)
      const loop = monitorEventLoopDelay({ resolution: 1 })
      loop.enable()
      const gcs = startGcPauses()
      // (the profiler first: started while the poller asked, it held the main thread 35-75 ms)
      const gaps = args.gaps || args.stalls ? await startGapProfile(8, { profile: args.gaps }) : undefined
      poller.start({ url: api.url, token, serverPid: process.pid } satisfies StatusPlan)
      await poller.up // the poller has its first answer (503: the index is not built yet)
      const t0 = performance.now()
      const startedAt = monotonicMs() // (the poller's clock)
      // (to line up an outside trace with the answers: `perf record -k mono` stamps CLOCK_MONOTONIC too)
      if (args.stalls || args.gaps) console.log(`node.start() at ${(startedAt / 1000).toFixed(6)} s on CLOCK_MONOTONIC`)
      const stealAtStart = hostStealMs()
      await node.start()
      const rebuildMs = performance.now() - t0
      const s = await poller.result // (it polls until /status has answered 200 for a second: this process asks nothing itself)
      const stealAtEnd = hostStealMs()
      const steal = stealAtStart === undefined || stealAtEnd === undefined ? '' : `; the host took the vCPUs ${stealAtEnd - stealAtStart} ms meanwhile (steal, in 10 ms ticks)`
      loop.disable()
      served.stop()
      const gcPauses = gcs.stop()
      await gaps?.stop()
      if (s.threadTimes) console.log(threadTimesLines(s.threadTimes).join('\n'))
      console.log(`rebuild: node.start() (verifier, index of ${node.indexStats().pdqHashes.toLocaleString('en')} hashes, built at priority ${node.config.match.indexBuildPriority}) ${(rebuildMs / 1000).toFixed(1)} s with the API listening; then /status ${s.codes['200'] ? 200 : 'never 200'}; ${mem()}`)
      console.log(`/status during the rebuild: ${s.count} answers in ${(s.ms / 1000).toFixed(1)} s ${JSON.stringify(s.codes)}; latency ms p50 ${s.p50.toFixed(2)}, p99 ${s.p99.toFixed(2)}, max ${s.max.toFixed(2)} (target max ≤ 10; the 503 answers alone: p99 ${s.p99Building.toFixed(2)}, p99.9 ${s.p999Building.toFixed(2)}, max ${s.maxBuilding.toFixed(2)}, over 10 ms ${s.over10Building} of ${s.codes['503'] ?? 0}); server event-loop delay max ${(loop.max / 1e6).toFixed(1)} ms; load average ${load()}${steal}`)
      console.log(`the server's main thread's garbage collections meanwhile: ${gcPausesLine(gcPauses)}`)
      const slow = s.slow.map((a) => {
        const split = splitAnswer(a.seq, s.asked, s.answered, served)
        const main = a.serverMain
        // (over the whole answer, asked → read: neither running nor waiting is asleep, or the vCPU stopped by its host)
        const cpu = main ? `; the server's main thread meanwhile on a CPU ${main.runMs.toFixed(1)}, waiting for one ${main.waitMs.toFixed(1)}, neither ${(a.ms - main.runMs - main.waitMs).toFixed(1)}, put on a CPU ${main.slices} time(s)` : ''
        const steal = a.stealMs === undefined ? '' : `; host steal ${a.stealMs} ms`
        const parts = split ? `: server ${(split.wait + split.work).toFixed(1)} (waited ${split.wait.toFixed(1)}), poller ${split.poller.toFixed(1)}${cpu}${steal}` : `${cpu}${steal}`
        const from = (a.at - startedAt) / 1000
        return `${from >= 0 ? '+' : ''}${from.toFixed(2)} s ${a.ms.toFixed(1)} ms (${a.status}${parts})`
      })
      if (slow.length > 0) console.log(`/status answers over 10 ms, asked at (from node.start()): ${slow.join(', ')}`)
      const seqs = s.statuses.map((_, i) => i + 1)
      const serverAll = serverParts(seqs, s.asked, s.answered, served)
      const building = seqs.filter((seq) => s.statuses[seq - 1] === 503)
      const serverBuilding = serverParts(building, s.asked, s.answered, served)
      // (the poller's first answers come before node.start() is called, while this process sets up its instruments)
      const serverRebuilding = serverParts(building.filter((seq) => s.asked[seq - 1]! >= startedAt), s.asked, s.answered, served)
      console.log(`/status on the server's side (asked → answer written; the rest is the poller waiting for a CPU of its own): ${serverAll.length} answers, p99 ${percentile(serverAll, 99).toFixed(2)}, p99.9 ${percentile(serverAll, 99.9).toFixed(2)}, max ${(serverAll.at(-1) ?? 0).toFixed(2)} ms, over 10 ms ${serverAll.filter((ms) => ms > 10).length}; the 503 answers alone: max ${(serverBuilding.at(-1) ?? 0).toFixed(2)} ms, over 10 ms ${serverBuilding.filter((ms) => ms > 10).length} of ${serverBuilding.length}; those asked once node.start() was called: max ${(serverRebuilding.at(-1) ?? 0).toFixed(2)} ms, over 10 ms ${serverRebuilding.filter((ms) => ms > 10).length} of ${serverRebuilding.length}`)

      const fedPlanted = (await node.feedRecords(node.memberKey, 1, 10)).flatMap(({ record }) => (record.kind === 'signals' ? record.body.signals.slice(0, 100).map((x) => x.value!) : []))
      const plans: Record<'lookup' | 'match', LoadPlan> = {
        lookup: { kind: 'lookup', url: api.url, token, planted: bankPlanted, ...plan },
        match: { kind: 'match', url: api.url, token, planted: fedPlanted, ...plan },
      }
      for (const kind of ['lookup', 'match'] as const) await child<LoadResult>('--load', { ...plans[kind], duration: 2 }).result // warm-up
      const figures: Record<string, number[]> = { lookup: [], match: [] }
      for (let round = 1; round <= rounds; round++) {
        for (const kind of ['lookup', 'match'] as const) {
          const cpu = process.cpuUsage()
          const r = await child<LoadResult>('--load', plans[kind]).result
          const used = process.cpuUsage(cpu)
          figures[kind]!.push(r.requestsPerSecond)
          const label = kind === 'lookup' ? 'GET /m/lookup?signal=…&signal_type=pdq' : 'POST /v1/match {pdq}'
          console.log(`round ${round} ${label.padEnd(40)} ${r.requestsPerSecond.toFixed(0).padStart(6)} req/s (${r.total} in ${plan.duration} s), latency ms p50 ${r.latency.p50} p99 ${r.latency.p99} max ${r.latency.max}, non-2xx ${r.non2xx}, errors ${r.errors}, planted matched ${r.plantedMatched}/${r.planted}, server CPU ${((used.user + used.system) / 1000 / Math.max(1, r.total)).toFixed(2)} ms/req; load ${load()}`)
        }
      }
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
      if (rounds > 0) console.log(`result: /m/lookup ${mean(figures.lookup!).toFixed(0)} req/s vs /v1/match ${mean(figures.match!).toFixed(0)} req/s (ratio ${(mean(figures.lookup!) / mean(figures.match!)).toFixed(2)}; target ≥ 1); load average ${load()}`)
    } finally {
      await api.close()
      await node.close()
    }
  } finally {
    dir.cleanup()
  }
}

if (args.load) {
  process.once('message', (plan) => void runLoad(plan as LoadPlan).then((r) => process.send!(r, () => process.exit(0))))
} else if (args.fill) {
  process.once('message', (plan) => void fill(plan as FillPlan).then((r) => process.send!(r, () => process.exit(0))))
} else if (missingNodeFlags().length > 0 || !hasMmapThreshold()) {
  // The restart runs in this process, so it runs with the flags and the malloc setting the hashmesh command gives node (cli/node-flags.ts), as a node does.
  const flags = missingNodeFlags()
  const env = hasMmapThreshold() ? process.env : withMallocTunable()
  const rerun = spawnSync(process.execPath, [...flags, ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit', env })
  process.exitCode = rerun.status ?? 1
} else {
  await main().catch((err: unknown) => {
    // (a wrong option or --data path, or a child that failed (it said why): one line with its code, as the CLI
    // says it; anything else is a bug)
    const code = isHashmeshError(err) ? err.code : (err as { code?: string }).code
    if (code === undefined || !(isHashmeshError(err) || /^E[A-Z]+$/.test(code) || code === 'CHILD_FAILED')) throw err
    console.error(`bench-hma: ${code}: ${(err as Error).message}`)
    process.exitCode = 2
  })
}

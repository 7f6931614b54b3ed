/**
 * Sync benchmarks (issue 5).
 *
 *   --mode catchup    (default) real nodes: member A (a separate `hashmesh start` process) holds --records
 *                     own records of --signals PDQ signals each; a fresh member B (this process, runNode:
 *                     real LevelDB, signature verification on a worker, roster, match index) starts and
 *                     catches up. Times B's start -> B's head for A == A's head, also from B's network start,
 *                     from the first connection and from the first record received. Prints CPU seconds of
 *                     both processes and of B's threads (main, then the others busiest first: the verify
 *                     worker, V8's GC helpers, LevelDB). --profile FILE / --heap-profile FILE: a CPU or an
 *                     allocation profile of B's main thread over the catch-up window.
 *   --mode propagate  --nodes 10[,20] member processes (createDevnet); --rate records/s for --seconds, spread
 *                     round-robin over the members through POST /v1/contributions; a record counts as arrived
 *                     on a node at the time of that node's `record.stored` log line (nodes log at trace level).
 *                     Latency = arrival on the last node - the contribution's response on the origin.
 *   --mode fake       the network layer only: two in-process networks with the in-memory fake replica.
 *
 *   npx tsx scripts/bench-sync.ts --mode catchup --records 100000 --signals 2
 *   npx tsx scripts/bench-sync.ts --mode propagate --nodes 10,20 --rate 50 --seconds 30
 *   npx tsx scripts/bench-sync.ts --mode fake --records 50000 --feeds 4 --payload 200
 */
import '../src/shim.js'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector'
import { parseArgs } from 'node:util'
import { createDevnet, apiClient, type DevnetMember } from './lib/devnet.js'
import { fillOwnFeed, percentile, randomHex, sleep } from './lib/bench-fill.js'
import { runNode } from '../src/api/run-node.js'

const { values } = parseArgs({
  options: {
    mode: { type: 'string', default: 'catchup' },
    records: { type: 'string' },
    signals: { type: 'string', default: '2' },
    feeds: { type: 'string', default: '4' },
    payload: { type: 'string', default: '200' },
    nodes: { type: 'string', default: '10,20' },
    rate: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '30' },
    'drain-ms': { type: 'string', default: '15000' },
    /** p2p.syncIntervalMs of every node: the product default (config/default.json); devnets use 2000 */
    'sync-interval-ms': { type: 'string', default: '15000' },
    keep: { type: 'boolean', default: false },
    /** propagate: p2p.meshDegree of every node (gossip mesh degree D; default: the config default, 3) */
    'mesh-degree': { type: 'string' },
    /** catchup: write a CPU profile of this process's main thread, catch-up window only (.cpuprofile) */
    profile: { type: 'string' },
    /** catchup: write a sampling heap profile (allocations, collected ones included) instead (.heapprofile) */
    'heap-profile': { type: 'string' },
  },
})

const round = (x: number, d = 0) => +x.toFixed(d)

/**
 * The V8 CPU profiler of this thread, or its sampling heap profiler (every allocation, also those
 * collected since), started now (inspector protocol; open the result in Chrome DevTools).
 */
async function startProfiler(kind: 'cpu' | 'heap'): Promise<{ stop(): Promise<object> }> {
  const session = new Session()
  session.connect()
  const post = (method: string, params?: object) =>
    new Promise<any>((resolve, reject) => session.post(method, params ?? {}, (err, result) => (err ? reject(err) : resolve(result))))
  if (kind === 'heap') {
    await post('HeapProfiler.enable')
    await post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true })
    return { stop: async () => (await post('HeapProfiler.stopSampling')).profile }
  }
  await post('Profiler.enable')
  await post('Profiler.start')
  return { stop: async () => (await post('Profiler.stop')).profile }
}

/** CPU seconds so far of each thread of this process (Linux /proc; empty elsewhere), by thread id. */
function threadCpuSeconds(): Map<string, number> {
  const out = new Map<string, number>()
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      out.set(tid, (Number(fields[11]) + Number(fields[12])) / 100) // utime + stime, in clock ticks of 10 ms
    }
  } catch {
    // not Linux
  }
  return out
}

/** Per-thread CPU used since `before`: the main thread, and the others busiest first (verify worker, GC, LevelDB). */
function threadCpuSince(before: Map<string, number>): { main: number; others: number[] } {
  const used = [...threadCpuSeconds()].map(([tid, s]) => [tid, round(s - (before.get(tid) ?? 0), 2)] as const)
  return {
    main: used.find(([tid]) => tid === String(process.pid))?.[1] ?? 0,
    others: used.filter(([tid, s]) => tid !== String(process.pid) && s >= 0.05).map(([, s]) => s).sort((a, b) => b - a),
  }
}

/** How far each node's log has been read: chunks consumed and the unfinished last line. */
interface LogCursor { chunks: number; partial: string }

/**
 * Fills `arrived` from each node's `record.stored` log lines, reading only what was logged since the
 * last call; returns how many (record, node) pairs are still missing.
 */
function markArrivals(members: DevnetMember[], published: Published[], cursors: LogCursor[]): number {
  const byKey = new Map(published.map((p) => [`${p.feed}/${p.seq}`, p]))
  let missing = 0
  members.forEach((m, k) => {
    const cursor = (cursors[k] ??= { chunks: 0, partial: '' })
    const lines = (cursor.partial + m.log.slice(cursor.chunks).join('')).split('\n')
    cursor.chunks = m.log.length
    cursor.partial = lines.pop() ?? ''
    for (const line of lines) {
      if (!line.includes('"record.stored"')) continue
      const entry = JSON.parse(line) as { time: number; feed: string; seq: number }
      const p = byKey.get(`${entry.feed}/${entry.seq}`)
      if (p && p.arrived[k] === undefined) p.arrived[k] = entry.time
    }
    for (const p of published) if (p.origin !== k && p.arrived[k] === undefined) missing++
  })
  return missing
}

/** TCP segments this host has sent (Linux /proc/net/snmp OutSegs; 0 elsewhere). */
function tcpSegmentsSent(): number {
  try {
    const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Tcp:'))
    const names = lines[0]!.split(/\s+/)
    const values = lines[1]!.split(/\s+/)
    return Number(values[names.indexOf('OutSegs')])
  } catch {
    return 0
  }
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? NaN
}

/** User + system CPU seconds of another process (Linux /proc; 0 elsewhere). */
function processCpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100 // utime + stime in clock ticks (USER_HZ = 100)
  } catch {
    return 0
  }
}

async function catchup(): Promise<void> {
  const records = Number(values.records ?? 100_000)
  const signals = Number(values.signals)
  const devnet = await createDevnet({ names: ['Alpha', 'Bravo'], syncIntervalMs: Number(values['sync-interval-ms']), keep: values.keep })
  try {
    const [a, b] = devnet.members as [DevnetMember, DevnetMember]
    const fill = await fillOwnFeed(a.dataDir, records, signals)
    console.error(`filled ${records} records x ${signals} signals (${(fill.bytes / records).toFixed(0)} B/record) in ${round(fill.ms)} ms (not timed)`)
    let t = performance.now()
    await devnet.start(a.name)
    console.error(`Alpha started (index rebuild included) in ${round(performance.now() - t)} ms`)

    const marks: Record<string, number> = {}
    const t0 = performance.now()
    const mark = (name: string) => (marks[name] ??= performance.now() - t0)
    // CPU seconds while catching up: this process (B: main thread + verify worker) and Alpha's process
    const cpuAtStart = { b: process.cpuUsage(), alpha: processCpuSeconds(a.process?.pid), threads: threadCpuSeconds() }
    const profileFile = values['heap-profile'] ?? values.profile
    const profiler = profileFile === undefined ? undefined : await startProfiler(values['heap-profile'] === undefined ? 'cpu' : 'heap')
    let cpu: { b: number; alpha: number; bThreads: ReturnType<typeof threadCpuSince> } | undefined
    const running = await runNode(b.dataDir, {
      log: (_level, event) => {
        if (event === 'net.started') mark('netStarted')
        if (event.startsWith('sync.session')) mark('firstSessionEnd')
      },
    })
    mark('runNodeReturned')
    const node = running.node
    const deadline = Date.now() + 300_000
    // fine-grained in-process polling of B's state: cheap (a Map lookup)
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (marks.connected === undefined && (running.network?.peers().length ?? 0) > 0) mark('connected')
        const head = node.head(fill.feed)
        if (head && marks.firstRecord === undefined) mark('firstRecord')
        if (head && head.seq === fill.head.seq && head.id === fill.head.id) {
          mark('caughtUp')
          const used = process.cpuUsage(cpuAtStart.b)
          cpu = { b: round((used.user + used.system) / 1e6, 2), alpha: round(processCpuSeconds(a.process?.pid) - cpuAtStart.alpha, 2), bThreads: threadCpuSince(cpuAtStart.threads) }
          clearInterval(timer)
          resolve()
        } else if (Date.now() > deadline) {
          clearInterval(timer)
          reject(new Error(`not caught up: B at ${head?.seq ?? 0} of ${fill.head.seq}`))
        }
      }, 2)
    })
    if (profiler) writeFileSync(profileFile!, JSON.stringify(await profiler.stop()))
    const m = running.network!.metrics()
    await running.stop()
    const caughtUp = marks.caughtUp!
    const from = (k: string) => (marks[k] === undefined ? null : round((caughtUp - marks[k]!) / 1000, 2))
    console.log(
      JSON.stringify({
        mode: 'catchup',
        records,
        signalsPerRecord: signals,
        bytesPerRecord: Math.round(fill.bytes / records),
        marksMs: Object.fromEntries(Object.entries(marks).map(([k, v]) => [k, round(v)])),
        seconds: {
          fromStart: round(caughtUp / 1000, 2),
          fromNetStarted: from('netStarted'),
          fromConnected: from('connected'),
          fromFirstRecord: from('firstRecord'),
        },
        recordsPerSecond: {
          fromStart: Math.round(records / (caughtUp / 1000)),
          fromConnected: marks.connected === undefined ? null : Math.round(records / ((caughtUp - marks.connected) / 1000)),
        },
        cpuSeconds: cpu,
        sync: { sessions: m.sync.sessionsStarted, requests: m.sync.requestsSent, records: m.sync.records, gossip: m.gossip.records },
      }),
    )
  } finally {
    await devnet.close()
  }
}

interface Published { origin: number; feed: string; seq: number; id: string; sentAt: number; respondedAt: number; arrived: (number | undefined)[] }

async function propagate(nodes: number): Promise<void> {
  const rate = Number(values.rate)
  const seconds = Number(values.seconds)
  const signals = Number(values.signals)
  const names = Array.from({ length: nodes }, (_, i) => `Node${String(i).padStart(2, '0')}`)
  let t = performance.now()
  const devnet = await createDevnet({ names, syncIntervalMs: Number(values['sync-interval-ms']), keep: values.keep, logLevel: 'trace',
    config: values['mesh-degree'] === undefined ? undefined : { p2p: { meshDegree: Number(values['mesh-degree']) } } })
  try {
    // start a few at a time: 20 tsx start-ups at once on 2 cores mostly wait for each other
    for (let i = 0; i < names.length; i += 4) await Promise.all(names.slice(i, i + 4).map((n) => devnet.start(n)))
    console.error(`${nodes} nodes started in ${round((performance.now() - t) / 1000, 1)} s`)
    const members = devnet.members
    const apis = members.map(apiClient)
    const feedOf = members.map((m) => m.identity.memberKey)
    type Feeds = { feeds: Array<{ feed: string; seq: number }> }

    // warm-up: every member contributes one record; wait until every node holds all of them (mesh formed)
    t = performance.now()
    await Promise.all(apis.map((api) => api.post('/v1/contributions', { signals: [{ type: 'pdq', value: randomHex(32), quality: 90 }], labels: ['behavior:glorification'] })))
    for (;;) {
      const all = await Promise.all(apis.map((api) => api.get<Feeds>('/v1/feeds')))
      if (all.every((f) => f.feeds.length === nodes && f.feeds.every((h) => h.seq >= 1))) break
      if (performance.now() - t > 60_000) throw new Error('warm-up: records did not reach every node in 60 s')
      await sleep(200)
    }
    const peers = await Promise.all(apis.map((api) => api.get<{ peers: unknown[] }>('/v1/peers')))
    console.error(`warm-up done in ${round((performance.now() - t) / 1000, 1)} s; peers per node min ${Math.min(...peers.map((p) => p.peers.length))}`)
    await sleep(2_000)

    const published: Published[] = []
    let publishing = true

    const total = Math.round(rate * seconds)
    const cpuBefore = { nodes: members.map((m) => processCpuSeconds(m.process?.pid)), bench: process.cpuUsage() }
    // idle reference: CPU of every node over 3 s with nothing published (heartbeats, sync rounds, DHT)
    await sleep(3_000)
    const idleCpu = members.map((m, k) => processCpuSeconds(m.process?.pid) - cpuBefore.nodes[k]!)
    const cpuAtPublish = members.map((m) => processCpuSeconds(m.process?.pid))
    const segmentsAtPublish = tcpSegmentsSent()
    const start = performance.now()
    const posts: Promise<void>[] = []
    let postErrors = 0
    for (let i = 0; i < total; i++) {
      const due = start + (i * 1000) / rate
      const wait = due - performance.now()
      if (wait > 0) await sleep(wait)
      const origin = i % nodes
      posts.push(
        (async () => {
          const sentAt = Date.now()
          try {
            const res = await apis[origin]!.post<{ records: Array<{ id: string; seq: number }> }>('/v1/contributions', {
              signals: Array.from({ length: signals }, () => ({ type: 'pdq', value: randomHex(32), quality: 90 })),
              labels: ['behavior:glorification'],
            })
            const respondedAt = Date.now()
            for (const r of res.records) published.push({ origin, feed: feedOf[origin]!, seq: r.seq, id: r.id, sentAt, respondedAt, arrived: new Array(nodes) })
          } catch {
            postErrors++
          }
        })(),
      )
    }
    await Promise.all(posts)
    const publishSeconds = (performance.now() - start) / 1000
    const publishCpu = members.map((m, k) => (processCpuSeconds(m.process?.pid) - cpuAtPublish[k]!) / publishSeconds)
    const benchCpu = process.cpuUsage(cpuBefore.bench)
    const segmentsPublishing = tcpSegmentsSent() - segmentsAtPublish
    publishing = false
    // Arrival on each node = the time of its `record.stored` log line (nodes run at log level trace; the
    // clock is the same on one host). Polling every node's API instead cost the nodes more CPU than gossip.
    const drainUntil = performance.now() + Number(values['drain-ms'])
    const cursors: LogCursor[] = []
    for (;;) {
      const outstanding = markArrivals(members, published, cursors)
      if (outstanding === 0 || performance.now() > drainUntil) break
      await sleep(250)
    }

    const latencies: number[] = []
    const perNode: number[] = []
    let lost = 0
    let late = 0
    for (const p of published) {
      const others = p.arrived.filter((_, k) => k !== p.origin)
      const missing = others.filter((x) => x === undefined).length
      if (missing > 0) {
        lost++
        continue
      }
      const last = Math.max(...(others as number[])) - p.respondedAt
      latencies.push(last)
      for (const x of others as number[]) perNode.push(x - p.respondedAt)
      if (last > 1000) late++
    }
    latencies.sort((x, y) => x - y)
    perNode.sort((x, y) => x - y)
    const posting = published.map((p) => p.respondedAt - p.sentAt).sort((x, y) => x - y)
    const metrics = await Promise.all(apis.map((api) => api.get<{ network: { metrics: { gossip: { records: Record<string, number> }; sync: { records: Record<string, number> } } } }>('/v1/status')))
    const sum = (f: (x: (typeof metrics)[number]) => number) => metrics.reduce((n, x) => n + f(x), 0)
    console.log(
      JSON.stringify({
        mode: 'propagate',
        nodes,
        // share of one core per node process: idle (3 s before publishing) and while publishing
        nodeCpu: {
          idle: { median: round(median(idleCpu.map((c) => c / 3)), 3), max: round(Math.max(...idleCpu) / 3, 3) },
          publishing: { median: round(median(publishCpu), 3), max: round(Math.max(...publishCpu), 3), sum: round(publishCpu.reduce((a, b) => a + b, 0), 2) },
          benchProcessSeconds: round((benchCpu.user + benchCpu.system) / 1e6, 1),
        },
        // TCP segments sent on the host while publishing, per published record (all nodes, loopback)
        tcpSegmentsPerRecord: round(segmentsPublishing / Math.max(1, published.length), 1),
        rateTarget: rate,
        rateAchieved: round(published.length / publishSeconds, 1),
        records: published.length,
        postErrors,
        signalsPerRecord: signals,
        lost,
        allNodesMs: { p50: round(percentile(latencies, 50)), p90: round(percentile(latencies, 90)), p99: round(percentile(latencies, 99)), max: round(latencies.at(-1) ?? NaN) },
        eachNodeMs: { p50: round(percentile(perNode, 50)), p99: round(percentile(perNode, 99)) },
        over1s: late,
        contributionResponseMs: { p50: round(percentile(posting, 50)), p99: round(percentile(posting, 99)) },
        probe: 'record.stored log lines (trace)',
        deliveredBy: { gossipAccepted: sum((x) => x.network.metrics.gossip.records.accepted ?? 0), syncAccepted: sum((x) => x.network.metrics.sync.records.accepted ?? 0) },
      }),
    )
  } finally {
    await devnet.close()
  }
}

async function fake(): Promise<void> {
  const { startNode } = await import('../test/net/helpers.js')
  const records = Number(values.records ?? 50_000)
  const feeds = Number(values.feeds)
  const payloadBytes = Number(values.payload)
  const source = await startNode()
  const payload = 'p'.repeat(payloadBytes)
  for (let i = 0; i < records; i++) source.replica.append(`feed-${i % feeds}`, `${i}:${payload}`)
  const sink = await startNode()
  try {
    await sink.net.dial(source.addr)
    const started = performance.now()
    let total = 0
    let requests = 0
    while (total < records) {
      const report = await sink.net.syncNow(source.peerId)
      if (report.failed > 0) throw new Error(JSON.stringify(report.peers[0]?.error))
      total += report.records.accepted
      requests += report.peers[0]?.requests ?? 0
      if (report.records.accepted === 0) break
    }
    const seconds = (performance.now() - started) / 1000
    console.log(JSON.stringify({ mode: 'fake', records, feeds, payloadBytes, received: total, requests, seconds: round(seconds, 2), recordsPerSecond: Math.round(total / seconds) }))
  } finally {
    await sink.net.stop()
    await source.net.stop()
  }
}

switch (values.mode) {
  case 'catchup':
    await catchup()
    break
  case 'propagate':
    for (const n of values.nodes!.split(',').map(Number)) await propagate(n)
    break
  case 'fake':
    await fake()
    break
  default:
    throw new Error(`unknown --mode ${values.mode} (catchup | propagate | fake)`)
}
process.exit(0)

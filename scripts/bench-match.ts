/**
 * Benchmark of PdqIndex at t = 31: build time, memory per hash, single-query latency, throughput
 * and recall against brute force.
 *
 *   npx tsx scripts/bench-match.ts [--n 1000000] [--queries 10000] [--recall-sample 1000] [--cluster-fraction 0.1]
 *
 * Prints p50/p99/mean/max latency, queries/s on one core both as 1 / mean latency and as sustained
 * over the whole query loop, latency split by planted vs random queries, and a jitter reference (a
 * fixed CPU loop timed the same way) to tell machine noise from index cost on a shared host.
 * Recall is checked against brute force on a sample of the queries (--recall-sample).
 *
 * Data: uniform random hashes plus clusters of near-duplicates (a random centre with 1..16 bits
 * flipped per member). Half the queries are planted: a stored hash with 0..31 bits flipped, so
 * each has at least one match; the rest are fresh random hashes (almost never a match).
 */
import { randomFillSync, randomInt } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { PdqIndex, wordsToHash } from '../src/match/pdq-index.js'
import { popcount32 } from '../src/hash/hash256.js'

const THRESHOLD = 31
const WORDS = 8

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}

function flipRandomBits(words: Uint32Array, base: number, bits: number): void {
  const flipped = new Set<number>()
  while (flipped.size < bits) flipped.add(randomInt(256))
  for (const bit of flipped) words[base + (bit >>> 5)]! ^= 1 << (bit & 31)
}

function generateHashes(n: number, clusterFraction: number): Uint32Array {
  const words = new Uint32Array(n * WORDS)
  randomFillSync(words)
  // Clusters of 2..20 near-duplicates copied from a centre, spread through the data.
  let clustered = 0
  const target = Math.floor(n * clusterFraction)
  while (clustered < target) {
    const centre = randomInt(n)
    const members = Math.min(2 + randomInt(19), target - clustered)
    for (let m = 0; m < members; m++) {
      const member = randomInt(n)
      words.copyWithin(member * WORDS, centre * WORDS, centre * WORDS + WORDS)
      flipRandomBits(words, member * WORDS, 1 + randomInt(16))
    }
    clustered += members
  }
  return words
}

function bruteForce(data: Uint32Array, n: number, query: Uint32Array): Array<{ entryId: number; distance: number }> {
  const out: Array<{ entryId: number; distance: number }> = []
  const [q0, q1, q2, q3, q4, q5, q6, q7] = query as unknown as number[]
  for (let i = 0, b = 0; i < n; i++, b += WORDS) {
    const d =
      popcount32(data[b]! ^ q0!) + popcount32(data[b + 1]! ^ q1!) + popcount32(data[b + 2]! ^ q2!) + popcount32(data[b + 3]! ^ q3!) +
      popcount32(data[b + 4]! ^ q4!) + popcount32(data[b + 5]! ^ q5!) + popcount32(data[b + 6]! ^ q6!) + popcount32(data[b + 7]! ^ q7!)
    if (d <= THRESHOLD) out.push({ entryId: i, distance: d })
  }
  return out.sort((a, b) => a.distance - b.distance || a.entryId - b.entryId)
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!
}

function mb(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(0)} MB`
}

async function main(): Promise<void> {
  const n = option('n', 1_000_000)
  const queryCount = option('queries', 10_000)
  const recallSample = Math.min(queryCount, option('recall-sample', n > 2_000_000 ? 200 : 1000))
  const clusterFraction = option('cluster-fraction', 0.1)
  console.log(`PdqIndex benchmark: n=${n}, queries=${queryCount}, t=${THRESHOLD}, clusters=${clusterFraction * 100}%`)
  const heapFlag = process.execArgv.find((a) => a.startsWith('--max-old-space-size')) ?? process.env.NODE_OPTIONS ?? ''
  console.log(`node ${process.version}, flags: ${heapFlag === '' ? '(none; index data lives in typed arrays outside the JS heap)' : heapFlag}`)

  let started = performance.now()
  let data: Uint32Array | null = generateHashes(n, clusterFraction)
  const queries = new Uint32Array(queryCount * WORDS)
  randomFillSync(queries)
  for (let q = 0; q < queryCount; q += 2) {
    const source = randomInt(n)
    queries.set(data.subarray(source * WORDS, source * WORDS + WORDS), q * WORDS)
    flipRandomBits(queries, q * WORDS, randomInt(THRESHOLD + 1))
  }
  const ids = new Uint32Array(n).map((_, i) => i)
  console.log(`generated data in ${((performance.now() - started) / 1000).toFixed(1)} s`)

  gc()
  const rssBefore = process.memoryUsage().rss
  const index = new PdqIndex()
  started = performance.now()
  const buildCpu = process.cpuUsage()
  index.addMany({ ids, hashes: data })
  const buildMs = performance.now() - started
  const buildCpuUsage = process.cpuUsage(buildCpu)
  console.log(
    `build: ${(buildMs / 1000).toFixed(2)} s wall, ${((buildCpuUsage.user + buildCpuUsage.system) / 1e6).toFixed(2)} s CPU ` +
      `(${((buildMs * 1e6) / n).toFixed(0)} ns/hash wall)`,
  )

  const queryHashes = Array.from({ length: queryCount }, (_, q) => wordsToHash(queries, q * WORDS))
  const out: Array<{ entryId: number; distance: number }> = []
  for (let q = 0; q < Math.min(1000, queryCount); q++) index.search(queryHashes[q]!, THRESHOLD, out) // warm-up
  const latencies = new Float64Array(queryCount)
  let matches = 0
  const usageBefore = process.resourceUsage()
  const runStarted = performance.now()
  for (let q = 0; q < queryCount; q++) {
    const t0 = performance.now()
    index.search(queryHashes[q]!, THRESHOLD, out)
    latencies[q] = performance.now() - t0
    matches += out.length
  }
  const runMs = performance.now() - runStarted
  const usage = process.resourceUsage()
  const cpuMs = (usage.userCPUTime + usage.systemCPUTime - usageBefore.userCPUTime - usageBefore.systemCPUTime) / 1000
  const slow = latencies.filter((ms) => ms > 5).length
  // Split by kind: even queries are planted near a stored hash, odd ones are fresh random hashes.
  console.log(
    `  query loop: ${(runMs / 1000).toFixed(2)} s wall, ${(cpuMs / 1000).toFixed(2)} s CPU (${(cpuMs * 1000 / queryCount).toFixed(1)} µs CPU/query), ` +
      `${usage.minorPageFault - usageBefore.minorPageFault} minor + ${usage.majorPageFault - usageBefore.majorPageFault} major page faults, ` +
      `${usage.involuntaryContextSwitches - usageBefore.involuntaryContextSwitches} involuntary context switches, ${slow} queries > 5 ms`,
  )
  const planted = Float64Array.from(latencies.filter((_, q) => q % 2 === 0)).sort()
  const random = Float64Array.from(latencies.filter((_, q) => q % 2 === 1)).sort()
  const mean = latencies.reduce((a, b) => a + b, 0) / queryCount
  latencies.sort()
  const us = (ms: number): string => `${(ms * 1000).toFixed(1)} µs`
  console.log(
    `query (t=${THRESHOLD}): p50 ${us(percentile(latencies, 0.5))}, p99 ${us(percentile(latencies, 0.99))}, ` +
      `mean ${us(mean)}, max ${us(latencies[queryCount - 1]!)}, ${matches} matches`,
  )
  console.log(
    `  throughput on one core: ${(1000 / mean).toFixed(0)} queries/s (1 / mean latency); ` +
      `${((queryCount / runMs) * 1000).toFixed(0)} queries/s sustained over the whole loop (${(runMs / 1000).toFixed(2)} s)`,
  )
  console.log(
    `  planted queries p50 ${us(percentile(planted, 0.5))} p99 ${us(percentile(planted, 0.99))}; ` +
      `random queries p50 ${us(percentile(random, 0.5))} p99 ${us(percentile(random, 0.99))}`,
  )
  // The machine is shared: time a fixed CPU-only loop the same way to see how much of the tail is
  // scheduling noise rather than the index (GC is visible separately with --trace-gc).
  const jitter = new Float64Array(Math.min(queryCount, 5000))
  let spin = 1
  for (let j = 0; j < jitter.length; j++) {
    const t0 = performance.now()
    for (let k = 0; k < 20_000; k++) spin = (Math.imul(spin, 0x9e3779b1) + k) | 0
    jitter[j] = performance.now() - t0
  }
  jitter.sort()
  console.log(
    `  jitter reference (fixed CPU loop, same timing): p50 ${us(percentile(jitter, 0.5))}, p99 ${us(percentile(jitter, 0.99))}, ` +
      `max ${us(jitter[jitter.length - 1]!)}, p99/p50 ${(percentile(jitter, 0.99) / percentile(jitter, 0.5)).toFixed(2)}${spin === 0 ? '' : ''}`,
  )

  started = performance.now()
  let missing = 0
  let extra = 0
  let expectedTotal = 0
  for (let q = 0; q < recallSample; q++) {
    const expected = bruteForce(data, n, queries.subarray(q * WORDS, q * WORDS + WORDS))
    const found = index.search(queryHashes[q]!, THRESHOLD)
    expectedTotal += expected.length
    const key = (m: { entryId: number; distance: number }): string => `${m.entryId}:${m.distance}`
    const foundKeys = new Set(found.map(key))
    const expectedKeys = new Set(expected.map(key))
    for (const m of expected) if (!foundKeys.has(key(m))) missing++
    for (const m of found) if (!expectedKeys.has(key(m))) extra++
  }
  const recall = expectedTotal === 0 ? 1 : (expectedTotal - missing) / expectedTotal
  console.log(
    `recall vs brute force on a sample of ${recallSample} of ${queryCount} queries (first ones, half planted): ${(recall * 100).toFixed(3)} % ` +
      `(${expectedTotal} expected matches, ${missing} missing, ${extra} extra; brute force took ${((performance.now() - started) / 1000).toFixed(1)} s)`,
  )

  data = null
  gc()
  await new Promise((resolve) => setTimeout(resolve, 100))
  gc()
  const rss = process.memoryUsage().rss
  console.log(
    `memory: index.memoryBytes ${mb(index.memoryBytes())} = ${(index.memoryBytes() / n).toFixed(1)} B/hash; ` +
      `process RSS ${mb(rss)} (${mb(rssBefore)} before build, input data freed) = ${(rss / n).toFixed(1)} B/hash`,
  )
  console.log(`transparent huge pages backing memory: ${mb(anonHugePagesBytes())} (GLIBC_TUNABLES=${process.env.GLIBC_TUNABLES ?? ''})`)
  console.log('stats', index.stats())
}

/** AnonHugePages of this process (Linux), to see whether large typed arrays got 2 MB pages. */
function anonHugePagesBytes(): number {
  try {
    const m = /AnonHugePages:\s+(\d+) kB/.exec(readFileSync('/proc/self/smaps_rollup', 'utf8'))
    return m ? Number(m[1]) * 1024 : 0
  } catch {
    return 0
  }
}

await main()

/**
 * Peak memory of a real node under concurrent maximum-size image decodes (issue 12, item 4).
 *
 *   npx tsx scripts/bench-decode-memory.ts [--pixels 100000000] [--limit N] [--requests 16] [--route /v1/hash]
 *                                          [--decodes N] [--queue N]
 *
 * Starts `hashmesh start` as its own process on 127.0.0.1 (a fresh data dir, no roster, so no p2p), with
 * hash.maxImagePixels = --limit (default: --pixels, so every image is exactly at the limit) and, when given,
 * hash.maxConcurrentDecodes / hash.maxQueuedDecodes. Generates one PNG of exactly --pixels pixels with sharp
 * (flat grey, palette-coded: a few KB on the wire that decode to pixels × 3 bytes, the cheapest way to make
 * a node spend memory), fires --requests copies at once, samples the node's RSS from /proc every 10 ms and
 * prints: baseline and peak RSS (sampled, and the kernel's VmHWM), wall time, status codes, per-request
 * latency, and the Retry-After of any 503.
 */
import '../src/shim.js'
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { availableParallelism } from 'node:os'
import sharp from 'sharp'
import { FILES, initDataDir } from '../src/node/identity.js'
import { tempDir } from '../test/helpers/tmp.js'

const CLI = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url))
/** Short enough to catch a decode's peak (a 100 MP decode lasts about a second), cheap enough not to skew it. */
const SAMPLE_EVERY_MS = 10
/** Images are this wide; the height makes up the pixel count (so 100 M pixels is 10000 × 10000). */
const IMAGE_WIDTH = 10_000
const NODE_START_TIMEOUT_MS = 60_000

function option(name: string, fallback: number): number
function option(name: string, fallback: string): string
function option(name: string, fallback: number | string): number | string {
  const i = process.argv.indexOf(`--${name}`)
  if (i < 0) return fallback
  return typeof fallback === 'number' ? Number(process.argv[i + 1]) : process.argv[i + 1]!
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(0)} MiB`
}

/** VmRSS and VmHWM (peak RSS) of a process, in bytes; undefined once it has gone. */
function procMemory(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') }
  } catch {
    return undefined
  }
}

async function maximumSizePng(pixels: number): Promise<Buffer> {
  const height = Math.floor(pixels / IMAGE_WIDTH)
  if (height * IMAGE_WIDTH !== pixels) throw new Error(`--pixels must be a multiple of ${IMAGE_WIDTH}`)
  return sharp({ create: { width: IMAGE_WIDTH, height, channels: 3, background: { r: 128, g: 128, b: 128 } }, limitInputPixels: false })
    .png({ palette: true, colours: 2, compressionLevel: 9 })
    .toBuffer()
}

async function startNode(env: NodeJS.ProcessEnv): Promise<{ pid: number; apiUrl: string; token: string; stop(): Promise<void> }> {
  const dir = tempDir('hashmesh-bench-decode-')
  await initDataDir(dir.path, { name: 'bench-member' })
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'start', '--data', dir.path, '--api-port', '0', '--log-level', 'warn'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  })
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM')
      await new Promise((resolve) => child.once('exit', resolve))
    }
    dir.cleanup()
  }
  const apiUrl = await new Promise<string>((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error('node did not start')), NODE_START_TIMEOUT_MS)
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const line = out.split('\n').find((l) => l.includes('"apiUrl"'))
      if (line) {
        clearTimeout(timer)
        resolve((JSON.parse(line) as { apiUrl: string }).apiUrl)
      }
    })
    child.once('exit', (code) => reject(new Error(`node exited with ${code} before it started`)))
  }).catch(async (err: Error) => {
    await stop()
    throw err
  })
  return { pid: child.pid!, apiUrl, token: readFileSync(join(dir.path, FILES.apiToken), 'utf8').trim(), stop }
}

interface Outcome { status: number; ms: number; code?: string; retryAfter?: string }

async function post(url: string, token: string, body: Buffer): Promise<Outcome> {
  const started = performance.now()
  try {
    const res = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'image/png' }, body: new Uint8Array(body) })
    const json = (await res.json()) as { error?: { code?: string } }
    return { status: res.status, ms: performance.now() - started, code: json.error?.code, retryAfter: res.headers.get('retry-after') ?? undefined }
  } catch (err) {
    return { status: 0, ms: performance.now() - started, code: (err as Error).message }
  }
}

async function main(): Promise<void> {
  const pixels = option('pixels', 100_000_000)
  const limit = option('limit', pixels)
  const requests = option('requests', 16)
  const route = option('route', '/v1/hash')
  const decodes = option('decodes', 0)
  const queue = option('queue', -1)
  const env: NodeJS.ProcessEnv = { HASHMESH_HASH_MAXIMAGEPIXELS: String(limit) }
  if (decodes > 0) env.HASHMESH_HASH_MAXCONCURRENTDECODES = String(decodes)
  if (queue >= 0) env.HASHMESH_HASH_MAXQUEUEDDECODES = String(queue)

  const t0 = performance.now()
  const png = await maximumSizePng(pixels)
  console.log(`bench-decode-memory: ${requests} concurrent POST ${route} of a ${png.length.toLocaleString('en')}-byte PNG of ${pixels.toLocaleString('en')} pixels ` +
    `(${IMAGE_WIDTH}x${pixels / IMAGE_WIDTH}, made in ${((performance.now() - t0) / 1000).toFixed(1)} s); node limit ${limit.toLocaleString('en')} pixels` +
    `${decodes > 0 ? `, ${decodes} concurrent decodes` : ''}${queue >= 0 ? `, queue ${queue}` : ''} (node ${process.version}, ${availableParallelism()} cores)`)

  const node = await startNode(env)
  try {
    // One small request first, so lazy loading (sharp, routes, JIT) is in the baseline and not in the peak.
    const warm = await post(node.apiUrl + route, node.token, await sharp({ create: { width: 64, height: 64, channels: 3, background: '#888' } }).png().toBuffer())
    if (warm.status !== 200) throw new Error(`warm-up request failed: ${warm.status} ${warm.code}`)
    const baseline = procMemory(node.pid)!
    let peak = baseline.rss
    const sampler = setInterval(() => {
      const now = procMemory(node.pid)
      if (now && now.rss > peak) peak = now.rss
    }, SAMPLE_EVERY_MS)
    const started = performance.now()
    const outcomes = await Promise.all(Array.from({ length: requests }, () => post(node.apiUrl + route, node.token, png)))
    const wall = performance.now() - started
    clearInterval(sampler)
    const after = procMemory(node.pid)!

    const byStatus: Record<string, number> = {}
    for (const o of outcomes) byStatus[`${o.status}${o.code ? ` ${o.code}` : ''}`] = (byStatus[`${o.status}${o.code ? ` ${o.code}` : ''}`] ?? 0) + 1
    const ms = outcomes.map((o) => o.ms).sort((a, b) => a - b)
    const retryAfter = [...new Set(outcomes.map((o) => o.retryAfter).filter(Boolean))]
    console.log(`  RSS: baseline ${mib(baseline.rss)}, peak ${mib(peak)} sampled every ${SAMPLE_EVERY_MS} ms, peak ${mib(after.hwm)} by the kernel (VmHWM), after ${mib(after.rss)}`)
    console.log(`  wall time ${(wall / 1000).toFixed(2)} s; latency ms: min ${ms[0]!.toFixed(0)}, median ${ms[Math.floor(ms.length / 2)]!.toFixed(0)}, max ${ms.at(-1)!.toFixed(0)}`)
    console.log(`  status codes: ${Object.entries(byStatus).map(([k, n]) => `${k} x${n}`).join(', ')}${retryAfter.length ? `; Retry-After: ${retryAfter.join(', ')} s` : ''}`)
    console.log(`RESULT ${JSON.stringify({ pixels, limit, requests, decodes: decodes || undefined, baselineMiB: Math.round(baseline.rss / 2 ** 20), peakMiB: Math.round(Math.max(peak, after.hwm) / 2 ** 20), wallSeconds: Number((wall / 1000).toFixed(2)), statuses: byStatus })}`)
  } finally {
    await node.stop()
  }
}

await main()

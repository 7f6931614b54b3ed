/**
 * Where a start-up blocks the event loop (issue 14: /status ≤ 10 ms while the index is rebuilt): fills N
 * PDQ signals in the own feed and N in banks, reopens with the API listening, and records a CPU profile of
 * node.start() and the banks' load at a 250 µs sampling interval, while a 1 ms timer notes every gap of ≥ 8 ms
 * between its ticks (the event loop did not turn: what /status would have waited for). Prints each gap with
 * the functions the profile sampled in it.
 *
 *   npx tsx scripts/profile-rebuild.ts [--n 300000]
 */
import '../src/shim.js'
import { Session } from 'node:inspector/promises'
import { randomBytes } from 'node:crypto'
import { initDataDir } from '../src/node/identity.js'
import { HashmeshNode } from '../src/node/node.js'
import { NodeService } from '../src/node/service.js'
import { fillOwnFeed } from './lib/bench-fill.js'
import { tempDir } from '../test/helpers/tmp.js'

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; parent?: number; children?: number[] }
const n = Number(process.argv[process.argv.indexOf('--n') + 1] || 300_000)
const dir = tempDir('hashmesh-profile-rebuild-')
try {
  await initDataDir(dir.path, { name: 'profile-member' })
  await fillOwnFeed(dir.path, Math.ceil(n / 1000), 1000)
  let node = await HashmeshNode.open(dir.path)
  let service = new NodeService(node)
  const store = await service.banksService.loaded
  for (let b = 0; b < 10; b++) {
    await service.banks.create({ name: `BANK_${b}` })
    for (let done = 0; done < n / 10; done += 5000) {
      const pool = randomBytes(32 * 5000)
      await store.addContents(`BANK_${b}`, Array.from({ length: 5000 }, (_, i) => ({ signals: { pdq: pool.toString('hex', 32 * i, 32 * i + 32) } })))
    }
  }
  await node.close()

  node = await HashmeshNode.open(dir.path)
  service = new NodeService(node)
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.setSamplingInterval', { interval: 250 })
  await session.post('Profiler.start')
  const gaps: Array<[bigint, bigint]> = []
  let last = process.hrtime.bigint()
  const ticker = setInterval(() => {
    const now = process.hrtime.bigint()
    if (now - last >= 8_000_000n) gaps.push([last / 1000n, now / 1000n])
    last = now
  }, 1)
  const t0 = performance.now()
  await Promise.all([node.start(), service.banksService.loaded])
  const ms = performance.now() - t0
  clearInterval(ticker)
  const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number } }
  await node.close()
  const byId = new Map(profile.nodes.map((p) => [p.id, p]))
  for (const p of profile.nodes) for (const c of p.children ?? []) byId.get(c)!.parent = p.id
  const name = (p: ProfileNode) => `${p.callFrame.functionName || '(anonymous)'} ${p.callFrame.url.split('/').slice(-2).join('/')}:${p.callFrame.lineNumber + 1}`
  const stack = (id: number): string[] => {
    const out: string[] = []
    for (let p: ProfileNode | undefined = byId.get(id); p; p = p.parent === undefined ? undefined : byId.get(p.parent)) out.push(name(p))
    return out
  }
  const times: number[] = []
  let t = profile.startTime
  for (const dt of profile.timeDeltas) times.push((t += dt))
  for (const [from, to] of gaps) {
    const leafs = new Map<string, number>()
    const frames = new Map<string, number>()
    for (let i = 0; i < times.length; i++) {
      if (times[i]! < Number(from) || times[i]! > Number(to)) continue
      const id = profile.samples[i]!
      leafs.set(name(byId.get(id)!), (leafs.get(name(byId.get(id)!)) ?? 0) + 1)
      for (const f of new Set(stack(id).slice(0, 14))) frames.set(f, (frames.get(f) ?? 0) + 1)
    }
    const top = (m: Map<string, number>, k: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, k).map(([f, c]) => `${f} ×${c}`).join(' | ')
    console.log(`${(Number(to - from) / 1000).toFixed(1)} ms gap; leaves: ${top(leafs, 5)}\n    in: ${top(frames, 8)}`)
  }
  console.log(`start + banks load: ${(ms / 1000).toFixed(1)} s, ${profile.samples.length} samples`)
} finally {
  dir.cleanup()
}

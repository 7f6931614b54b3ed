/**
 * Where the event loop stops: a CPU profile at a 250 µs sampling interval while a 1 ms timer notes every
 * gap of at least `minMs` between its ticks (what a request would have waited for). stop() prints each gap
 * with the functions the profile sampled in it, its time from start(), and (on Linux) how much of it the
 * main thread ran and how much it waited for a CPU (thread-times.ts says which threads took the CPUs).
 * Used by profile-rebuild.ts and bench-hma.ts --gaps (issue 14: /status within 10 ms while the index is
 * rebuilt).
 */
import { Session } from 'node:inspector/promises'
import { schedstatOf } from './thread-times.mjs'

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; parent?: number; children?: number[] }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number }

export interface GapProfile {
  /** Stops profiling; prints the gaps; returns how many samples the profile took. */
  stop(): Promise<number>
}

interface Gap { from: bigint; to: bigint; runMs?: number; waitMs?: number }

/**
 * `profile: false` notes the gaps and the main thread's run and wait in them without the CPU profile (whose
 * sampling thread and signals stop the main thread themselves): no functions are named then.
 */
export async function startGapProfile(minMs = 8, { profile: profiling = true } = {}): Promise<GapProfile> {
  const session = profiling ? new Session() : undefined
  if (session) {
    session.connect()
    await session.post('Profiler.enable')
    await session.post('Profiler.setSamplingInterval', { interval: 250 })
    await session.post('Profiler.start')
  }
  const gaps: Gap[] = []
  const origin = process.hrtime.bigint()
  let last = origin
  // (the main thread's time on a CPU and waiting for one: a gap it spent waiting was the machine's other threads)
  let lastSched = schedstatOf('/proc/thread-self')
  const minNs = BigInt(Math.round(minMs * 1e6))
  const ticker = setInterval(() => {
    const now = process.hrtime.bigint()
    const sched = schedstatOf('/proc/thread-self')
    if (now - last >= minNs) gaps.push({ from: last, to: now, ...(sched && lastSched ? { runMs: sched.runMs - lastSched.runMs, waitMs: sched.waitMs - lastSched.waitMs } : {}) })
    last = now
    lastSched = sched
  }, 1)
  return {
    async stop() {
      clearInterval(ticker)
      if (!session) {
        printGaps({ nodes: [], samples: [], timeDeltas: [], startTime: 0 }, gaps, origin)
        return 0
      }
      const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: Profile }
      session.disconnect()
      printGaps(profile, gaps, origin)
      return profile.samples.length
    },
  }
}

function printGaps(profile: Profile, gaps: Gap[], origin: bigint): void {
  const byId = new Map(profile.nodes.map((p) => [p.id, p]))
  for (const p of profile.nodes) for (const c of p.children ?? []) byId.get(c)!.parent = p.id
  const name = (p: ProfileNode): string => `${p.callFrame.functionName || '(anonymous)'} ${p.callFrame.url.split('/').slice(-2).join('/')}:${p.callFrame.lineNumber + 1}`
  const stack = (id: number): string[] => {
    const out: string[] = []
    for (let p: ProfileNode | undefined = byId.get(id); p; p = p.parent === undefined ? undefined : byId.get(p.parent)) out.push(name(p))
    return out
  }
  // (the profile's times are µs on the same clock as hrtime)
  const times: number[] = []
  let t = profile.startTime
  for (const dt of profile.timeDeltas) times.push((t += dt))
  for (const { from, to, runMs, waitMs } of gaps) {
    const leaves = new Map<string, number>()
    const frames = new Map<string, number>()
    for (let i = 0; i < times.length; i++) {
      if (times[i]! < Number(from / 1000n) || times[i]! > Number(to / 1000n)) continue
      const id = profile.samples[i]!
      const leaf = name(byId.get(id)!)
      leaves.set(leaf, (leaves.get(leaf) ?? 0) + 1)
      for (const f of new Set(stack(id).slice(0, 14))) frames.set(f, (frames.get(f) ?? 0) + 1)
    }
    const top = (m: Map<string, number>, k: number): string => [...m].sort((a, b) => b[1] - a[1]).slice(0, k).map(([f, c]) => `${f} ×${c}`).join(' | ')
    const at = (Number(from - origin) / 1e9).toFixed(2)
    const sched = runMs === undefined ? '' : ` (on a CPU ${runMs.toFixed(1)} ms, waiting for one ${waitMs!.toFixed(1)} ms)`
    console.log(`${(Number(to - from) / 1e6).toFixed(1)} ms gap at +${at} s${sched}; leaves: ${top(leaves, 5)}\n    in: ${top(frames, 8)}`)
  }
}

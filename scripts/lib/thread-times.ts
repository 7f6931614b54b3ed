/**
 * Which threads took the CPUs over a span (Linux: /proc/<pid>/task/<tid>/schedstat): each thread's time on
 * a CPU, its time waiting for one, and how often it ran, for this process and `otherPids` (bench-hma.ts: the
 * /status poller). Sampled every 100 ms, so a thread that ends in the span counts up to its last sample.
 * Threads are named by pid and tid: Node's threads all call themselves "node"; the main thread's tid is the pid.
 */
import { readdirSync, readFileSync } from 'node:fs'

export interface ThreadTimes {
  /** Stops sampling and prints the threads that ran, most CPU first; returns the CPU time of all (ms). */
  stop(): number
}

/** One thread's name and schedstat (ns on a CPU, ns waiting for one, times scheduled). */
interface Thread { name: string; run: number; wait: number; slices: number }

/** Every thread of `pids` now, by "pid/tid" (threads that ended are missing; an unreadable pid gives none). */
function threadTimes(pids: number[]): Map<string, Thread> {
  const out = new Map<string, Thread>()
  for (const pid of pids) {
    let tids: string[]
    try {
      tids = readdirSync(`/proc/${pid}/task`)
    } catch {
      continue
    }
    for (const tid of tids) {
      try {
        const [run, wait, slices] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ').map(Number)
        const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim()
        const who = tid === String(pid) ? `main thread` : `thread ${tid}`
        out.set(`${pid}/${tid}`, { name: `${pid === process.pid ? 'this process' : `pid ${pid}`} ${who} ${name}`, run: run!, wait: wait!, slices: slices! })
      } catch {
        // (the thread ended between the listing and the read)
      }
    }
  }
  return out
}

/** Each thread's CPU time from `first` to its latest sample in `seen`, most first; returns the total (ms). */
function printThreadTimes(first: Map<string, Thread>, seen: Map<string, Thread>, spanMs: number): number {
  const rows = [...seen].map(([key, last]) => {
    const start = first.get(key) ?? { run: 0, wait: 0, slices: 0 }
    return { name: last.name, run: last.run - start.run, wait: last.wait - start.wait, slices: last.slices - start.slices }
  })
  rows.sort((a, b) => b.run - a.run)
  const total = rows.reduce((sum, t) => sum + t.run, 0) / 1e6
  console.log(`threads over ${(spanMs / 1000).toFixed(1)} s: ${(total / 1000).toFixed(1)} s on a CPU in all; those over 50 ms:`)
  for (const t of rows.filter((t) => t.run >= 50e6)) {
    console.log(`  ${t.name.padEnd(34)} on a CPU ${(t.run / 1e6).toFixed(0).padStart(6)} ms, waiting for one ${(t.wait / 1e6).toFixed(0).padStart(5)} ms, ${t.slices} runs`)
  }
  return total
}

export function startThreadTimes(otherPids: number[] = []): ThreadTimes {
  const pids = [process.pid, ...otherPids]
  const origin = performance.now()
  const first = threadTimes(pids)
  const seen = new Map(first)
  const sample = (): void => {
    for (const [key, times] of threadTimes(pids)) seen.set(key, times)
  }
  const sampler = setInterval(sample, 100)
  return {
    stop() {
      clearInterval(sampler)
      sample()
      return printThreadTimes(first, seen, performance.now() - origin)
    },
  }
}

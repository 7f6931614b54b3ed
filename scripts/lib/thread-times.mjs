/**
 * Which threads took the CPUs over a span (Linux: /proc/<pid>/task/<tid>/schedstat): each thread's time on a
 * CPU, its time waiting for one, and how often it ran. bench-hma.ts's /status poller (status-poller.mjs)
 * samples the server's threads and its own, so the server does no sampling of its own. Sampled every 100 ms:
 * a thread that ends in the span counts up to its last sample. Node's threads all call themselves "node", so
 * they are named by pid and tid (a main thread's tid is its pid). Plain JavaScript: see status-poller.mjs.
 */
import { readdirSync, readFileSync } from 'node:fs'

/**
 * A thread's schedstat (`path` of its /proc directory, such as '/proc/thread-self' or '/proc/<pid>/task/<tid>'):
 * ms on a CPU, ms waiting for one, and how often it was put on one; undefined when it cannot be read (not
 * Linux, or the thread has ended). On a VM with paravirtual steal accounting, a stop of the vCPU by its host
 * counts as neither, and the thread is not taken off its CPU for it.
 */
export function schedstatOf(path) {
  try {
    const [run, wait, slices] = readFileSync(`${path}/schedstat`, 'utf8').split(' ').map(Number)
    return { runMs: run / 1e6, waitMs: wait / 1e6, slices }
  } catch {
    return undefined
  }
}

/**
 * The host's steal time so far, all vCPUs together, in ms (the 'cpu' line of /proc/stat, counted in 10 ms
 * ticks): how long the VM's host kept its vCPUs from running. Undefined when it cannot be read (not Linux).
 */
export function hostStealMs() {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').slice(0, 200).split('\n')[0].trim().split(/\s+/)
    return cpu[0] === 'cpu' && cpu[8] !== undefined ? Number(cpu[8]) * 10 : undefined
  } catch {
    return undefined
  }
}

/** Every thread of `pids` now, by "pid/tid" (threads that ended are missing; an unreadable pid gives none). */
function threadsNow(pids, names) {
  const out = new Map()
  for (const pid of pids) {
    let tids
    try {
      tids = readdirSync(`/proc/${pid}/task`)
    } catch {
      continue
    }
    for (const tid of tids) {
      try {
        const times = schedstatOf(`/proc/${pid}/task/${tid}`)
        if (!times) continue // (the thread ended between the listing and the read)
        const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim()
        out.set(`${pid}/${tid}`, { name: `${names[pid] ?? `pid ${pid}`} ${tid === String(pid) ? 'main thread' : `thread ${tid}`} ${comm}`, ...times })
      } catch {
        // (the thread ended between the listing and the read)
      }
    }
  }
  return out
}

/** Starts sampling the threads of `names`' pids (a name for each pid); stop() gives each thread's times over the span. */
export function startThreadTimes(names) {
  const pids = Object.keys(names).map(Number)
  const origin = performance.now()
  const first = threadsNow(pids, names)
  const seen = new Map(first)
  const sample = () => {
    for (const [key, times] of threadsNow(pids, names)) seen.set(key, times)
  }
  const sampler = setInterval(sample, 100)
  return {
    stop() {
      clearInterval(sampler)
      sample()
      const threads = [...seen].map(([key, last]) => {
        const start = first.get(key) ?? { runMs: 0, waitMs: 0, slices: 0 }
        return { name: last.name, runMs: last.runMs - start.runMs, waitMs: last.waitMs - start.waitMs, runs: last.slices - start.slices }
      })
      threads.sort((a, b) => b.runMs - a.runMs)
      return { spanMs: performance.now() - origin, threads }
    },
  }
}

/** The lines that print a span's thread times: the total, then each thread on a CPU for `minMs` or more. */
export function threadTimesLines({ spanMs, threads }, minMs = 50) {
  const total = threads.reduce((sum, t) => sum + t.runMs, 0)
  return [
    `threads over ${(spanMs / 1000).toFixed(1)} s: ${(total / 1000).toFixed(1)} s on a CPU in all; those over ${minMs} ms:`,
    ...threads.filter((t) => t.runMs >= minMs).map((t) => `  ${t.name.padEnd(36)} on a CPU ${t.runMs.toFixed(0).padStart(6)} ms, waiting for one ${t.waitMs.toFixed(0).padStart(5)} ms, ${t.runs} runs`),
  ]
}

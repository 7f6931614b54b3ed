/**
 * A background thread's CPU priority below the main thread's, on Linux, where each thread has its own: the
 * PDQ index build (match/pdq-build-child.ts) runs in a process of its own while the main thread answers
 * `/status`, and on a machine with few cores the build would otherwise take the core the main thread needs.
 * That process lowers all its threads (lowerThisProcessesPriority); a worker thread may lower itself alone.
 *
 * Two steps, the second where it can be had:
 * - nice 15 (node's os.setPriority on the thread's id): the build gets ~3 % of a core that a thread of the
 *   normal priority also wants. The scheduler still lets it finish a slice before a waking thread of the
 *   normal priority runs: the main thread, woken by a request, waited for a CPU 6-9 ms at a time (bench-hma).
 * - SCHED_IDLE (util-linux's `chrt --idle`, which any user may ask for its own threads): Linux then stops
 *   the build the moment a thread of any other policy wakes on its core. Node has no binding for
 *   sched_setscheduler, hence the small child process (chrt), run once, from the thread or process to lower. Its
 *   fork copies the process's page tables (the kernel holds the process's memory map meanwhile, and the
 *   other threads' page faults may wait): the spawn took 3-4 ms in a process of 50 MB, 44-48 ms at 850 MB.
 *   So the build process lowers itself as it starts, while it is small. Without chrt (or
 *   with a kernel that refuses) nice 15 stays.
 * Elsewhere (no /proc/thread-self) the priority is per process, and the thread keeps the normal one.
 */
import { spawnSync } from 'node:child_process'
import { readdirSync, readlinkSync } from 'node:fs'
import { getPriority, setPriority } from 'node:os'

/**
 * The priority asked for (config `match.indexBuildPriority`): `idle` both steps, `low` nice 15 only, `normal`
 * neither. Under `idle` the thread gets only CPU time that no other thread of its scheduling group (session,
 * cgroup) wants: where other programs of that group keep the cores busy, it may wait minutes (bench-hma with
 * two busy loops in its session: no end in 5 minutes, against 226 s at nice 15 and 10 s on an idle machine).
 */
export const THREAD_PRIORITIES = ['idle', 'low', 'normal'] as const
export type ThreadPriority = (typeof THREAD_PRIORITIES)[number]

/** What lowerThisThreadsPriority() could set: SCHED_IDLE, nice only, or nothing (`normal`, or not Linux). */
export type BackgroundPriority = 'idle' | 'nice' | 'unchanged'

/** The nice value a background thread gets (also under SCHED_IDLE, where Linux ignores it). */
export const BACKGROUND_NICE = 15

/** chrt gets this long; a machine that cannot start a process in 2 s is no place to wait for one. */
const CHRT_TIMEOUT_MS = 2000

/** This thread's id (Linux), undefined elsewhere. */
export function thisThreadsId(): number | undefined {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop())
    return Number.isInteger(tid) && tid > 0 ? tid : undefined
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

/** Lowers the calling thread's priority to `priority` (see above) and says how far it got. */
export function lowerThisThreadsPriority(priority: ThreadPriority, chrt = 'chrt'): BackgroundPriority {
  const tid = priority === 'normal' ? undefined : thisThreadsId()
  if (priority === 'normal' || tid === undefined) return 'unchanged'
  return lowerThreads(priority, [tid], ['--pid', '0', String(tid)], chrt)
}

/**
 * Lowers every thread of this process (V8's and libuv's, which exist before any JavaScript runs; threads
 * started later inherit their creator's priority) to `priority`, and says how far it got: the PDQ build
 * process (match/pdq-build-child.ts) runs wholly in the background, its collector's and compiler's threads too.
 */
export function lowerThisProcessesPriority(priority: ThreadPriority, chrt = 'chrt'): BackgroundPriority {
  if (priority === 'normal' || thisThreadsId() === undefined) return 'unchanged'
  const tids = readdirSync('/proc/self/task').map(Number)
  return lowerThreads(priority, tids, ['--all-tasks', '--pid', '0', String(process.pid)], chrt)
}

function lowerThreads(priority: Exclude<ThreadPriority, 'normal'>, tids: readonly number[], chrtTarget: readonly string[], chrt: string): BackgroundPriority {
  // (a process started at a higher nice value keeps it: lowering it back needs privileges)
  for (const tid of tids) {
    try {
      if (getPriority(tid) < BACKGROUND_NICE) setPriority(tid, BACKGROUND_NICE)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err // (a thread that ended meanwhile)
    }
  }
  if (priority === 'low') return 'nice'
  const set = spawnSync(chrt, ['--idle', ...chrtTarget], { stdio: 'ignore', timeout: CHRT_TIMEOUT_MS })
  return set.status === 0 ? 'idle' : 'nice'
}

/**
 * Worker thread body for pdq-worker-build.ts: takes a lent PdqCatalog (its typed arrays, transferred) and
 * a build job, runs the same build steps as the main thread would (in one go: nothing else runs here), and
 * transfers the built catalog back. Everything the build allocates and throws away (the tables and
 * storage it outgrows, the radix sort's arrays, the old segment tables) is this thread's garbage, not the
 * main thread's: the main isolate only adopts the finished arrays.
 */
import { readlinkSync } from 'node:fs'
import { setPriority } from 'node:os'
import { parentPort } from 'node:worker_threads'
import { PdqCatalog, catalogBuffers, type CatalogBuildJob, type PdqCatalogState } from './pdq-catalog.js'
import type { BuildReply, BuildTask } from './pdq-worker-build.js'
import { STEP_ELEMENTS, runSteps } from './steps.js'

type PdqBuildReply = BuildReply<PdqCatalogState>

parentPort?.once('message', (task: BuildTask<PdqCatalogState, CatalogBuildJob>) => {
  let reply: PdqBuildReply
  try {
    const catalog = PdqCatalog.fromState(task.state)
    runSteps(catalog.jobSteps(task.job, STEP_ELEMENTS))
    reply = { ok: true, state: catalog.toState() }
  } catch (err) {
    parentPort!.postMessage({ ok: false, message: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies PdqBuildReply)
    return
  }
  parentPort!.postMessage(reply, catalogBuffers(reply.state))
})
/**
 * The build runs at a low CPU priority: on a machine with few cores it would otherwise take the core the
 * main thread needs to answer (measured: gaps of 20-75 ms in which the main thread was ready but not
 * scheduled). Linux gives each thread its own nice value; the thread's id is read from /proc.
 */
const BUILD_NICE = 15

function lowerThisThreadsPriority(): void {
  let tid: number
  try {
    tid = Number(readlinkSync('/proc/thread-self').split('/').pop())
  } catch (err) {
    // (no /proc: not Linux, where the priority is per process; the build runs at the normal one)
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
    throw err
  }
  if (Number.isInteger(tid) && tid > 0) setPriority(tid, BUILD_NICE)
}

lowerThisThreadsPriority()
parentPort?.postMessage({ ready: true } satisfies PdqBuildReply)

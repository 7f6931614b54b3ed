/**
 * Worker thread body for pdq-worker-build.ts: takes a lent PdqCatalog (its typed arrays, transferred) and
 * a build job, runs the same build steps as the main thread would (in one go: nothing else runs here), and
 * hands the built catalog back with its large arrays on shared memory (onSharedMemory). Everything the build allocates and throws away (the tables and
 * storage it outgrows, the radix sort's arrays, the old segment tables) is this thread's garbage, not the
 * main thread's: the main isolate only adopts the finished arrays.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { lowerThisThreadsPriority } from '../thread-priority.js'
import type { CatalogBuildJob, PdqCatalogState } from './pdq-catalog.js'
import type { BuildReply, BuildTask, BuildWorkerData } from './pdq-worker-build.js'

type PdqBuildReply = BuildReply<PdqCatalogState>

/**
 * The state with its large arrays copied into one SharedArrayBuffer, views that shared a buffer still
 * sharing one. Why shared: V8 counts a transferred ArrayBuffer as the receiving isolate's external memory,
 * and adopting ~0.5 GB of them made the main thread stop for a full collection ("external memory
 * pressure", 10-25 ms) while it answered /status; a shared buffer is not counted per isolate. Why one:
 * glibc serves blocks of up to 32 MB from this thread's malloc arena once the build has freed such blocks,
 * and arrays kept there, among the build's freed temporaries, kept the arena from shrinking when the
 * thread ended (RSS after a 2 M-hash start ~550 MiB over the main-thread build's); one block of the total
 * is mapped on its own. The cost: the block lives while any of its arrays does, so an array the main
 * thread later replaces (a grown table) keeps its old place until all of them are replaced. The copy runs
 * here, at this thread's low priority; the originals are this thread's garbage, freed when it ends.
 */
function onSharedMemory<T>(state: T): T {
  const places = new Map<ArrayBufferLike, number>()
  let total = 0
  const isLarge = (value: unknown): value is Uint8Array =>
    ArrayBuffer.isView(value) && value.buffer instanceof ArrayBuffer && value.buffer.byteLength >= SHARE_MIN_BYTES
  const place = (value: unknown): void => {
    if (isLarge(value)) {
      if (!places.has(value.buffer)) {
        places.set(value.buffer, total)
        total += Math.ceil(value.buffer.byteLength / 8) * 8 // (8-byte aligned: any typed array fits)
      }
    } else if (Array.isArray(value)) value.forEach(place)
    else if (isPlainObject(value)) Object.values(value).forEach(place)
  }
  place(state)
  if (total === 0) return state
  const block = new SharedArrayBuffer(total)
  for (const [buffer, at] of places) new Uint8Array(block, at, buffer.byteLength).set(new Uint8Array(buffer))
  const share = (value: unknown): unknown => {
    if (isLarge(value)) {
      const Kind = value.constructor as new (buffer: SharedArrayBuffer, byteOffset: number, length: number) => unknown
      return new Kind(block, places.get(value.buffer)! + value.byteOffset, value.length)
    }
    if (Array.isArray(value)) return value.map(share)
    if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([key, field]) => [key, share(field)]))
    return value // numbers, null, small arrays (transferred), Maps of numbers and small objects (bank refs, frames)
  }
  return share(state) as T
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype
}

/** Arrays smaller than this are transferred as they are (a SharedArrayBuffer costs a page at least). */
const SHARE_MIN_BYTES = 64 * 1024

// The build runs at a background priority (thread-priority.ts; config's `normal` keeps the normal one): at the
// normal one, on a machine with few cores, it took the core the main thread needed to answer (gaps of 20-75 ms in
// which the main thread was ready but not scheduled). It is lowered before the build's modules load: loading and
// compiling them at the normal priority took the main thread's core at the start of the rebuild (event-loop gaps
// of 15-40 ms).
const priority = lowerThisThreadsPriority((workerData as BuildWorkerData).priority)
const { PdqCatalog, catalogBuffers } = await import('./pdq-catalog.js')
const { STEP_ELEMENTS, runSteps } = await import('./steps.js')

/**
 * Elements per step here, where nothing else waits for a turn: 64 times the main thread's. With the main
 * thread's steps the build's generators resumed so often that V8 optimised them early and deoptimised them
 * as they reached code not yet run: 11 TurboFan compiles of `buildSteps`, 578 ms on V8's one background
 * thread (at the normal priority, where the main thread answers /status), against 4 and 91 ms with these.
 * bench-hma, five alternating restarts each way: that thread's CPU 1.40-1.51 s against 1.68-1.79 s, this
 * thread's 8.5-9.3 s against 9.2-9.7 s, rebuilds 10.2-11.2 s against 11.0-11.9 s; the same answers over 10
 * ms (6 in all each way, on the server's side). Still steps, not whole loops: whole loops compiled as much.
 */
const WORKER_STEP_ELEMENTS = STEP_ELEMENTS * 64

parentPort?.on('message', (task: BuildTask<PdqCatalogState, CatalogBuildJob>) => {
  let reply: PdqBuildReply
  try {
    const catalog = PdqCatalog.fromState(task.state)
    runSteps(catalog.jobSteps(task.job, WORKER_STEP_ELEMENTS))
    reply = { ok: true, state: onSharedMemory(catalog.toState()) }
  } catch (err) {
    parentPort!.postMessage({ ok: false, message: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies PdqBuildReply)
    return
  }
  parentPort!.postMessage(reply, catalogBuffers(reply.state))
})
parentPort?.postMessage({ ready: true, priority } satisfies PdqBuildReply)

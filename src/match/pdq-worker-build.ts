/**
 * A start-up build of the PDQ catalog on a worker thread (issue 14: /status within 10 ms while the index
 * is rebuilt). On the main thread the stepped build yielded every 3 ms, but it allocated ~1 GB of typed
 * arrays at a million hashes (exact index and storage outgrown, radix sort arrays, segment tables
 * rebuilt) and V8 stopped the event loop for 24-33 full collections of 3-15 ms on "external memory
 * pressure". Here the catalog is lent to a worker (its arrays transferred: no copy; the packed input is
 * on a SharedArrayBuffer, shared), the worker runs the same build steps and hands the result back on
 * shared memory (pdq-build-worker.ts), and the main thread adopts it: it neither runs the build nor
 * collects its garbage.
 *
 * The catalog refuses every read while it is lent; its callers wait for the build (idle()) anyway. This
 * module knows nothing of the catalog (pdq-catalog.ts calls it; pdq-build-worker.ts is the worker's side).
 */
import type { Worker } from 'node:worker_threads'
import { HashmeshError } from '../errors.js'
import type { BackgroundPriority, ThreadPriority } from '../thread-priority.js'
import { startModuleWorker } from '../worker-module.js'

/** What is built on the worker (the PdqCatalog): handed over as plain data and taken back. */
export interface Lendable<S> {
  lend(): S
  restore(state: S): void
}

/**
 * The messages (pdq-build-worker.ts answers `ready` once it has started, with the priority it could give
 * itself, then the task's result).
 */
export interface BuildTask<S, J> { state: S; job: J }
export type BuildReply<S> = { ready: true; priority: BackgroundPriority } | { ok: true; state: S } | { ok: false; message: string }

/** A started build worker and its first answer (`ready`, asked for as it starts: it may come before a build is given). */
interface StartedWorker {
  thread: Worker
  ready: Promise<BuildReply<unknown>>
  /** False once the thread has exited: a spare that died while idle is not given a build (it would never answer). */
  alive: boolean
}

/** What the worker is started with (its workerData): the CPU priority it gives itself (thread-priority.ts). */
export interface BuildWorkerData {
  priority: ThreadPriority
}

function startBuildWorker(priority: ThreadPriority): StartedWorker {
  const thread = startModuleWorker(import.meta.url, 'pdq-build-worker', { priority } satisfies BuildWorkerData)
  const ready = nextReply<unknown>(thread)
  ready.catch(() => undefined) // (awaited by the build that takes it; a spare may never be used)
  const started: StartedWorker = { thread, ready, alive: true }
  // (listened to for the thread's whole life: an error while idle, with no build listening, would otherwise be
  // an uncaught 'error' event and end the node)
  thread.on('error', () => undefined).once('exit', () => (started.alive = false))
  return started
}

/**
 * One build worker started ahead of the builds that will need it, and kept for all of them: the node
 * holds it from its open to the end of its start (the federation's build), the bank store while it loads.
 * Started during the start-up instead, a worker's thread, isolate and modules took the main thread's core
 * for 15-40 ms while /status waited. It is ended when the last hold is released and no build uses it; it
 * does not keep the process alive while idle.
 */
export class SpareBuildWorker {
  private started: StartedWorker | undefined
  private holds = 0
  private busy = false

  /** `priority`: this worker's, and that of any worker a build starts while this one is busy. */
  constructor(readonly priority: ThreadPriority) {}

  /**
   * Starts the worker unless it runs; call the returned function once the builds it was for are done. It
   * resolves when the worker's thread has ended, if that release ended it (at once otherwise): see
   * HashmeshNode's startParts, which waits for that before it starts the network.
   */
  hold(): () => Promise<void> {
    this.holds++
    if (!this.started) {
      this.started = startBuildWorker(this.priority)
      this.started.thread.unref()
    }
    let released = false
    return () => {
      if (released) return Promise.resolve()
      released = true
      this.holds--
      return this.endIfUnused()
    }
  }

  /**
   * Resolves once the worker (if one was started) has loaded its modules, or failed to, with the priority it
   * could give itself (undefined: none started, or it failed). The thread keeps the process alive meanwhile (an
   * idle spare does not: with nothing else to wait for, the process would end before it is told the worker is
   * ready).
   */
  async settled(): Promise<BackgroundPriority | undefined> {
    const started = this.started
    if (!started) return undefined
    started.thread.ref()
    try {
      const reply = await started.ready.catch(() => undefined)
      return reply && 'ready' in reply ? reply.priority : undefined
    } finally {
      if (!this.busy || this.started !== started) started.thread.unref()
    }
  }

  /** The running worker's thread id (undefined: none runs). */
  get threadId(): number | undefined {
    return this.started?.alive ? this.started.thread.threadId : undefined
  }

  /** The worker, for one build (none while another build has it, or when none was started). */
  take(): StartedWorker | undefined {
    if (this.started && !this.started.alive) this.started = undefined
    if (!this.started || this.busy) return undefined
    this.busy = true
    this.started.thread.ref()
    return this.started
  }

  /** Gives back what take() gave; a worker that failed is ended. */
  giveBack(failed: boolean): void {
    this.busy = false
    if (failed) void this.end()
    else this.started?.thread.unref()
    void this.endIfUnused()
  }

  private endIfUnused(): Promise<void> {
    return this.holds === 0 && !this.busy ? this.end() : Promise.resolve()
  }

  /** Ends the worker; resolves once its thread has ended (its heap freed: see startParts in node.ts). */
  private end(): Promise<void> {
    const started = this.started
    this.started = undefined
    return started ? started.thread.terminate().then(() => undefined, () => undefined) : Promise.resolve()
  }
}

/**
 * Runs `job` on `target` in a worker thread (the spare's when it has one free, else one of its own, ended
 * after); false when no worker could start (nothing was handed over: the caller builds here). Rejects when
 * the worker fails during the build: the target is lost then. `buffers` lists a state's ArrayBuffers,
 * which move without a copy.
 */
export async function buildInWorker<S, J>(target: Lendable<S>, job: J, buffers: (state: S) => ArrayBuffer[], spare: SpareBuildWorker): Promise<boolean> {
  const fromSpare = spare.take()
  const worker = fromSpare ?? startBuildWorker(spare.priority)
  let failed = true
  try {
    try {
      await worker.ready
    } catch (err) {
      process.emitWarning(`the PDQ index build worker did not start, building on the main thread: ${String(err)}`)
      return false
    }
    const state = target.lend()
    worker.thread.postMessage({ state, job } satisfies BuildTask<S, J>, buffers(state))
    const reply = await nextReply<S>(worker.thread).catch((err: unknown) => {
      throw new HashmeshError('INTERNAL', `the PDQ index build worker died: ${String(err)}`, { cause: err })
    })
    if (!('ok' in reply)) throw new HashmeshError('INTERNAL', 'the PDQ index build worker answered out of turn')
    if (!reply.ok) throw new HashmeshError('INTERNAL', `the PDQ index build failed in its worker: ${reply.message}`)
    target.restore(reply.state)
    failed = false
    return true
  } finally {
    if (fromSpare) spare.giveBack(failed)
    else void worker.thread.terminate()
  }
}

/** The worker's next message; rejects when it fails or exits first. */
function nextReply<S>(worker: Worker): Promise<BuildReply<S>> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      worker.off('message', onMessage)
      worker.off('error', onError)
      worker.off('exit', onExit)
    }
    const onMessage = (reply: BuildReply<S>): void => {
      done()
      resolve(reply)
    }
    const onError = (err: Error): void => {
      done()
      reject(err)
    }
    const onExit = (code: number): void => {
      done()
      reject(new Error(`exit code ${code}`))
    }
    worker.on('message', onMessage).on('error', onError).on('exit', onExit)
  })
}

/**
 * A start-up build of the PDQ catalog on a worker thread (issue 14: /status within 10 ms while the index
 * is rebuilt). On the main thread the stepped build yielded every 3 ms, but it allocated ~1 GB of typed
 * arrays at a million hashes (exact index and storage outgrown, radix sort arrays, segment tables
 * rebuilt) and V8 stopped the event loop for 24-33 full collections of 3-15 ms on "external memory
 * pressure". Here the catalog is lent to a worker (its arrays transferred: no copy; the packed input is
 * on a SharedArrayBuffer, shared), the worker runs the same build steps and transfers the result back,
 * and the main thread adopts it: it neither runs the build nor collects its garbage.
 *
 * The catalog refuses every read while it is lent; its callers wait for the build (idle()) anyway. This
 * module knows nothing of the catalog (pdq-catalog.ts calls it; pdq-build-worker.ts is the worker's side).
 */
import type { Worker } from 'node:worker_threads'
import { HashmeshError } from '../errors.js'
import { startModuleWorker } from '../worker-module.js'

/** What is built on the worker (the PdqCatalog): handed over as plain data and taken back. */
export interface Lendable<S> {
  lend(): S
  restore(state: S): void
}

/** The messages (pdq-build-worker.ts answers `ready` once it has started, then the task's result). */
export interface BuildTask<S, J> { state: S; job: J }
export type BuildReply<S> = { ready: true } | { ok: true; state: S } | { ok: false; message: string }

/**
 * Runs `job` on `target` in a worker thread; false when no worker could start (nothing was handed over:
 * the caller builds here). Rejects when the worker fails during the build: the target is lost then.
 * `buffers` lists a state's ArrayBuffers, which move without a copy.
 */
export async function buildInWorker<S, J>(target: Lendable<S>, job: J, buffers: (state: S) => ArrayBuffer[]): Promise<boolean> {
  const worker = startModuleWorker(import.meta.url, 'pdq-build-worker')
  try {
    try {
      await nextReply<S>(worker)
    } catch (err) {
      process.emitWarning(`the PDQ index build worker did not start, building on the main thread: ${String(err)}`)
      return false
    }
    const state = target.lend()
    worker.postMessage({ state, job } satisfies BuildTask<S, J>, buffers(state))
    const reply = await nextReply<S>(worker).catch((err: unknown) => {
      throw new HashmeshError('INTERNAL', `the PDQ index build worker died: ${String(err)}`, { cause: err })
    })
    if (!('ok' in reply)) throw new HashmeshError('INTERNAL', 'the PDQ index build worker answered out of turn')
    if (!reply.ok) throw new HashmeshError('INTERNAL', `the PDQ index build failed in its worker: ${reply.message}`)
    target.restore(reply.state)
    return true
  } finally {
    void worker.terminate()
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

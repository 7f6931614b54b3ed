/**
 * Worker-thread side of the hash pool: reads a file (or takes bytes) and fingerprints it. Failures travel
 * back as { code, message } so the pool can rebuild a HashmeshError; a worker never dies on bad input.
 */
import { parentPort } from 'node:worker_threads'
import { readFile } from 'node:fs/promises'
import { fingerprintImage, type FingerprintOptions, type ImageFingerprint } from './fingerprint.js'
import { setDecoderThreads } from './decode.js'
import { DecodeGate } from './decode-gate.js'
import { isHashmeshError } from '../errors.js'

export interface HashTask {
  id: number
  path?: string
  bytes?: Uint8Array
  options: FingerprintOptions
}

export type HashReply =
  | { id: number; ok: true; fingerprint: ImageFingerprint }
  | { id: number; ok: false; code: string; message: string }

// The pool runs one worker per core, so each decode gets one libvips thread.
setDecoderThreads(1)

/**
 * One decode at a time per worker: the pool keeps two tasks in flight per worker so that the next file is
 * read while this one decodes, not so that two decodes (each up to maxPixels × 3 bytes) overlap.
 */
const DECODES_PER_WORKER = 1
/** The pool bounds what it sends a worker (TASKS_IN_FLIGHT_PER_WORKER), so the queue here needs no bound of its own. */
const decodes = new DecodeGate({ maxActive: DECODES_PER_WORKER, maxQueued: Number.POSITIVE_INFINITY })

parentPort?.on('message', (task: HashTask) => {
  void handle(task).then((reply) => parentPort!.postMessage(reply))
})

async function handle(task: HashTask): Promise<HashReply> {
  try {
    const bytes = task.bytes ?? (await readFile(task.path!))
    return { id: task.id, ok: true, fingerprint: await decodes.run(() => fingerprintImage(bytes, task.options)) }
  } catch (err) {
    if (isHashmeshError(err)) return { id: task.id, ok: false, code: err.code, message: err.message }
    const e = err as NodeJS.ErrnoException
    if (e?.code === 'ENOENT' || e?.code === 'EISDIR' || e?.code === 'EACCES') {
      return { id: task.id, ok: false, code: 'NOT_FOUND', message: `cannot read ${task.path}: ${e.message}` }
    }
    return { id: task.id, ok: false, code: 'INTERNAL', message: e?.stack ?? String(err) }
  }
}

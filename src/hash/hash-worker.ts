/**
 * Worker-thread side of the hash pool: reads a file (or takes bytes) and fingerprints it. Failures travel
 * back as { code, message } so the pool can rebuild a HashmeshError; a worker never dies on bad input.
 */
import { parentPort } from 'node:worker_threads'
import { readFile } from 'node:fs/promises'
import { fingerprintImage, type FingerprintOptions, type ImageFingerprint } from './fingerprint.js'
import { setDecoderThreads } from './decode.js'
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

parentPort?.on('message', (task: HashTask) => {
  void handle(task).then((reply) => parentPort!.postMessage(reply))
})

async function handle(task: HashTask): Promise<HashReply> {
  try {
    const bytes = task.bytes ?? (await readFile(task.path!))
    return { id: task.id, ok: true, fingerprint: await fingerprintImage(bytes, task.options) }
  } catch (err) {
    if (isHashmeshError(err)) return { id: task.id, ok: false, code: err.code, message: err.message }
    const e = err as NodeJS.ErrnoException
    if (e?.code === 'ENOENT' || e?.code === 'EISDIR' || e?.code === 'EACCES') {
      return { id: task.id, ok: false, code: 'NOT_FOUND', message: `cannot read ${task.path}: ${e.message}` }
    }
    return { id: task.id, ok: false, code: 'INTERNAL', message: e?.stack ?? String(err) }
  }
}

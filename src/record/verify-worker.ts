/** Worker thread body for ParallelVerifier: verifies packed batches of ed25519 signatures. */
import { parentPort } from 'node:worker_threads'
import { verifySignature } from './crypto.js'

/** A batch packed into flat buffers (cheap to transfer): message i is messages[offsets[i]..offsets[i+1]). */
export interface VerifyTask { id: number; messages: Uint8Array; offsets: Uint32Array; signatures: Uint8Array; keys: Uint8Array }
export interface VerifyReply { id: number; valid: Uint8Array }
/** Posted once, when the worker's modules are loaded (ParallelVerifier.settled()). */
export interface VerifyWorkerReady { ready: true }

parentPort?.on('message', (task: VerifyTask) => {
  const count = task.offsets.length - 1
  const valid = new Uint8Array(count)
  for (let i = 0; i < count; i++) {
    const message = task.messages.subarray(task.offsets[i]!, task.offsets[i + 1]!)
    valid[i] = verifySignature(message, task.signatures.subarray(i * 64, i * 64 + 64), task.keys.subarray(i * 32, i * 32 + 32)) ? 1 : 0
  }
  parentPort!.postMessage({ id: task.id, valid } satisfies VerifyReply, [valid.buffer as ArrayBuffer])
})
parentPort?.postMessage({ ready: true } satisfies VerifyWorkerReady)

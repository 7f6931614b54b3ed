/**
 * Signature verification off the main thread: ed25519 verify (46 µs of CPU with libsodium) runs on worker threads
 * while the main thread decodes the next chunk and writes to the store. Tiny chunks are verified inline.
 * Workers are unref'd: they never keep a process alive, and close() ends them.
 */
import type { Worker } from 'node:worker_threads'
import { availableParallelism } from 'node:os'
import { verifySignature } from './crypto.js'
import { startModuleWorker } from '../worker-module.js'
import type { VerifyReply, VerifyTask, VerifyWorkerReady } from './verify-worker.js'

export interface SignatureCheck { message: Uint8Array; signature: Uint8Array; key: Uint8Array }

/** Below this many signatures a batch is verified inline: shipping it to a worker costs more. */
const INLINE_BELOW = 16

export class ParallelVerifier {
  private readonly workers: Worker[] = []
  /** Tasks sent and not yet answered, by id; each settles with null if its worker dies first. */
  private readonly pending = new Map<number, { worker: Worker; settle: (valid: Uint8Array | null) => void }>()
  private nextId = 1
  private nextWorker = 0

  /** Each worker's start: resolves when it has loaded its modules, or has ended. */
  private readonly starts: Promise<void>[] = []

  constructor(threads = Math.max(0, availableParallelism() - 1)) {
    for (let i = 0; i < threads; i++) {
      const worker = startModuleWorker(import.meta.url, 'verify-worker')
      worker.unref() // (before the listeners, as always: a 'message' listener refs its port again, so a process awaiting a reply or settled() stays alive)
      let started: () => void = () => undefined
      this.starts.push(new Promise<void>((resolve) => (started = resolve)))
      worker.on('message', (reply: VerifyReply | VerifyWorkerReady) => {
        if ('ready' in reply) return started()
        this.pending.get(reply.id)?.settle(reply.valid)
        this.pending.delete(reply.id)
      })
      // A worker that fails is dropped; its share is verified inline from then on.
      worker.on('error', () => this.drop(worker))
      worker.on('exit', () => {
        started()
        this.drop(worker)
      })
      this.workers.push(worker)
    }
  }

  /** Resolves once every worker has loaded its modules (or ended): from then on a start costs the process no more CPU. */
  async settled(): Promise<void> {
    await Promise.all(this.starts)
  }

  private drop(worker: Worker): void {
    const i = this.workers.indexOf(worker)
    if (i >= 0) this.workers.splice(i, 1)
    for (const [id, task] of this.pending) {
      if (task.worker !== worker) continue
      this.pending.delete(id)
      task.settle(null) // verified inline by the caller
    }
  }

  /** True when worker threads are available, so callers may overlap their own work with verification. */
  get parallel(): boolean {
    return this.workers.length > 0
  }

  /**
   * Verifies a chunk: on a worker when there is one (round-robin), else inline. Callers decode the next
   * chunk while this one is being verified, so decoding and verifying run on different cores.
   */
  async verifyChunk(checks: SignatureCheck[]): Promise<boolean[]> {
    const worker = this.workers[this.nextWorker++ % Math.max(1, this.workers.length)]
    if (!worker || checks.length < INLINE_BELOW) return checks.map(verifyInline)
    const valid = await this.send(worker, checks)
    return checks.map((check, k) => (valid ? valid[k] === 1 : verifyInline(check)))
  }

  private send(worker: Worker, checks: SignatureCheck[]): Promise<Uint8Array | null> {
    if (checks.length === 0) return Promise.resolve(new Uint8Array(0))
    const id = this.nextId++
    return new Promise((resolve) => {
      this.pending.set(id, { worker, settle: resolve })
      const task = packTask(id, checks)
      worker.postMessage(task, [task.messages.buffer, task.offsets.buffer, task.signatures.buffer, task.keys.buffer] as ArrayBuffer[])
    })
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()))
    this.workers.length = 0
  }
}

/** Copies a batch into four flat buffers: views into larger buffers would otherwise be cloned whole. */
function packTask(id: number, checks: SignatureCheck[]): VerifyTask {
  const offsets = new Uint32Array(checks.length + 1)
  checks.forEach((c, i) => (offsets[i + 1] = offsets[i]! + c.message.length))
  const messages = new Uint8Array(offsets[checks.length]!)
  const signatures = new Uint8Array(checks.length * 64)
  const keys = new Uint8Array(checks.length * 32)
  checks.forEach((c, i) => {
    messages.set(c.message, offsets[i]!)
    signatures.set(c.signature.subarray(0, 64), i * 64)
    keys.set(c.key.subarray(0, 32), i * 32)
  })
  return { id, messages, offsets, signatures, keys }
}

function verifyInline(check: SignatureCheck): boolean {
  return verifySignature(check.message, check.signature, check.key)
}

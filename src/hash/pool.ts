/**
 * A pool of worker threads that fingerprint image files on every core (the CLI's `hash` over many files).
 * Workers read files themselves, so file bytes never pass through the main thread.
 *
 * The worker module sits next to this one: hash-worker.js in the compiled dist/, hash-worker.ts when run
 * from source under tsx (workers inherit the parent's execArgv, and with it tsx's --import loader).
 */
import type { Worker } from 'node:worker_threads'
import { startModuleWorker } from '../worker-module.js'
import { availableParallelism } from 'node:os'
import { HashmeshError, ERROR_CODES, type ErrorCode } from '../errors.js'
import type { FingerprintOptions, ImageFingerprint } from './fingerprint.js'
import type { HashReply, HashTask } from './hash-worker.js'

/**
 * Tasks queued per worker, so its next file is being read while the current one decodes. A worker still
 * decodes one image at a time (hash-worker.ts), so the pool holds at most `threads` decoded images.
 */
const TASKS_IN_FLIGHT_PER_WORKER = 2

export interface HashPoolOptions {
  threads?: number
  fingerprint?: FingerprintOptions
}

interface Pending {
  task: HashTask
  resolve: (fp: ImageFingerprint) => void
  reject: (err: HashmeshError) => void
}

interface Slot {
  worker: Worker
  inFlight: Map<number, Pending>
  /** A worker that dies before its first answer cannot start at all; respawning it would loop. */
  answered: boolean
}

export class HashPool {
  private readonly slots: Slot[] = []
  private readonly queue: Pending[] = []
  private readonly options: FingerprintOptions
  private nextId = 1
  private closed = false

  constructor(options: HashPoolOptions = {}) {
    this.options = options.fingerprint ?? {}
    const threads = Math.max(1, options.threads ?? availableParallelism())
    for (let i = 0; i < threads; i++) this.slots.push(this.spawn())
  }

  get threads(): number {
    return this.slots.length
  }

  /** Fingerprints the file at `path`; rejects with a HashmeshError (MEDIA_*, NOT_FOUND, INTERNAL). */
  hashFile(path: string): Promise<ImageFingerprint> {
    return this.submit({ id: this.nextId++, path, options: this.options })
  }

  hashBytes(bytes: Uint8Array): Promise<ImageFingerprint> {
    return this.submit({ id: this.nextId++, bytes, options: this.options })
  }

  async close(): Promise<void> {
    this.closed = true
    await Promise.all(this.slots.map((slot) => slot.worker.terminate()))
  }

  private submit(task: HashTask): Promise<ImageFingerprint> {
    if (this.closed) return Promise.reject(new HashmeshError('INTERNAL', 'hash pool is closed'))
    return new Promise((resolve, reject) => {
      this.queue.push({ task, resolve, reject })
      this.dispatch()
    })
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      while (slot.inFlight.size < TASKS_IN_FLIGHT_PER_WORKER && this.queue.length > 0) {
        const pending = this.queue.shift()!
        slot.inFlight.set(pending.task.id, pending)
        slot.worker.postMessage(pending.task)
      }
    }
  }

  private spawn(): Slot {
    const worker = startModuleWorker(import.meta.url, 'hash-worker')
    const slot: Slot = { worker, inFlight: new Map(), answered: false }
    worker.on('message', (reply: HashReply) => {
      slot.answered = true
      const pending = slot.inFlight.get(reply.id)
      if (!pending) return
      slot.inFlight.delete(reply.id)
      if (reply.ok) pending.resolve(reply.fingerprint)
      else pending.reject(new HashmeshError(asErrorCode(reply.code), reply.message))
      this.dispatch()
    })
    // A crashed worker (a native fault in a decoder, say) fails only its own tasks and is replaced.
    let replaced = false
    const replace = (cause: unknown): void => {
      if (replaced) return
      replaced = true
      for (const pending of slot.inFlight.values()) pending.reject(new HashmeshError('INTERNAL', `hash worker died: ${String(cause)}`, { cause }))
      slot.inFlight.clear()
      if (this.closed) return
      if (!slot.answered) {
        this.closed = true
        for (const pending of this.queue.splice(0)) pending.reject(new HashmeshError('INTERNAL', `hash worker cannot start: ${String(cause)}`, { cause }))
        void this.close()
        return
      }
      const index = this.slots.indexOf(slot)
      if (index >= 0) this.slots[index] = this.spawn()
      this.dispatch()
    }
    worker.on('error', replace)
    worker.on('exit', (code) => {
      if (!this.closed) replace(new Error(`exit code ${code}`))
    })
    return slot
  }
}

function asErrorCode(code: string): ErrorCode {
  return (ERROR_CODES as readonly string[]).includes(code) ? (code as ErrorCode) : 'INTERNAL'
}

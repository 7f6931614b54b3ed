/**
 * A BulkCopier (state-file.ts) on a thread of the build's background priority: it reads the built index
 * back from its file onto shared memory, and writes the lent catalog's shared arrays to the build's input.
 * On the threadpool, at the normal priority, that copying (~1.4 ms of kernel time a MiB: page faults, the
 * copy; 0.4 GB at 2 M hashes) took the cores the main thread and the HTTP clients needed just as the
 * rebuild ended (answers of 12-19 ms, the main thread and the client waiting for a CPU). Under SCHED_IDLE it
 * gets the cores they leave. Buffers that are not shared are written by the threadpool, as before.
 *
 * If the thread cannot start or dies, the threadpool copies instead.
 */
import type { Worker } from 'node:worker_threads'
import type { BackgroundPriority, ThreadPriority } from '../thread-priority.js'
import { startModuleWorker } from '../worker-module.js'
import { type BulkCopier, threadpoolCopier } from './state-file.js'

/** One copy, as the thread gets it: `buffer` is shared (the thread sees the same memory). */
export interface CopyTask {
  id: number
  op: 'read' | 'write'
  fd: number
  buffer: SharedArrayBuffer
  start: number
  length: number
  position: number
}

export type CopierReply = { ready: true; priority: BackgroundPriority } | { id: number; ok: true } | { id: number; ok: false; message: string }

interface Waiting { resolve: () => void; reject: (err: Error) => void }

export class BackgroundCopier implements BulkCopier {
  private readonly thread: Worker
  private readonly waiting = new Map<number, Waiting>()
  private nextId = 1
  private alive = true
  /** Resolves with the priority the thread could give itself once it runs (undefined: it failed to start). */
  readonly ready: Promise<BackgroundPriority | undefined>

  constructor(priority: ThreadPriority) {
    this.thread = startModuleWorker(import.meta.url, 'state-copier-worker', { priority })
    this.thread.unref()
    let started: (priority: BackgroundPriority | undefined) => void = () => undefined
    this.ready = new Promise((resolve) => (started = resolve))
    this.thread.on('message', (reply: CopierReply) => {
      if ('ready' in reply) return started(reply.priority)
      const waiting = this.waiting.get(reply.id)
      this.waiting.delete(reply.id)
      if (this.waiting.size === 0) this.thread.unref()
      if (reply.ok) waiting?.resolve()
      else waiting?.reject(new Error(reply.message))
    })
    const ended = (why: string): void => {
      this.alive = false
      started(undefined)
      for (const waiting of this.waiting.values()) waiting.reject(new Error(`the state copier thread ${why}`))
      this.waiting.clear()
    }
    this.thread.on('error', (err) => ended(`failed: ${err.message}`)).once('exit', (code) => ended(`exited (code ${code})`))
  }

  write(fd: number, buffer: ArrayBufferLike, start: number, end: number, position: number): Promise<void> {
    if (!(buffer instanceof SharedArrayBuffer)) return threadpoolCopier.write(fd, buffer, start, end, position)
    return this.copy({ op: 'write', fd, buffer, start, length: end - start, position }, () => threadpoolCopier.write(fd, buffer, start, end, position))
  }

  read(fd: number, block: SharedArrayBuffer, at: number, length: number, position: number): Promise<void> {
    return this.copy({ op: 'read', fd, buffer: block, start: at, length, position }, () => threadpoolCopier.read(fd, block, at, length, position))
  }

  /** Ends the thread; resolves once it has ended. */
  async close(): Promise<void> {
    this.alive = false // (copies from now on: the threadpool's)
    await this.thread.terminate().catch(() => undefined)
  }

  /** Runs `task` on the thread (on the threadpool, `instead`, when the thread is gone). */
  private async copy(task: Omit<CopyTask, 'id'>, instead: () => Promise<void>): Promise<void> {
    if (!this.alive || (await this.ready) === undefined) return instead()
    const id = this.nextId++
    const done = new Promise<void>((resolve, reject) => this.waiting.set(id, { resolve, reject }))
    this.thread.ref()
    this.thread.postMessage({ ...task, id } satisfies CopyTask)
    return done.catch((err: unknown) => {
      if (!this.alive) return instead() // (the thread ended during the copy: all of it again, here)
      throw err
    })
  }
}

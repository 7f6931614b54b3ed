/**
 * The thread of state-copier.ts: lowers its own priority, then copies between files and shared memory with
 * blocking reads and writes, a chunk at a time, allocating nothing per chunk (no collection, so nothing to
 * post to V8's threads, whose locks it would share with the main thread).
 */
import { readSync, writeSync } from 'node:fs'
import { parentPort, workerData } from 'node:worker_threads'
import { type ThreadPriority, lowerThisThreadsPriority } from '../thread-priority.js'
import type { CopierReply, CopyTask } from './state-copier.js'
import { STATE_CHUNK_BYTES } from './state-file.js'

const priority = lowerThisThreadsPriority((workerData as { priority: ThreadPriority }).priority)

function copy(task: CopyTask): void {
  const bytes = new Uint8Array(task.buffer, task.start, task.length)
  for (let done = 0; done < task.length; ) {
    const want = Math.min(STATE_CHUNK_BYTES, task.length - done)
    const moved = task.op === 'read' ? readSync(task.fd, bytes, done, want, task.position + done) : writeSync(task.fd, bytes, done, want, task.position + done)
    if (moved === 0) throw new RangeError('state file: it ends early')
    done += moved
  }
}

parentPort?.on('message', (task: CopyTask) => {
  let reply: CopierReply
  try {
    copy(task)
    reply = { id: task.id, ok: true }
  } catch (err) {
    reply = { id: task.id, ok: false, message: err instanceof Error ? err.message : String(err) }
  }
  parentPort!.postMessage(reply)
})
parentPort?.postMessage({ ready: true, priority } satisfies CopierReply)

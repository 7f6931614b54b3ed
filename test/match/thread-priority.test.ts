import { strict as assert } from 'node:assert'
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { platform } from 'node:os'
import { describe, it } from 'node:test'
import { Worker } from 'node:worker_threads'
import { SpareBuildProcess } from '../../src/match/pdq-build-process.js'
import { BACKGROUND_NICE, type BackgroundPriority, type ThreadPriority } from '../../src/thread-priority.js'

const linux = platform() === 'linux'
const SCHED_OTHER = 0
const SCHED_IDLE = 5
/** This machine can put a thread under SCHED_IDLE with chrt (installed, and the kernel lets it): `true` run so. */
const idleWorks = spawnSync('chrt', ['--idle', '0', 'true'], { stdio: 'ignore' }).status === 0

/** A thread of this process (or of `pid`): its scheduling policy and nice value (/proc/<pid>/task/<tid>/stat, fields 41 and 19). */
function scheduling(tid: number, pid: number | 'self' = 'self'): { policy: number; nice: number } {
  const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ') // (from field 3 on: the name may hold spaces)
  return { nice: Number(fields[19 - 3]), policy: Number(fields[41 - 3]) }
}

interface Lowered { priority: BackgroundPriority; tid: number | undefined }

/**
 * Runs lowerThisThreadsPriority(chrt) on a worker thread (tsx registered there: workers do not inherit its
 * hooks on Node 20) and calls `look` while that thread still runs.
 */
async function onWorkerThread(priority: ThreadPriority, chrt: string | undefined, look: (lowered: Lowered) => void): Promise<Lowered> {
  const module = new URL('../../src/thread-priority.ts', import.meta.url).href
  const code = `
    const { parentPort, workerData } = await import('node:worker_threads')
    const tsx = await import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
    tsx.register()
    const { lowerThisThreadsPriority, thisThreadsId } = await import(${JSON.stringify(module)})
    const priority = workerData.chrt === undefined ? lowerThisThreadsPriority(workerData.priority) : lowerThisThreadsPriority(workerData.priority, workerData.chrt)
    parentPort.postMessage({ priority, tid: thisThreadsId() })
    parentPort.once('message', () => process.exit(0))`
  const worker = new Worker(`import(${JSON.stringify(`data:text/javascript,${encodeURIComponent(code)}`)})`, { eval: true, workerData: { priority, chrt } })
  try {
    const lowered = await new Promise<Lowered>((resolve, reject) => {
      worker.once('message', resolve)
      worker.once('error', reject)
    })
    look(lowered)
    return lowered
  } finally {
    worker.postMessage('done')
    await new Promise((resolve) => worker.once('exit', resolve))
  }
}

describe('a background thread\'s priority (thread-priority.ts)', { skip: !linux && 'per-thread priorities are Linux\'s' }, () => {
  // (a test run under `nice` keeps its higher value: a thread is never given a lower one)
  const processNice = linux ? scheduling(process.pid).nice : 0
  const backgroundNice = Math.max(BACKGROUND_NICE, processNice)

  it('puts the calling thread (only) under SCHED_IDLE, with nice 15, where chrt can', async () => {
    const main = scheduling(process.pid)
    const lowered = await onWorkerThread('idle', undefined, ({ tid }) => {
      assert.ok(tid !== undefined && tid !== process.pid)
      assert.deepEqual(scheduling(tid), { policy: idleWorks ? SCHED_IDLE : SCHED_OTHER, nice: backgroundNice })
      assert.deepEqual(scheduling(process.pid), main, 'the main thread keeps its priority')
    })
    assert.equal(lowered.priority, idleWorks ? 'idle' : 'nice')
  })

  it('keeps nice 15 when chrt cannot be run, and at `low`; changes nothing at `normal`', async () => {
    const main = scheduling(process.pid)
    for (const [priority, chrt, expected] of [['idle', '/nonexistent/chrt', 'nice'], ['low', undefined, 'nice'], ['normal', undefined, 'unchanged']] as const) {
      const lowered = await onWorkerThread(priority, chrt, ({ tid }) => {
        assert.deepEqual(scheduling(tid!), expected === 'nice' ? { policy: SCHED_OTHER, nice: backgroundNice } : main, priority)
      })
      assert.equal(lowered.priority, expected, priority)
    }
  })

  it('the PDQ index build process takes the priority it is given, on all its threads (config match.indexBuildPriority)', async () => {
    // (the build process's threads: each thread's policy and nice value, while it runs)
    const threadsOf = (pid: number) => readdirSync(`/proc/${pid}/task`).map(Number).flatMap((tid) => {
      try {
        return [scheduling(tid, pid)]
      } catch {
        return [] // (the thread ended between the listing and the read)
      }
    })
    const lowered = { policy: SCHED_OTHER, nice: backgroundNice }
    const expected = { idle: idleWorks ? { policy: SCHED_IDLE, nice: backgroundNice } : lowered, low: lowered, normal: scheduling(process.pid) }
    const got = { idle: idleWorks ? 'idle' : 'nice', low: 'nice', normal: 'unchanged' } as const
    for (const priority of ['idle', 'low', 'normal'] as const) {
      const spare = new SpareBuildProcess(priority)
      const release = spare.hold()
      const pid = spare.pid!
      try {
        // (its modules load after it has lowered its priority; it says how far it got, which the node logs)
        assert.equal(await spare.settled(), got[priority], priority)
        const threads = threadsOf(pid)
        assert.ok(threads.length >= 5, `${priority}: node's threads (${threads.length})`)
        for (const thread of threads) assert.deepEqual(thread, expected[priority], priority)
        assert.deepEqual(scheduling(process.pid), expected.normal, 'this process keeps its priority')
      } finally {
        // (the release that ends the process resolves once it has exited: the node starts its network then)
        await release()
      }
      assert.throws(() => process.kill(pid, 0), /ESRCH/, `${priority}: the process has exited when its release resolves`)
      assert.equal(spare.pid, undefined)
    }
  })
})

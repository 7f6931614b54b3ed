/**
 * A start-up build of the PDQ catalog in a process of its own (issue 14: /status within 10 ms while the index
 * is rebuilt). On the main thread the stepped build yielded every 3 ms, but it allocated ~1 GB of typed arrays
 * at a million hashes and V8 stopped the event loop for full collections. On a worker thread (until
 * 2026-12-01) the main thread neither ran the build nor collected its garbage, but the two threads still
 * shared the process: V8's background threads, which ran the worker's collections and compiles at the normal
 * priority (1.2-1.7 s of CPU per 2 M-hash start, on the cores the main thread and the HTTP clients needed),
 * and locks inside node, V8 and glibc (the platform's task queue, the threadpool's queue, malloc's arenas, the
 * address space), which the build, under SCHED_IDLE, could hold while a busier thread kept it off its CPU:
 * the main thread then waited on the lock (one trace: 23 ms in TaskQueue::Push). In a process of its own the
 * build has its own threads, all at its background priority, its own locks and its own memory, returned whole
 * when it ends.
 *
 * The catalog is lent (pdq-catalog.ts: it refuses reads meanwhile), written with the job to a file, built by
 * the child (pdq-build-child.ts), which writes the result to another file, and read back by the threadpool
 * straight onto one SharedArrayBuffer (state-file.ts), in 1 MiB pieces with a pause after each. (A SCHED_IDLE
 * thread of this process that copied instead held V8's task queue while it waited for a CPU, and the main
 * thread waited for it 470 ms: the very inversion this process leaves behind.) The files are in a directory of their own under the
 * system's temporary directory (TMPDIR), mode 0700, removed after each build; at 2 M hashes they take ~0.5 GB
 * for a moment. This process keeps the lent state until the result is read: if the child dies, or a file
 * cannot be written, the catalog takes it back unchanged and the build runs on the main thread instead.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import type { Socket } from 'node:net'
import { join } from 'node:path'
import { HashmeshError } from '../errors.js'
import { processRuns } from '../process-runs.js'
import type { BackgroundPriority, ThreadPriority } from '../thread-priority.js'
import { moduleProcessArgs } from '../worker-module.js'
import { type BulkCopier, readStateFile, threadpoolCopier, writeStateFile } from './state-file.js'

/** What is built in the build process (the PdqCatalog): handed over as plain data and taken back. */
export interface Lendable<S> {
  lend(): S
  restore(state: S): void
}

/**
 * The child's tasks for one build: `start` (the file holding the lent state and the first job), `add` for each
 * further job (a file holding `{ job }`), then `write` (where to write the built state).
 */
export type BuildTask = { op: 'start' | 'add'; input: string } | { op: 'write'; output: string }

/** The child's messages: `ready` once it has started (with the priority it could give itself), then each build's result. */
export type BuildReply = { ready: true; priority: BackgroundPriority } | { ok: true } | { ok: false; message: string }

/** The copier's pause after each chunk, in chunks' times: 1, half a core at most (see SpareBuildProcess.copier). */
const COPY_REST = 1

/** The builds' directories under TMPDIR: this prefix, the node's process id, a dash and mkdtemp's letters. */
export const BUILD_DIR_PREFIX = 'hashmesh-pdq-build-'

/**
 * Removes the build directories that a node which has ended left (one killed during a build: up to 0.7 GB at
 * 2 M hashes); those of a running process stay (another node may share TMPDIR). Errors are ignored: nothing
 * depends on it.
 */
export async function removeStaleBuildDirs(): Promise<void> {
  try {
    for (const name of await readdir(tmpdir())) {
      const pid = new RegExp(`^${BUILD_DIR_PREFIX}(\\d+)-`).exec(name)?.[1]
      if (pid !== undefined && !processRuns(Number(pid))) await rm(join(tmpdir(), name), { recursive: true, force: true })
    }
  } catch {
    // (no TMPDIR to read: the build says so when it needs one)
  }
}


/** How much of a child's stderr is kept for the message when it fails. */
const STDERR_TAIL_BYTES = 2048

/** A started build process and its first answer (`ready`, asked for as it starts: it may come before a build is given). */
interface StartedProcess {
  child: ChildProcess
  ready: Promise<BuildReply>
  /** False once the process has exited: a spare that died while idle is not given a build (it would never answer). */
  alive: boolean
  /** The end of what it wrote to stderr (a failure's message). */
  stderr: string
  /** Resolves once the process has exited. */
  exited: Promise<void>
}

function startBuildProcess(priority: ThreadPriority): StartedProcess {
  const child = spawn(process.execPath, [...moduleProcessArgs(import.meta.url, 'pdq-build-child'), priority], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    serialization: 'json',
  })
  let exited: () => void = () => undefined
  const started: StartedProcess = { child, ready: Promise.resolve({ ok: false, message: '' }), alive: true, stderr: '', exited: new Promise((resolve) => (exited = resolve)) }
  started.ready = nextReply(started)
  started.ready.catch(() => undefined) // (awaited by the build that takes it; a spare may never be used)
  child.stderr?.setEncoding('utf8').on('data', (text: string) => (started.stderr = (started.stderr + text).slice(-STDERR_TAIL_BYTES)))
  // (listened to for the process's whole life: an error while idle, with no build listening, would otherwise be
  // an uncaught 'error' event and end the node)
  child.on('error', () => undefined).once('exit', () => {
    started.alive = false
    exited()
  })
  return started
}

/** Whether the process (its handle, its IPC channel, its stderr pipe) keeps this process's event loop running. */
function keepsAlive(started: StartedProcess, yes: boolean): void {
  // (stderr is a pipe: a net.Socket, which its type does not say)
  for (const handle of [started.child, started.child.channel, started.child.stderr as Socket | null]) {
    if (yes) handle?.ref()
    else handle?.unref()
  }
}

/** Ends the process; resolves once it has exited (which keeps this process running meanwhile). */
function endProcess(started: StartedProcess): Promise<void> {
  if (started.alive) {
    started.child.ref()
    started.child.kill()
  }
  return started.exited
}

/**
 * One build process started ahead of the builds that will need it, and kept for all of them: the node
 * holds it from its open to the end of its start (the federation's build), the bank store while it loads.
 * Started during the start-up instead, its start took the main thread's core while /status waited. It is
 * ended when the last hold is released and no build uses it; it does not keep this process alive while idle.
 */
export class SpareBuildProcess {
  private started: StartedProcess | undefined
  private holds = 0
  private busy = false

  /**
   * What copies the builds' files to and from this process's memory: the threadpool, at the normal priority (a
   * thread of a lower one shared V8's task queue with the main thread, below), paced to half a core unless the
   * build runs at the normal priority too.
   */
  readonly copier: BulkCopier

  /** Says that a build runs on the main thread instead, and why (the node logs it: PdqCatalog.onBuildWarning). */
  warn: (message: string) => void = (message) => process.emitWarning(message)

  /** `priority`: this process's, and that of any process a build starts while this one is busy. */
  constructor(readonly priority: ThreadPriority) {
    this.copier = threadpoolCopier({ rest: priority === 'normal' ? 0 : COPY_REST })
  }

  /**
   * Starts the process unless it runs; call the returned function once the builds it was for are done. It
   * resolves when the process has ended, if that release ended it (at once otherwise).
   */
  hold(): () => Promise<void> {
    this.holds++
    if (!this.started) {
      void removeStaleBuildDirs()
      this.started = startBuildProcess(this.priority)
      keepsAlive(this.started, false)
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
   * Resolves once the process (if one was started) has loaded its modules, or failed to, with the priority it
   * could give itself (undefined: none started, or it failed). It keeps this process alive meanwhile.
   */
  async settled(): Promise<BackgroundPriority | undefined> {
    const started = this.started
    if (!started) return undefined
    keepsAlive(started, true)
    try {
      const reply = await started.ready.catch(() => undefined)
      return reply && 'ready' in reply ? reply.priority : undefined
    } finally {
      if (!this.busy || this.started !== started) keepsAlive(started, false)
    }
  }

  /** The running process's id (undefined: none runs). */
  get pid(): number | undefined {
    return this.started?.alive ? this.started.child.pid : undefined
  }

  /** The process, for one build (none while another build has it, or when none was started). */
  take(): StartedProcess | undefined {
    if (this.started && !this.started.alive) this.started = undefined
    if (!this.started || this.busy) return undefined
    this.busy = true
    keepsAlive(this.started, true)
    return this.started
  }

  /** Gives back what take() gave; a process that failed is ended. */
  giveBack(failed: boolean): void {
    this.busy = false
    if (failed) void this.end()
    else if (this.started) keepsAlive(this.started, false)
    void this.endIfUnused()
  }

  private endIfUnused(): Promise<void> {
    return this.holds === 0 && !this.busy ? this.end() : Promise.resolve()
  }

  /** Ends the process; resolves once it has exited. */
  private end(): Promise<void> {
    const started = this.started
    this.started = undefined
    return started ? endProcess(started) : Promise.resolve()
  }
}

/** A build the child ran and reported as failed: the same input would fail here too. */
class BuildFailed extends Error {}

/**
 * Runs `job` on `target` in the build process (the spare's when it is free, else one of its own, ended after),
 * then each job `next()` gives (queued meanwhile: the child runs it on the catalog it holds, and the catalog
 * is written and read back once, not once per job). False when it could not be done there (no process
 * started, it died, a file could not be written or read): the target has its state back, unchanged, and the
 * caller builds here, `job` and the jobs `next()` gave. Rejects when a build itself failed in the child
 * (INTERNAL; the target has its state back).
 */
export async function buildInProcess<S, J>(target: Lendable<S>, job: J, spare: SpareBuildProcess, next: () => J | undefined = () => undefined): Promise<boolean> {
  const fromSpare = spare.take()
  const started = fromSpare ?? startBuildProcess(spare.priority)
  let failed = true
  let dir: string | undefined
  try {
    try {
      await started.ready
    } catch (err) {
      spare.warn(`the PDQ index build process did not start, building on the main thread: ${String(err)}`)
      return false
    }
    try {
      dir = await mkdtemp(join(tmpdir(), `${BUILD_DIR_PREFIX}${process.pid}-`))
    } catch (err) {
      spare.warn(`no room for the PDQ index build's files (${err instanceof Error ? err.message : String(err)}), building on the main thread: set TMPDIR to a writable directory`)
      return false
    }
    const state = target.lend()
    let built: S
    try {
      const input = join(dir, 'input-1')
      await writeStateFile(input, { state, job }, spare.copier)
      await ask(started, { op: 'start', input })
      for (let more = next(), k = 2; more !== undefined; more = next(), k++) {
        const input = join(dir, `input-${k}`)
        await writeStateFile(input, { job: more }, spare.copier)
        await ask(started, { op: 'add', input })
      }
      const output = join(dir, 'output')
      await ask(started, { op: 'write', output })
      built = await readStateFile<S>(output, spare.copier)
    } catch (err) {
      target.restore(state)
      if (err instanceof BuildFailed) throw new HashmeshError('INTERNAL', `the PDQ index build failed in its build process: ${err.message}`)
      spare.warn(`the PDQ index build process failed, building on the main thread: ${err instanceof Error ? err.message : String(err)}`)
      return false
    }
    target.restore(built)
    failed = false
    return true
  } finally {
    if (fromSpare) spare.giveBack(failed)
    else void endProcess(started)
    if (dir !== undefined) void rm(dir, { recursive: true, force: true })
  }
}

/** Gives the child a task; resolves when it has done it, rejects with BuildFailed when it could not. */
async function ask(started: StartedProcess, task: BuildTask): Promise<void> {
  started.child.send(task)
  const reply = await nextReply(started)
  if (!('ok' in reply)) throw new Error('the PDQ index build process answered out of turn')
  if (!reply.ok) throw new BuildFailed(reply.message)
}

/** The process's next message; rejects when it fails or exits first (with the end of its stderr). */
function nextReply(started: StartedProcess): Promise<BuildReply> {
  const { child } = started
  return new Promise((resolve, reject) => {
    const done = (): void => {
      child.off('message', onMessage)
      child.off('error', onError)
      child.off('exit', onExit)
    }
    const onMessage = (reply: BuildReply): void => {
      done()
      resolve(reply)
    }
    const onError = (err: Error): void => {
      done()
      reject(new Error(`the build process could not be reached (${err.message})`)) // (a send to a process that has ended: EPIPE)
    }
    const onExit = (code: number | null, signal: string | null): void => {
      done()
      // (its last lines of stderr say why; node's closing "Node.js v20…" line does not)
      const last = started.stderr.split('\n').filter((line) => line.trim() !== '' && !/^Node\.js v/.test(line)).slice(-3)
      reject(new Error(`the build process exited (${signal ?? `code ${code}`})${last.length > 0 ? `: ${last.join(' | ')}` : ''}`))
    }
    if (!started.alive) return onExit(child.exitCode, child.signalCode)
    child.on('message', onMessage).on('error', onError).on('exit', onExit)
  })
}

/**
 * The PDQ build process's body (pdq-build-process.ts starts it: `node pdq-build-child.js <priority>`): it
 * lowers all its threads' priority, says it is ready, then for each build reads the lent catalog and its first
 * job from an input file (`start`), runs the same build steps as the main thread would (in one go: nothing
 * else runs here), runs any further job (`add`: a job queued meanwhile, from a file of its own) on the same
 * catalog, and writes the built catalog to an output file (`write`; state-file.ts). Everything the build
 * allocates and throws away is this process's, and is returned whole when it ends. It ends when its parent
 * goes (its IPC channel closes) or ends it.
 */
import { rm } from 'node:fs/promises'
import { THREAD_PRIORITIES, type ThreadPriority, lowerThisProcessesPriority } from '../thread-priority.js'
import type { BuildReply, BuildTask } from './pdq-build-process.js'

// The build runs at a background priority (thread-priority.ts; config's `normal` keeps the normal one), all of
// this process's threads (its collector's and compiler's too): at the normal one, on a machine with few cores, it
// took the core the main thread needed to answer. It is lowered before the build's modules load: loading and
// compiling them at the normal priority took the main thread's core at the start of the rebuild.
const asked = process.argv[2] as ThreadPriority
const priority = lowerThisProcessesPriority(THREAD_PRIORITIES.includes(asked) ? asked : 'idle')
process.once('disconnect', () => process.exit(0))
const { PdqCatalog } = await import('./pdq-catalog.js')
const { STEP_ELEMENTS, runSteps } = await import('./steps.js')
const { readStateFile, writeStateFile } = await import('./state-file.js')
type Input = { state: import('./pdq-catalog.js').PdqCatalogState; job: import('./pdq-catalog.js').CatalogBuildJob }

/**
 * Elements per step here, where nothing else waits for a turn: 64 times the main thread's. With the main
 * thread's steps the build's generators resumed so often that V8 optimised them early and deoptimised them
 * as they reached code not yet run: 11 TurboFan compiles of `buildSteps`, 578 ms on V8's one background
 * thread, against 4 and 91 ms with these (measured on a worker thread, 2026-11-30). Still steps, not whole
 * loops: whole loops compiled as much.
 */
const BUILD_STEP_ELEMENTS = STEP_ELEMENTS * 64

/** The catalog the builds so far made (kept between a task's steps until it is written). */
let catalog: InstanceType<typeof PdqCatalog> | undefined

async function run(task: BuildTask): Promise<BuildReply> {
  try {
    if (task.op === 'write') {
      if (!catalog) throw new Error('nothing built to write')
      await writeStateFile(task.output, catalog.toState())
      catalog = undefined
      return { ok: true }
    }
    if (task.op === 'start') {
      const { state, job } = await readStateFile<Input>(task.input)
      catalog = PdqCatalog.fromState(state)
      await rm(task.input, { force: true }) // (its space back now: the parent removes the directory after the build)
      runSteps(catalog.jobSteps(job, BUILD_STEP_ELEMENTS))
      return { ok: true }
    }
    if (!catalog) throw new Error('a job to add, and no catalog started')
    const { job } = await readStateFile<{ job: Input['job'] }>(task.input)
    await rm(task.input, { force: true })
    runSteps(catalog.jobSteps(job, BUILD_STEP_ELEMENTS))
    return { ok: true }
  } catch (err) {
    catalog = undefined
    return { ok: false, message: err instanceof Error ? (err.stack ?? err.message) : String(err) }
  }
}

process.on('message', (task: BuildTask) => void run(task).then((reply) => process.send?.(reply)))
process.send?.({ ready: true, priority } satisfies BuildReply)

/**
 * Long builds cut into steps: a builder is a generator that yields after each bounded piece of work
 * (a chunk of a radix pass, of a fill, of parsing). `runSteps` runs it to completion synchronously (the
 * normal add/remove paths); `runStepsAsync` runs steps for about `sliceMs`, then lets the event loop turn
 * (setImmediate) before going on, so a start-up build of millions of hashes never blocks the loop for
 * more than a few ms (HMA's GET /status must answer within 10 ms while the index is rebuilt).
 */
export type Steps<T> = Generator<void, T, void>

/** Elements per step of a bulk loop in the async builds (well under 1 ms of work each once the code is optimised). */
export const STEP_ELEMENTS = 1024
/** The async runner yields to the event loop once its steps have run this long. */
export const SLICE_MS = 3

/**
 * The size of the k-th chunk of a loop whose full steps hold `step` elements: 32, 64, 128, ... up to
 * `step`. The first chunks of a build run cold (not yet optimised) code: a first full step of 1,024 hex
 * signals (parse, exact index) measured 10-20 ms on a loaded 2-core machine, the later ones ~1 ms.
 */
export function rampedStep(k: number, step: number): number {
  return k >= 16 ? step : Math.min(step, 32 * 2 ** k)
}

export function runSteps<T>(steps: Steps<T>): T {
  for (;;) {
    const r = steps.next()
    if (r.done === true) return r.value
  }
}

/**
 * Stepped loops run side by side at start-up (the matcher's rebuild reading the store, the banks' load, a
 * catalog build), and each resumed in the same turn of the event loop, one after the other: with a slice
 * each, a turn ran 6-9 ms before /status was answered. So they wait for the next turn together (one
 * setImmediate), and the loops resuming in it share one slice: each gets its part of `sliceMs`.
 */
let waiting = 0
let turn: Promise<number> | null = null

/**
 * A loop's first deadline: it takes one step (a Pacer 64 calls), then waits for the turn it shares with the
 * other loops. With a whole slice of its own first, the loops a node starts together (the matcher's rebuild,
 * the banks' load, a catalog build) each ran one in the same turn, still cold from the interpreter: 8-9 ms
 * of the main thread while /status waited.
 */
const FIRST_STEP_ONLY = -Infinity

/** Waits for the event loop's next turn; resolves with this loop's deadline in it. */
async function nextTurnSlice(sliceMs: number): Promise<number> {
  waiting++
  turn ??= new Promise<number>((resolve) =>
    setImmediate(() => {
      const sharing = waiting
      waiting = 0
      turn = null
      resolve(sharing)
    }),
  )
  const sharing = await turn
  return performance.now() + sliceMs / sharing
}

export async function runStepsAsync<T>(steps: Steps<T>, sliceMs = SLICE_MS): Promise<T> {
  let deadline = FIRST_STEP_ONLY
  for (;;) {
    const r = steps.next()
    if (r.done === true) return r.value
    if (performance.now() >= deadline) deadline = await nextTurnSlice(sliceMs)
  }
}

/** Items between two readings of the clock by a Pacer. */
const PACER_CHECK_ITEMS = 64

/**
 * For an async loop over many items (reading a store at start-up): `if (pacer.due()) await pacer.pause()`
 * lets the event loop turn once the loop has run `sliceMs` since the last turn. An iterator that serves
 * its entries from a buffer resolves them as microtasks, so the loop itself would never let timers or
 * sockets run in between.
 */
export class Pacer {
  private deadline: number
  private work = 0

  constructor(private readonly sliceMs = SLICE_MS) {
    this.deadline = FIRST_STEP_ONLY
  }

  /**
   * Cheap: reads the clock once 64 items' work has been done since it last did. A call after the work of
   * many items at once (a bank chunk of 1,024 hashes) says how many: counted as one, 64 chunks ran between
   * two readings, and with the store read ahead (no turn of the event loop between them) that was 6-10 ms
   * of the main thread while /status waited (bench-hma --gaps).
   */
  due(items = 1): boolean {
    this.work += items
    if (this.work < PACER_CHECK_ITEMS) return false
    this.work = 0
    return performance.now() >= this.deadline
  }

  async pause(): Promise<void> {
    this.deadline = await nextTurnSlice(this.sliceMs)
  }
}

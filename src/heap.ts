/**
 * A full garbage collection on request, for the one moment a node wants it: its modules are loaded and its API
 * is built, and the API is about to answer. What loading and building left in V8's young generation is
 * long-lived (routes, schemas, compiled code's objects); left there, the first scavenges after the API listens
 * copied and promoted 2-4 MB each, 10-37 ms pauses while HMA's GET /status waited during the index rebuild.
 * Collected here, those pauses happen before anyone asks.
 *
 * V8 exposes gc() only with --expose-gc; the flag set at run time makes `gc` a global of contexts created
 * after it, so the function is taken from a new context (this process's own global stays as it was).
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

let gc: (() => void) | undefined

export function collectGarbage(): void {
  if (gc === undefined) {
    setFlagsFromString('--expose-gc')
    gc = runInNewContext('gc') as () => void
  }
  gc()
}

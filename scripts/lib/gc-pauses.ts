/**
 * The main thread's garbage collections over a span (node's 'gc' performance entries: this isolate only, not a
 * worker's), by kind: how many and the longest. bench-hma prints them for the restart: a young-generation
 * collection stops the main thread for as long as it copies what survives (src/cli/node-flags.ts).
 */
import { PerformanceObserver, constants } from 'node:perf_hooks'

export interface GcKindPauses { count: number; maxMs: number; totalMs: number }
export interface GcPauses { young: GcKindPauses; full: GcKindPauses }

const KINDS: Record<number, keyof GcPauses> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'young',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'full',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'full',
}

/** Starts counting; stop() gives the collections since (the observer's entries arrive a turn late: stop() reads what it has). */
export function startGcPauses(): { stop(): GcPauses } {
  const pauses: GcPauses = { young: { count: 0, maxMs: 0, totalMs: 0 }, full: { count: 0, maxMs: 0, totalMs: 0 } }
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = KINDS[((entry as { detail?: unknown }).detail as { kind?: number } | undefined)?.kind ?? -1]
      if (kind === undefined) continue
      const into = pauses[kind]
      into.count++
      into.totalMs += entry.duration
      into.maxMs = Math.max(into.maxMs, entry.duration)
    }
  })
  observer.observe({ entryTypes: ['gc'] })
  return {
    stop() {
      observer.disconnect()
      return pauses
    },
  }
}

/** One line: "young N (longest X ms, Y ms in all), full M (longest …)". */
export function gcPausesLine({ young, full }: GcPauses): string {
  const kind = (name: string, k: GcKindPauses) => `${name} ${k.count}${k.count ? ` (longest ${k.maxMs.toFixed(1)} ms, ${k.totalMs.toFixed(0)} ms in all)` : ''}`
  return `${kind('young-generation', young)}, ${kind('full or incremental', full)}`
}

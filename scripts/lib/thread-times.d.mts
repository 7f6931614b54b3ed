/** Types of scripts/lib/thread-times.mjs. */
export interface ThreadTime { name: string; runMs: number; waitMs: number; runs: number }
export interface ThreadTimes { spanMs: number; threads: ThreadTime[] }
/** A thread's ms on a CPU, ms waiting for one, and times put on one (see thread-times.mjs). */
export interface Schedstat { runMs: number; waitMs: number; slices: number }
export declare function schedstatOf(path: string): Schedstat | undefined
/** The host's steal time so far, all vCPUs, in ms (10 ms ticks); undefined when unreadable. */
export declare function hostStealMs(): number | undefined
export declare function startThreadTimes(names: Record<number, string>): { stop(): ThreadTimes }
export declare function threadTimesLines(times: ThreadTimes, minMs?: number): string[]

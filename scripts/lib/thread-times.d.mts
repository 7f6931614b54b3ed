/** Types of scripts/lib/thread-times.mjs. */
export interface ThreadTime { name: string; runMs: number; waitMs: number; runs: number }
export interface ThreadTimes { spanMs: number; threads: ThreadTime[] }
export declare function startThreadTimes(names: Record<number, string>): { stop(): ThreadTimes }
export declare function threadTimesLines(times: ThreadTimes, minMs?: number): string[]

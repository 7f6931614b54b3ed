/** Types of scripts/lib/status-poller.mjs (plain JavaScript so that the poller runs on bare node, without tsx). */
import type { Schedstat, ThreadTimes } from './thread-times.mjs'

/** serverPid: sample the server's threads (and the poller's) while polling. */
export interface StatusPlan { url: string; token: string; serverPid?: number }
export interface StatusResult {
  count: number
  codes: Record<string, number>
  p50: number
  p99: number
  max: number
  ms: number
  maxBuilding: number
  p99Building: number
  p999Building: number
  over10Building: number
  /**
   * Each answer over 10 ms: request `seq`, asked at `at` (monotonicMs()), took `ms`, answered `status`; with
   * serverPid, what the server's main thread did from just before it was asked to just after it was read;
   * `stealMs`: the host's steal time over the same span (10 ms ticks, so 0 or 10 for a short stop), when readable.
   */
  slow: { seq: number; at: number; ms: number; status: number; serverMain?: Schedstat; stealMs?: number }[]
  /** When request n + 1 was asked and its answer read, on the same clock (every request; n + 1 is its x-bench-seq). */
  asked: number[]
  answered: number[]
  statuses: number[]
  /** With serverPid: the threads' CPU times over the polling. */
  threadTimes?: ThreadTimes
}
export declare function pollStatus(plan: StatusPlan, onFirstAnswer?: () => void): Promise<StatusResult>

/**
 * What bench-hma's /status poller (status-poller.mjs) and the server's side (served-times.ts) share: the header
 * that numbers the poller's requests and the clock both stamp them with. A module of its own, without side
 * effects, so that importing it does not start a poller (status-poller.mjs starts one in any child process
 * that imports it).
 */

/** The header that numbers the poller's requests (1, 2, …). */
export const SEQ_HEADER = 'x-bench-seq'

/**
 * ms on the machine's monotonic clock (CLOCK_MONOTONIC, as process.hrtime reads it): one clock for every
 * process, where performance.timeOrigin + now() differed by some ms between the poller and the server.
 */
export function monotonicMs() {
  return Number(process.hrtime.bigint()) / 1e6
}

/** The p-th percentile (0-100) of `sorted` (ascending; 0 when empty). */
export function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0
}

/**
 * The server's side of bench-hma's /status answers, recorded in the server's process with node's HTTP
 * diagnostics channels: when the server began each of the poller's numbered requests (node's
 * 'http.server.request.start': the main thread had a CPU and had read the request) and when it had written
 * the answer to the socket ('http.server.response.finish'). With the poller's own times (asked, read), each
 * answer splits into the server's part (asked → written: waiting for the main thread, then answering) and the
 * poller's (written → read: the poller waiting for a CPU of its own, which a load balancer on another machine
 * would not share with the node). Times are the poller's monotonicMs(), one clock for both processes.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import type { IncomingMessage } from 'node:http'
import { monotonicMs } from './status-wire.mjs'

export interface ServedTimes {
  /** Request number → when the server began it / had written its answer. */
  begun: Map<number, number>
  written: Map<number, number>
  stop(): void
}

/** Starts recording the requests that carry a number in `header`. */
export function recordServedTimes(header: string): ServedTimes {
  const begun = new Map<number, number>()
  const written = new Map<number, number>()
  const note = (into: Map<number, number>) => (message: unknown) => {
    const seq = Number((message as { request: IncomingMessage }).request.headers[header] ?? 0)
    if (seq > 0) into.set(seq, monotonicMs())
  }
  const onStart = note(begun)
  const onFinish = note(written)
  subscribe('http.server.request.start', onStart)
  subscribe('http.server.response.finish', onFinish)
  return {
    begun,
    written,
    stop() {
      unsubscribe('http.server.request.start', onStart)
      unsubscribe('http.server.response.finish', onFinish)
    },
  }
}

export interface AnswerSplit {
  /** asked → begun: the request waiting for the server's main thread (to get a CPU, to finish what it ran). */
  wait: number
  /** begun → written (or read by the poller, when that came first). */
  work: number
  /** written → read by the poller. */
  poller: number
}

/** Request `seq`'s answer split in three (undefined: the server did not record it). */
export function splitAnswer(seq: number, asked: readonly number[], answered: readonly number[], served: ServedTimes): AnswerSplit | undefined {
  const begun = served.begun.get(seq)
  const written = served.written.get(seq)
  const at = asked[seq - 1]
  const read = answered[seq - 1]
  if (begun === undefined || written === undefined || at === undefined || read === undefined) return undefined
  // ('finish' comes after the write's callback: a main thread that lost its CPU just after writing notes it after
  // the poller has read the answer, and the answer was out by then)
  const out = Math.min(written, read)
  return { wait: begun - at, work: out - begun, poller: read - out }
}

/** The server's part (asked → written) of every recorded answer among `seqs`, sorted. */
export function serverParts(seqs: Iterable<number>, asked: readonly number[], answered: readonly number[], served: ServedTimes): number[] {
  const parts: number[] = []
  for (const seq of seqs) {
    const split = splitAnswer(seq, asked, answered, served)
    if (split) parts.push(split.wait + split.work)
  }
  return parts.sort((a, b) => a - b)
}

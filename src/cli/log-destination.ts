/**
 * Where `hashmesh start` writes its JSON log lines when stderr is a file or a pipe: sonic-boom on fd 2,
 * writing asynchronously (a synchronous write per line blocked the event loop on the pipe: at trace level, one
 * line per stored record, ~4 % of a node's time in a 10-node, 50 records/s devnet). Each line keeps the time it
 * was logged.
 *
 * This module also owns the end of the stream. pino's own destination flushes at exit with sonic-boom 4, whose
 * synchronous flush retries a failed write forever: a node started as `hashmesh start 2>&1 | head -3` whose
 * reader had gone ignored SIGTERM, asleep in that loop. Here:
 * - a write error (EPIPE: the reader went away) ends the logging, and the node runs on;
 * - `close()` ends the stream and waits, for a bounded time, for the last lines to be written;
 * - at exit, lines still pending are written synchronously, and a failure to do so is ignored.
 */
import { createRequire } from 'node:module'
import type { DestinationStream } from 'pino'

// sonic-boom is CommonJS (module.exports = SonicBoom), and its types declare a default export that NodeNext
// reads as the module object: required here, typed by its class.
const SonicBoom = createRequire(import.meta.url)('sonic-boom') as typeof import('sonic-boom').SonicBoom

/** At exit, retries of a write that answers EAGAIN (a non-blocking pipe, full), 100 ms apart. */
const EAGAIN_RETRIES_AT_EXIT = 20
const CLOSE_TIMEOUT_MS = 2_000

export interface LogDestination {
  stream: DestinationStream
  /** Whether a write failed (the reader went away): later lines are dropped. */
  readonly broken: boolean
  /** Writes what is pending and ends the stream; resolves when done, on an error, or after `timeoutMs`. */
  close(timeoutMs?: number): Promise<void>
}

export function openLogDestination(fd = 2): LogDestination {
  let exiting = false
  let retriesAtExit = 0
  // While the node runs, a full pipe is retried for as long as it takes, with timers; at exit, for 2 s.
  const retryEAGAIN = () => !exiting || ++retriesAtExit <= EAGAIN_RETRIES_AT_EXIT
  const boom = new SonicBoom({ fd, sync: false, retryEAGAIN })
  let broken = false
  let ended = false
  // Nowhere to report it: the log's reader is what went away.
  boom.on('error', () => (broken = true))
  const writable = () => !broken && !ended
  const flushAtExit = () => {
    if (!writable()) return
    exiting = true
    try {
      boom.flushSync()
    } catch {
      broken = true // EPIPE at exit: the lines are lost with their reader
    }
  }
  process.once('exit', flushAtExit)
  return {
    stream: { write: (line: string) => void (writable() && boom.write(line)) },
    get broken() {
      return broken
    },
    close(timeoutMs = CLOSE_TIMEOUT_MS) {
      if (!writable()) return Promise.resolve()
      ended = true
      return new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer)
          resolve()
        }
        const timer = setTimeout(done, timeoutMs)
        boom.once('close', done)
        boom.once('error', done)
        boom.end()
      })
    },
  }
}

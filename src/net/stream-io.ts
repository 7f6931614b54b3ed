/**
 * Length-prefixed frames over a libp2p 3 stream, where every read and write has a deadline.
 * A failed or timed-out stream is aborted, never left half open.
 */
import { lpStream, type LengthPrefixedStream } from '@libp2p/utils'
import type { Stream } from '@libp2p/interface'
import { HashmeshError, isHashmeshError, safetyCatch } from '../errors.js'
import { SYNC_LIMITS } from '../constants.js'

/** One read or write on a sync stream. */
export const STREAM_IO_TIMEOUT_MS = 10_000
/** Opening a sync stream (dial + protocol negotiation). */
export const DIAL_TIMEOUT_MS = 5_000
/** A server waits this long for the next request before closing an idle stream. */
export const SERVER_IDLE_TIMEOUT_MS = 30_000
/** Closing a stream gracefully before it is aborted. */
export const CLOSE_TIMEOUT_MS = 2_000

/** The deadlines a FramedStream applies (the defaults above). */
export interface StreamDeadlines {
  /** One read or write. */
  ioMs: number
  /** A server waiting for the next request. */
  idleMs: number
}

export const DEFAULT_STREAM_DEADLINES: Readonly<StreamDeadlines> = { ioMs: STREAM_IO_TIMEOUT_MS, idleMs: SERVER_IDLE_TIMEOUT_MS }

const deadlinesByStream = new WeakMap<Stream, StreamDeadlines>()

/**
 * Other deadlines than the defaults for one stream, taken by every FramedStream made over it: the sync
 * client makes its FramedStream itself, so a test of a stalled peer gives its stream short deadlines here.
 */
export function setStreamDeadlines(stream: Stream, deadlines: Partial<StreamDeadlines>): void {
  deadlinesByStream.set(stream, { ...DEFAULT_STREAM_DEADLINES, ...deadlines })
}

/** Combine an optional outer signal (node stopping) with a deadline. */
export function deadline(ms: number, outer?: AbortSignal): AbortSignal {
  const timeout = AbortSignal.timeout(ms)
  return outer ? AbortSignal.any([outer, timeout]) : timeout
}

/** Map whatever a stream operation threw to a HashmeshError with a useful code. */
export function asNetError(err: unknown, what: string): HashmeshError {
  if (isHashmeshError(err)) return err
  const e = err as { name?: string; message?: string }
  const name = e?.name ?? ''
  // a stream or connection may reject with the DOM Event that ended it: it has a type, no message
  // (operators saw "open sync stream: [object Event]")
  const detail = err instanceof Event ? (err.type === 'close' ? 'the connection closed' : `the connection ended (${err.type})`) : e?.message ?? String(err)
  const message = `${what}: ${detail}`
  if (name === 'TimeoutError' || name === 'AbortError') return new HashmeshError('TIMEOUT', message, { cause: err })
  if (name === 'InvalidDataLengthError' || name === 'InvalidMessageLengthError' || name === 'InvalidDataLengthLengthError') {
    return new HashmeshError('PROTOCOL', message, { cause: err })
  }
  if (name === 'UnexpectedEOFError') return new HashmeshError('PROTOCOL', message, { cause: err })
  if (name === 'UnsupportedProtocolError') return new HashmeshError('PEER_REFUSED', message, { cause: err })
  return new HashmeshError('NODE_UNREACHABLE', message, { cause: err })
}

export class FramedStream {
  private readonly lp: LengthPrefixedStream<Stream>
  readonly deadlines: Readonly<StreamDeadlines>

  constructor(
    readonly stream: Stream,
    private readonly outer?: AbortSignal,
  ) {
    this.lp = lpStream(stream, { maxDataLength: SYNC_LIMITS.maxMessageBytes, maxBufferSize: SYNC_LIMITS.maxMessageBytes + 16 })
    this.deadlines = deadlinesByStream.get(stream) ?? DEFAULT_STREAM_DEADLINES
  }

  /** Next frame, or null when the remote closed its side cleanly between frames. */
  async read(timeoutMs: number = this.deadlines.ioMs): Promise<Uint8Array | null> {
    try {
      return (await this.lp.read({ signal: deadline(timeoutMs, this.outer) })).subarray()
    } catch (err) {
      const name = (err as { name?: string }).name
      // the remote closed its writing side: the conversation is over (a half frame is dropped)
      if (name === 'UnexpectedEOFError' && this.stream.remoteWriteStatus !== 'writable') return null
      throw asNetError(err, 'sync stream read')
    }
  }

  async write(frame: Uint8Array, timeoutMs: number = this.deadlines.ioMs): Promise<void> {
    try {
      await this.lp.write(frame, { signal: deadline(timeoutMs, this.outer) })
    } catch (err) {
      throw asNetError(err, 'sync stream write')
    }
  }

  /** Graceful close; aborts when that does not finish in time. */
  async close(): Promise<void> {
    try {
      await this.stream.close({ signal: AbortSignal.timeout(CLOSE_TIMEOUT_MS) })
    } catch (err) {
      this.abort(err)
    }
  }

  abort(err: unknown): void {
    try {
      this.stream.abort(err instanceof Error ? err : new Error(String(err)))
    } catch (err) {
      safetyCatch(err) // the stream was already closed or reset
    }
  }
}

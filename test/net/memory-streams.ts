/**
 * Connected libp2p streams in memory, for protocol tests without TCP, noise or yamux: @libp2p/utils'
 * streamPair (the mock connection and muxer js-libp2p tests its own protocols with). The streams are real
 * libp2p 3 Stream objects (send, close, abort, backpressure, remote close), so FramedStream, the sync
 * server and the sync client run over them unchanged.
 */
import '../../src/shim.js'
import { streamPair } from '@libp2p/utils'
import type { Connection, Stream } from '@libp2p/interface'
import { SYNC_PROTOCOL } from '../../src/protocol-ids.js'
import { setStreamDeadlines, type StreamDeadlines } from '../../src/net/stream-io.js'
import type { OpenSyncStream } from '../../src/net/sync-client.js'

/** The dialling end and the answering end of one stream. */
export async function memoryStreamPair(protocol: string = SYNC_PROTOCOL): Promise<{ outbound: Stream; inbound: Stream }> {
  const [outbound, inbound] = await streamPair({ protocol })
  return { outbound, inbound }
}

/** What a protocol handler reads from its connection: only the remote peer. */
export function connectionFrom(peerId: string): Connection {
  return { remotePeer: { toString: () => peerId } } as unknown as Connection
}

export type StreamHandler = (stream: Stream, connection: Connection) => Promise<void> | void

export interface MemoryDialer {
  /** For runSyncSession: each call opens a new pair and hands the inbound end to the handler. */
  open: OpenSyncStream
  /** The handler's run on each stream opened so far, settled when it returned. */
  handled: Array<Promise<void>>
  /** The streams opened so far, in order. */
  streams: Array<{ outbound: Stream; inbound: Stream }>
}

/**
 * Streams from the peer `fromPeerId` to a handler, all in memory. `deadlines` (stream-io.ts) apply to both
 * ends, so a stalled peer shows up in milliseconds rather than after the production deadlines.
 */
export function memoryDialer(handler: StreamHandler, fromPeerId: string, deadlines?: Partial<StreamDeadlines>): MemoryDialer {
  const dialer: MemoryDialer = {
    handled: [],
    streams: [],
    open: async (signal) => {
      signal.throwIfAborted()
      const pair = await memoryStreamPair()
      if (deadlines) {
        setStreamDeadlines(pair.outbound, deadlines)
        setStreamDeadlines(pair.inbound, deadlines)
      }
      dialer.streams.push(pair)
      dialer.handled.push(Promise.resolve().then(() => handler(pair.inbound, connectionFrom(fromPeerId))))
      return pair.outbound
    },
  }
  return dialer
}

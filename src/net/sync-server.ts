/**
 * Server side of SYNC_PROTOCOL: answer the requests of one stream in order until the client closes it.
 * Each request costs the peer a rate-limit token: over its rate a peer is slowed down (the answer waits
 * for the token), far over it is refused with RATE_LIMITED; a malformed request counts against the peer, is
 * answered with an error frame and ends the stream.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { Connection, Stream } from '@libp2p/interface'
import { decodeRequest, encodeResponse, type SyncRequest, type SyncResponse } from '../sync/wire.js'
import { serveRequest } from '../sync/serve.js'
import type { NetContext } from './context.js'
import { FramedStream, asNetError } from './stream-io.js'

/** Concurrent sync streams one peer may open to us (per connection). */
export const MAX_INBOUND_SYNC_STREAMS = 2
export const MAX_OUTBOUND_SYNC_STREAMS = 2

export function createSyncHandler(ctx: NetContext): (stream: Stream, connection: Connection) => Promise<void> {
  return async (stream, connection) => {
    const peerId = connection.remotePeer.toString()
    const io = new FramedStream(stream, ctx.signal)
    try {
      for (;;) {
        const frame = await io.read(io.deadlines.idleMs)
        if (frame === null) break
        const waitMs = ctx.hygiene.reserveRequestToken(peerId)
        if (waitMs === undefined) {
          ctx.counters.sync.requestsRateLimited++
          ctx.log('sync.serve.rate_limited', { peer: peerId })
          await io.write(encodeResponse({ type: 'error', code: 'RATE_LIMITED', message: 'too many sync requests, retry later' }))
          break
        }
        if (waitMs > 0) {
          ctx.counters.sync.requestsDelayed++
          await sleep(waitMs, undefined, { signal: ctx.signal })
        }
        let req: SyncRequest
        try {
          req = decodeRequest(frame)
        } catch (err) {
          ctx.counters.sync.protocolErrors++
          ctx.penalize(peerId, 1, 'malformed sync request')
          await io.write(encodeResponse({ type: 'error', code: 'PROTOCOL', message: (err as Error).message }))
          break
        }
        let res: SyncResponse
        try {
          res = await serveRequest(ctx.replica, req)
        } catch (err) {
          ctx.log('sync.serve.replica_failed', { peer: peerId, request: req.type, message: (err as Error).message })
          await io.write(encodeResponse({ type: 'error', code: 'INTERNAL', message: 'the replica failed to answer' }))
          break
        }
        ctx.counters.sync.requestsServed++
        if (res.type === 'records') ctx.counters.sync.recordsServed += res.records.length
        await io.write(encodeResponse(res))
      }
      await io.close()
    } catch (err) {
      const e = asNetError(err, 'sync serve')
      if (e.code === 'TIMEOUT') ctx.counters.sync.timeouts++
      if (e.code === 'PROTOCOL') {
        ctx.counters.sync.protocolErrors++
        ctx.penalize(peerId, 1, 'bad sync frame')
      }
      ctx.log('sync.serve.failed', { peer: peerId, code: e.code, message: e.message })
      io.abort(e)
    }
  }
}

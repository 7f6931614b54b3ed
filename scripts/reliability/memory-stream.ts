/**
 * A pair of in-memory streams with the parts of libp2p 3's Stream that the sync code uses (send, close
 * for writing, abort, the 'message' / 'remoteCloseWrite' / 'close' events, remoteWriteStatus), for the
 * sync fuzz targets of scenario g. @libp2p/utils' streamPair (a mock muxer over a mock connection) costs
 * ~10 ms of CPU per session here, which made 10^5 sessions take hours; this one costs well under 1 ms.
 * Delivery is asynchronous (microtasks) and in order, like a connection that never fails by itself: a
 * session can only end in an error the peer or the handler caused. scripts/reliability/fuzz.ts can run
 * the same targets over the real mock muxer instead (params.libp2pStreams = 1) to cross-check.
 */
import type { Stream } from '@libp2p/interface'

type Status = 'open' | 'closed' | 'aborted' | 'reset'

class StreamStateError extends Error {
  override name = 'StreamStateError'
}

function event(type: string, fields: Record<string, unknown> = {}): Event {
  return Object.assign(new Event(type), fields)
}

const noLog = Object.assign(() => undefined, { error: () => undefined, trace: () => undefined, enabled: false })

export class MemoryStream extends EventTarget {
  peer!: MemoryStream
  status: Status = 'open'
  writeStatus: 'writable' | 'closed' = 'writable'
  readStatus: 'readable' | 'closed' = 'readable'
  remoteWriteStatus: 'writable' | 'closed' = 'writable'
  remoteReadStatus: 'readable' | 'closed' = 'readable'
  readonly readBufferLength = 0
  readonly writeBufferLength = 0
  readonly writableNeedsDrain = false
  maxReadBufferLength = 4 * 1024 * 1024
  inactivityTimeout = 0
  readonly log = Object.assign(noLog, { newScope: () => noLog })
  readonly timeline = { open: Date.now() }
  protocol = '/hashmesh/sync/2.0.0'

  constructor(readonly id: string, readonly direction: 'inbound' | 'outbound') {
    super()
  }

  send(data: Uint8Array | { subarray(): Uint8Array }): boolean {
    if (this.status !== 'open' || this.writeStatus !== 'writable') throw new StreamStateError(`cannot write to a stream that is ${this.status}/${this.writeStatus}`)
    const bytes = data instanceof Uint8Array ? data.slice() : data.subarray().slice()
    queueMicrotask(() => this.peer.deliver(bytes))
    return true
  }

  private deliver(bytes: Uint8Array): void {
    if (this.status !== 'open' || this.readStatus !== 'readable') return
    this.dispatchEvent(event('message', { data: bytes }))
  }

  async close(): Promise<void> {
    if (this.status !== 'open' || this.writeStatus !== 'writable') return
    this.writeStatus = 'closed'
    queueMicrotask(() => this.peer.remoteClosedWrite())
    this.maybeClosed()
  }

  async closeRead(): Promise<void> {
    this.readStatus = 'closed'
  }

  private remoteClosedWrite(): void {
    if (this.status !== 'open') return
    this.remoteWriteStatus = 'closed'
    this.dispatchEvent(event('remoteCloseWrite'))
    this.maybeClosed()
  }

  private maybeClosed(): void {
    if (this.status === 'open' && this.writeStatus === 'closed' && this.remoteWriteStatus === 'closed') {
      this.status = 'closed'
      this.dispatchEvent(event('close', { local: true }))
    }
  }

  abort(err: Error): void {
    if (this.status !== 'open') return
    this.status = 'aborted'
    this.writeStatus = 'closed'
    this.dispatchEvent(event('close', { error: err, local: true }))
    queueMicrotask(() => this.peer.reset(err))
  }

  private reset(err: Error): void {
    if (this.status !== 'open') return
    this.status = 'reset'
    this.writeStatus = 'closed'
    this.remoteWriteStatus = 'closed'
    this.dispatchEvent(event('close', { error: Object.assign(new Error(`stream reset by the remote: ${err.message}`), { name: 'StreamResetError' }) }))
  }

  push(data: Uint8Array): void {
    this.deliver(data)
  }

  unshift(data: Uint8Array): void {
    this.deliver(data)
  }

  pause(): void {}
  resume(): void {}
  async onDrain(): Promise<void> {}
}

let next = 0

/** [client side, server side] of one in-memory stream. */
export function memoryStreamPair(): [Stream, Stream] {
  const id = String(next++)
  const a = new MemoryStream(id, 'outbound')
  const b = new MemoryStream(id, 'inbound')
  a.peer = b
  b.peer = a
  return [a as unknown as Stream, b as unknown as Stream]
}

/** Everything `stream` receives until the remote closes its writing side or the stream ends. */
export function readToEnd(stream: Stream): Promise<Uint8Array> {
  return new Promise((resolve) => {
    const parts: Uint8Array[] = []
    const s = stream as unknown as EventTarget & { remoteWriteStatus: string; status: string }
    const done = () => {
      s.removeEventListener('message', onMessage)
      resolve(Uint8Array.from(Buffer.concat(parts)))
    }
    const onMessage = (e: Event) => {
      const data = (e as unknown as { data: Uint8Array | { subarray(): Uint8Array } }).data
      parts.push(data instanceof Uint8Array ? data : data.subarray())
    }
    s.addEventListener('message', onMessage)
    s.addEventListener('remoteCloseWrite', done, { once: true })
    s.addEventListener('close', done, { once: true })
    if (s.remoteWriteStatus !== 'writable' || s.status !== 'open') done()
  })
}

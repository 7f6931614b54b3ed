/**
 * The /status poller's HTTP client (status-poller.mjs): GET /status on one keep-alive TCP connection, the
 * request written by `socket.write` itself, so that "asked" is stamped just before the write system call.
 *
 * Why not node's http client: its request is written a tick after `request()` returns, after building the
 * ClientRequest and assigning the agent's socket. In one traced restart the poller lost its CPU in that window
 * (to its own optimizing compiler's thread, the other CPU running the server's idle-priority build worker) for
 * 11 ms: the request left 11 ms after it was stamped, while the server's main thread slept in epoll_wait, and
 * bench-hma counted those 11 ms as the server's (perf sched_switch, 2026-12-01). The server's answers here are
 * short and always carry content-length (fastify); anything else ends the connection, and the next ask opens
 * a new one.
 */
import { connect } from 'node:net'
import { monotonicMs } from './status-wire.mjs'

const HEADER_END = Buffer.from('\r\n\r\n')
/** An answer larger than this is not a /status answer: the connection is dropped. */
const MAX_ANSWER_BYTES = 64 * 1024

export class StatusClient {
  /** `url`: the server's base URL (http://host:port). */
  constructor(url, token, seqHeader) {
    const { hostname, port } = new URL(url)
    this.host = hostname.replace(/^\[|\]$/g, '')
    this.port = Number(port)
    this.head = `host: ${hostname}:${port}\r\nauthorization: Bearer ${token}\r\n${seqHeader}: `
    this.socket = undefined
    this.pending = undefined
    this.buffered = Buffer.alloc(0)
  }

  /** Asks GET /status as request `seq`: the status code (-1: no answer) and when the request was written. */
  ask(seq) {
    return new Promise((resolve) => {
      const socket = this.socket ?? this.open()
      this.pending = (status) => {
        this.pending = undefined
        resolve({ status, askedAt })
      }
      const request = `GET /status HTTP/1.1\r\n${this.head}${seq}\r\n\r\n`
      const askedAt = monotonicMs()
      socket.write(request)
    })
  }

  /** Ends the connection; an ask still waiting gets -1 (the dropped connection's own 'close' comes too late for it). */
  close() {
    this.socket?.destroy()
    this.socket = undefined
    this.pending?.(-1)
  }

  /** @private */
  open() {
    const socket = connect({ host: this.host, port: this.port, noDelay: true })
    this.socket = socket
    this.buffered = Buffer.alloc(0)
    // (once per connection, and only for an ask on it: a dropped connection's late 'close' is not the next one's answer)
    const fail = () => {
      socket.destroy()
      if (this.socket !== socket) return
      this.socket = undefined
      this.pending?.(-1)
    }
    socket.on('data', (chunk) => {
      this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk])
      const status = this.answerStatus()
      if (status === undefined) return
      if (status === -1) fail()
      else this.pending?.(status)
    })
    socket.once('error', fail)
    socket.once('close', fail)
    return socket
  }

  /** @private The status of the buffered answer once it is whole (and drops it); undefined: not yet; -1: not an answer. */
  answerStatus() {
    const end = this.buffered.indexOf(HEADER_END)
    if (end < 0) return this.buffered.length > MAX_ANSWER_BYTES ? -1 : undefined
    const head = this.buffered.subarray(0, end).toString('latin1')
    const status = /^HTTP\/1\.1 (\d{3}) /.exec(head)
    const length = /\r\ncontent-length: *(\d+)/i.exec(head)
    if (!status || !length) return -1
    const total = end + HEADER_END.length + Number(length[1])
    if (total > MAX_ANSWER_BYTES) return -1
    if (this.buffered.length < total) return undefined
    this.buffered = this.buffered.subarray(total)
    return Number(status[1])
  }
}

/**
 * An outsider that tries to hold a node's pending-connection slots: raw TCP sockets (no libp2p) that
 * send the multistream-select header and then say nothing more, re-opened whenever the node drops them.
 * Loopback only: it connects to 127.0.0.1 and binds its source to the given loopback addresses.
 */
import { connect, type Socket } from 'node:net'

/** What a libp2p dialer sends first: the varint length (19) and "/multistream/1.0.0\n". */
export const MULTISTREAM_HEADER = Buffer.concat([Buffer.from([19]), Buffer.from('/multistream/1.0.0\n')])
/** Pause before re-opening a dropped socket: re-opening at once turned refusals into a busy loop on 2 cores. */
export const REOPEN_DELAY_MS = 200

export interface AttackerStats {
  /** Sockets connected and not yet closed, now. */
  open: number
  /** Connections made so far, and how many the node closed (refused, timed out, evicted). */
  opened: number
  dropped: number
  /** Open sockets by source address, now. */
  openBySource: Record<string, number>
}

export interface StalledAttacker {
  stats(): AttackerStats
  /** The largest number of sockets open at once so far. */
  peakOpen(): number
  stop(): void
}

/** Keeps `count` stalled sockets aimed at 127.0.0.1:port, spread round-robin over `sources`. */
export function holdStalledSockets(port: number, sources: string[], count: number): StalledAttacker {
  const live = new Set<Socket>()
  const openBySource = new Map<string, number>()
  let opened = 0
  let dropped = 0
  let peak = 0
  let stopped = false
  const timers = new Set<NodeJS.Timeout>()

  const open = (source: string): void => {
    if (stopped) return
    const socket = connect({ host: '127.0.0.1', port, localAddress: source })
    let connected = false
    socket.on('connect', () => {
      connected = true
      opened++
      live.add(socket)
      openBySource.set(source, (openBySource.get(source) ?? 0) + 1)
      peak = Math.max(peak, live.size)
      socket.write(MULTISTREAM_HEADER)
    })
    socket.on('data', () => undefined) // read and ignore the node's answer; never propose a protocol
    socket.on('error', () => undefined)
    socket.on('close', () => {
      if (connected) {
        live.delete(socket)
        openBySource.set(source, openBySource.get(source)! - 1)
        if (!stopped) dropped++
      }
      if (stopped) return
      const timer = setTimeout(() => {
        timers.delete(timer)
        open(source)
      }, REOPEN_DELAY_MS)
      timers.add(timer)
    })
  }
  for (let i = 0; i < count; i++) open(sources[i % sources.length]!)

  return {
    stats: () => ({ open: live.size, opened, dropped, openBySource: Object.fromEntries(openBySource) }),
    peakOpen: () => peak,
    stop() {
      stopped = true
      for (const t of timers) clearTimeout(t)
      for (const s of live) s.destroy()
    },
  }
}

/**
 * The node's side of the incidents fast path (net/priority.ts, docs/protocol.md §9): incidents-topic
 * envelopes in (a notice to the incident book, a record to the replica like any other), and out: every
 * newly accepted notice, and this node's own contributions naming an open incident.
 *
 * A contribution can only be stored after its author's previous record (the feed is a hash chain). On the
 * incidents topic it overtakes that record, which is on the (mesh-only, slower) records topic: a member
 * that does not have it yet holds the contribution as pending until it does, by gossip or by the next sync
 * (seconds, under load; measured in scripts/bench-incident.ts). So each contribution is preceded on the
 * incidents topic by our own records signed since the last one sent there, as long as they are recent
 * (CARRY_WINDOW_MS) and few (MAX_CARRIED, MAX_CARRIED_BYTES): ordinary `record` envelopes, which every
 * node with the fast path stores like any record it receives (a duplicate where it had them already).
 */
import type { PriorityAccess } from '../net/index.js'
import { decodePriorityMessage, encodePriorityMessage } from '../record/priority-wire.js'
import type { VerifiedRecord } from '../record/types.js'
import type { ReceiveResult } from '../sync/types.js'
import { isHashmeshError } from '../errors.js'
import type { IncidentBook } from './incidents.js'

export interface IncidentWiring {
  access: PriorityAccess
  /**
   * Envelopes of the records (of a batch of our own) that name an open incident, each preceded by our own
   * recent records not yet sent on the incidents topic. Called with every batch of our own records, in order.
   */
  priorityOf(records: VerifiedRecord[]): Uint8Array[]
  /** Called with the envelope of each newly accepted notice. */
  onNotice(listener: (envelope: Uint8Array) => void): void
}

/**
 * Our own records carried ahead of a contribution on the incidents topic were stored at most this long
 * before it (stored here, not signed: on a busy node a record may wait in the write queue for seconds
 * after its timestamp, and is then as fresh to the network as if just signed),
 */
export const CARRY_WINDOW_MS = 10_000
/** at most this many, */
export const MAX_CARRIED = 16
/** and at most this many bytes together (one record at its size limit; ~5 records of 1,000 PDQ signals). */
export const MAX_CARRIED_BYTES = 256 * 1024

export function incidentWiring(incidents: IncidentBook, receive: (records: Uint8Array[]) => Promise<ReceiveResult[]>, now: () => number = Date.now): IncidentWiring {
  /** Our own records since the last one sent on the incidents topic, oldest first (at most MAX_CARRIED), with when each was stored. */
  let unsent: Array<VerifiedRecord & { storedAt: number }> = []
  const priorityOf = (records: VerifiedRecord[]): Uint8Array[] => {
    const out: Uint8Array[] = []
    for (const r of records) {
      if (incidents.incidentOf(r.record) === undefined) {
        unsent.push({ ...r, storedAt: now() })
        if (unsent.length > MAX_CARRIED) unsent.shift()
        continue
      }
      // the newest records right before this one, so that what is carried links up to it
      const since = now() - CARRY_WINDOW_MS
      let bytes = 0
      let from = unsent.length
      while (from > 0) {
        const prev = unsent[from - 1]!
        if (prev.record.seq !== (unsent[from]?.record.seq ?? r.record.seq) - 1 || prev.storedAt < since || bytes + prev.bytes.byteLength > MAX_CARRIED_BYTES) break
        bytes += prev.bytes.byteLength
        from--
      }
      for (const prev of unsent.slice(from)) out.push(encodePriorityMessage({ type: 'record', bytes: prev.bytes }))
      out.push(encodePriorityMessage({ type: 'record', bytes: r.bytes }))
      unsent = []
    }
    return out
  }
  return {
    access: {
      async receive(message) {
        let decoded
        try {
          decoded = decodePriorityMessage(message)
        } catch (err) {
          if (!isHashmeshError(err)) throw err
          return { verdict: 'rejected', code: err.code, message: err.message }
        }
        if (decoded.type === 'notice') return { ...(await incidents.receive(decoded.bytes)), notice: true }
        return (await receive([decoded.bytes]))[0]!
      },
      openNotices: () => incidents.openNotices().map((bytes) => encodePriorityMessage({ type: 'notice', bytes })),
    },
    priorityOf,
    onNotice: (listener) => incidents.onNotice((_state, bytes) => listener(encodePriorityMessage({ type: 'notice', bytes }))),
  }
}

/**
 * The node's side of the incidents fast path (net/priority.ts, docs/protocol.md §9): incidents-topic
 * envelopes in (a notice to the incident book, a record to the replica like any other), and out: every
 * newly accepted notice, and this node's own contributions naming an open incident.
 */
import type { PriorityAccess } from '../net/index.js'
import { decodePriorityMessage, encodePriorityMessage } from '../record/priority-wire.js'
import type { VerifiedRecord } from '../record/types.js'
import type { ReceiveResult } from '../sync/types.js'
import { isHashmeshError } from '../errors.js'
import type { IncidentBook } from './incidents.js'

export interface IncidentWiring {
  access: PriorityAccess
  /** Envelopes of the records (of a batch of our own) that name an open incident. */
  priorityOf(records: VerifiedRecord[]): Uint8Array[]
  /** Called with the envelope of each newly accepted notice. */
  onNotice(listener: (envelope: Uint8Array) => void): void
}

export function incidentWiring(incidents: IncidentBook, receive: (records: Uint8Array[]) => Promise<ReceiveResult[]>): IncidentWiring {
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
    priorityOf: (records) => records.filter(({ record }) => incidents.incidentOf(record) !== undefined).map(({ bytes }) => encodePriorityMessage({ type: 'record', bytes })),
    onNotice: (listener) => incidents.onNotice((_state, bytes) => listener(encodePriorityMessage({ type: 'notice', bytes }))),
  }
}

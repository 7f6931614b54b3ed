/**
 * Messages of the incidents topic (docs/protocol.md §9): an incident notice, or a contribution record that
 * names an open incident, each in a small canonical dag-cbor envelope so one topic carries both:
 *
 *   message = { type: "notice", notice: bytes } | { type: "record", record: bytes }
 */
import * as dagCbor from '@ipld/dag-cbor'
import { RECORD_LIMITS } from '../constants.js'
import { fail } from '../errors.js'
import { decodeCanonical } from './canonical-decode.js'
import { isWireMap } from './body-wire.js'

export type PriorityMessage = { type: 'notice' | 'record'; bytes: Uint8Array }

/** Largest message: a record at its limit plus the envelope. */
export const MAX_PRIORITY_MESSAGE_BYTES = RECORD_LIMITS.maxRecordBytes + 64

export function encodePriorityMessage(m: PriorityMessage): Uint8Array {
  return dagCbor.encode(m.type === 'notice' ? { type: 'notice', notice: m.bytes } : { type: 'record', record: m.bytes })
}

export function decodePriorityMessage(bytes: Uint8Array): PriorityMessage {
  if (bytes.length === 0 || bytes.length > MAX_PRIORITY_MESSAGE_BYTES) fail('RECORD_TOO_LARGE', `incidents topic message of ${bytes.length} bytes (limit ${MAX_PRIORITY_MESSAGE_BYTES})`)
  let wire: unknown
  try {
    wire = decodeCanonical(bytes)
  } catch (cause) {
    fail('RECORD_DECODE', `incidents topic message is not canonical dag-cbor: ${(cause as Error).message}`, { cause })
  }
  if (!isWireMap(wire) || Object.keys(wire).length !== 2) fail('RECORD_DECODE', 'incidents topic message must be a map of type and payload')
  if (wire.type === 'notice' && wire.notice instanceof Uint8Array) return { type: 'notice', bytes: wire.notice }
  if (wire.type === 'record' && wire.record instanceof Uint8Array) return { type: 'record', bytes: wire.record }
  fail('RECORD_KIND', 'unknown incidents topic message')
}

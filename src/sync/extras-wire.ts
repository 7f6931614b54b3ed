/**
 * Extras: signed objects that travel besides feeds, in sync sessions and on the extras gossip topic.
 *
 *   extra = dagCbor({ type: 'roster', roster: bytes })
 *         | dagCbor({ type: 'equivocation', records: [bytesLow, bytesHigh] })   (ids ascending: one encoding per proof)
 *
 * Decoding is bounded (SYNC_LIMITS.maxExtraBytes) and checks shapes only; the roster chain and the proof's
 * signatures are checked by their owners (node/roster-state.ts, record/equivocation.ts).
 */
import * as dagCbor from '@ipld/dag-cbor'
import { fail, isHashmeshError } from '../errors.js'
import { isWireMap } from '../record/body-wire.js'
import type { EquivocationProof } from '../record/equivocation.js'
import { SYNC_LIMITS } from '../constants.js'
import { decodeDagCborBounded, type DecodeBounds } from './bounded-decode.js'

/** An extra is a map of two entries, one of them at most a list of two records: counted while decoding. */
const EXTRA_BOUNDS: DecodeBounds = { maxItems: 2, maxDepth: 2, maxValues: 8 }

export type DecodedExtra = { type: 'roster'; roster: Uint8Array } | { type: 'equivocation'; records: unknown }

export function encodeRosterExtra(roster: Uint8Array): Uint8Array {
  return dagCbor.encode({ type: 'roster', roster })
}

export function encodeProofExtra(proof: Pick<EquivocationProof, 'records'>): Uint8Array {
  return dagCbor.encode({ type: 'equivocation', records: proof.records })
}

export function decodeExtra(bytes: Uint8Array): DecodedExtra {
  if (bytes.length > SYNC_LIMITS.maxExtraBytes) fail('RECORD_TOO_LARGE', `extra of ${bytes.length} bytes is over ${SYNC_LIMITS.maxExtraBytes}`)
  let wire: unknown
  try {
    wire = decodeDagCborBounded(bytes, EXTRA_BOUNDS, { code: 'RECORD_DECODE', what: 'extra' })
  } catch (cause) {
    if (isHashmeshError(cause)) throw cause
    fail('RECORD_DECODE', 'extra is not dag-cbor', { cause })
  }
  if (!isWireMap(wire)) fail('RECORD_DECODE', 'extra must be a map')
  if (wire.type === 'roster' && wire.roster instanceof Uint8Array) return { type: 'roster', roster: wire.roster }
  if (wire.type === 'equivocation') return { type: 'equivocation', records: wire.records }
  fail('RECORD_KIND', 'unknown extra type')
}

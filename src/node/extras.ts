/**
 * Signed objects that travel besides feeds: roster versions and equivocation proofs.
 *   extra = dagCbor({ type: 'roster', roster: bytes }) | dagCbor({ type: 'equivocation', records: [bytes, bytes] })
 * An equivocation proof is valid when both records verify, share author and seq, differ, and the author is a member.
 */
import * as dagCbor from '@ipld/dag-cbor'
import { fail, isHashmeshError } from '../errors.js'
import { decodeAndVerify } from '../record/codec.js'
import { isWireMap } from '../record/body-wire.js'
import type { ReceiveResult } from '../sync/types.js'
import type { HashmeshNode } from './node.js'

export const MAX_EXTRA_BYTES = 600 * 1024

export function encodeRosterExtra(roster: Uint8Array): Uint8Array {
  return dagCbor.encode({ type: 'roster', roster })
}

export function encodeProofExtra(records: [Uint8Array, Uint8Array]): Uint8Array {
  return dagCbor.encode({ type: 'equivocation', records })
}

export async function allExtras(node: HashmeshNode): Promise<Uint8Array[]> {
  const rosters = node.roster.encodedVersions().map(encodeRosterExtra)
  const proofs = (await node.store.equivocationProofs()).map((p) => encodeProofExtra(p.records))
  return [...rosters, ...proofs]
}

export async function receiveExtra(node: HashmeshNode, bytes: Uint8Array): Promise<ReceiveResult> {
  try {
    if (bytes.length > MAX_EXTRA_BYTES) fail('RECORD_TOO_LARGE', 'extra is too large')
    let wire: unknown
    try {
      wire = dagCbor.decode(bytes)
    } catch (cause) {
      fail('RECORD_DECODE', 'extra is not dag-cbor', { cause })
    }
    if (!isWireMap(wire)) fail('RECORD_DECODE', 'extra must be a map')
    if (wire.type === 'roster' && wire.roster instanceof Uint8Array) {
      const { roster: _r, ...result } = await node.installRoster(wire.roster, false)
      return result
    }
    if (wire.type === 'equivocation' && Array.isArray(wire.records) && wire.records.length === 2) {
      const [a, b] = wire.records.map((r) => {
        if (!(r instanceof Uint8Array)) fail('RECORD_DECODE', 'proof records must be bytes')
        return decodeAndVerify(r)
      })
      if (a!.record.author !== b!.record.author || a!.record.seq !== b!.record.seq || a!.record.id === b!.record.id) {
        fail('RECORD_INVALID', 'an equivocation proof needs two different records of one author at one seq')
      }
      if (!node.roster.isMember(a!.record.author)) fail('UNKNOWN_AUTHOR', 'proof about a non-member')
      if (node.store.isEquivocating(a!.record.author)) return { verdict: 'duplicate' }
      await node.store.storeEquivocationProof(a!.record.author, a!.record.seq, a!.bytes, b!.bytes)
      return { verdict: 'accepted' }
    }
    fail('RECORD_KIND', 'unknown extra type')
  } catch (err) {
    if (!isHashmeshError(err)) throw err
    return { verdict: 'rejected', code: err.code, message: err.message }
  }
}

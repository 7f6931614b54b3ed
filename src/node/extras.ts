/**
 * Receiving and listing extras (sync/extras-wire.ts): roster versions and equivocation proofs.
 * A proof is accepted when both records verify, share author and seq, differ, and the author is a member;
 * it is kept when it is the feed's first or better than the one held (record/equivocation.ts).
 */
import { isHashmeshError } from '../errors.js'
import { verifyProofRecords } from '../record/equivocation.js'
import { decodeExtra, encodeProofExtra, encodeRosterExtra } from '../sync/extras-wire.js'
import type { ReceiveResult } from '../sync/types.js'
import type { HashmeshNode } from './node.js'

export async function allExtras(node: HashmeshNode): Promise<Uint8Array[]> {
  const rosters = node.roster.encodedVersions().map(encodeRosterExtra)
  const proofs = (await node.store.equivocationProofs()).map(encodeProofExtra)
  return [...rosters, ...proofs]
}

export async function receiveExtra(node: HashmeshNode, bytes: Uint8Array): Promise<ReceiveResult> {
  try {
    const extra = decodeExtra(bytes)
    if (extra.type === 'roster') {
      const { roster: _r, ...result } = await node.installRoster(extra.roster, false)
      return result
    }
    const proof = verifyProofRecords(extra.records)
    if (!node.roster.isMember(proof.feed)) return { verdict: 'rejected', code: 'UNKNOWN_AUTHOR', message: 'proof about a non-member' }
    return { verdict: await node.store.storeEquivocationProof(proof) }
  } catch (err) {
    if (!isHashmeshError(err)) throw err
    return { verdict: 'rejected', code: err.code, message: err.message }
  }
}

/**
 * Receiving and listing extras (sync/extras-wire.ts): roster versions and equivocation proofs.
 * A proof is accepted when both records verify, share author and seq, differ, and the author is a member;
 * it is kept when it is the feed's first or better than the one held (record/equivocation.ts).
 */
import { isHashmeshError } from '../errors.js'
import { verifyProofRecords } from '../record/equivocation.js'
import type { ReplicaStore } from '../store/replica-store.js'
import { decodeExtra, encodeProofExtra, encodeRosterExtra } from '../sync/extras-wire.js'
import type { ReceiveResult } from '../sync/types.js'
import type { RosterState } from './roster-state.js'

export interface ExtrasParts {
  store: ReplicaStore
  roster: RosterState
  /** Installs a roster version received from a peer (never trusted to pin a genesis). */
  installRoster(bytes: Uint8Array): Promise<ReceiveResult>
}

export async function allExtras({ store, roster }: ExtrasParts): Promise<Uint8Array[]> {
  const rosters = roster.encodedVersions().map(encodeRosterExtra)
  const proofs = (await store.equivocationProofs()).map(encodeProofExtra)
  return [...rosters, ...proofs]
}

export async function receiveExtra(parts: ExtrasParts, bytes: Uint8Array): Promise<ReceiveResult> {
  try {
    const extra = decodeExtra(bytes)
    if (extra.type === 'roster') return await parts.installRoster(extra.roster)
    const proof = verifyProofRecords(extra.records)
    if (!parts.roster.isMember(proof.feed)) return { verdict: 'rejected', code: 'UNKNOWN_AUTHOR', message: 'proof about a non-member' }
    return { verdict: await parts.store.storeEquivocationProof(proof) }
  } catch (err) {
    if (!isHashmeshError(err)) throw err
    return { verdict: 'rejected', code: err.code, message: err.message }
  }
}

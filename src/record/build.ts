/** Building the node's own records: fill in the envelope, sign, then check the result as a received one. */
import { RECORD_FORMAT_VERSION } from '../constants.js'
import { fail } from '../errors.js'
import { signAsDecoded } from './codec.js'
import type { Signer } from './crypto.js'
import type { OpinionBody, RecordKind, RevokeBody, SignalsBody, UnsignedRecord, VerifiedRecord } from './types.js'

export interface ChainPosition {
  /** seq of the last record in the feed (0 for an empty feed). */
  seq: number
  /** id of the last record, null for an empty feed. */
  id: string | null
}

type BodyOf<K extends RecordKind> = K extends 'signals' ? SignalsBody : K extends 'revoke' ? RevokeBody : OpinionBody

/**
 * Creates the next record of the signer's feed after `head`. Its body is read back from what was encoded
 * (codec.signAsDecoded) so that an own record passes the checks a received one does, and is the record its
 * bytes decode to.
 */
export function createRecord<K extends RecordKind>(signer: Signer, head: ChainPosition, kind: K, body: BodyOf<K>, timestamp = Date.now()): VerifiedRecord {
  if ((head.seq === 0) !== (head.id === null)) fail('RECORD_INVALID', 'head must have an id exactly when seq > 0')
  const unsigned = {
    version: RECORD_FORMAT_VERSION,
    kind,
    author: signer.publicKeyHex,
    seq: head.seq + 1,
    prev: head.id,
    timestamp,
    body,
  } as UnsignedRecord
  return signAsDecoded(unsigned, signer)
}

/**
 * Every record from outside the node (gossip, sync, import) passes here, in this order:
 * bounded decode -> signature -> author is a roster member -> store (chain checks, atomic append).
 */
import { isHashmeshError } from '../errors.js'
import { decodeRecord, verifyDecoded } from '../record/codec.js'
import type { VerifiedRecord } from '../record/types.js'
import type { ReplicaStore } from '../store/replica-store.js'
import type { ReceiveResult } from '../sync/types.js'

export async function receiveRecords(store: ReplicaStore, isMember: (key: string) => boolean, items: Uint8Array[]): Promise<ReceiveResult[]> {
  const results: (ReceiveResult | undefined)[] = new Array(items.length)
  const verified: VerifiedRecord[] = []
  const positions: number[] = []
  items.forEach((bytes, i) => {
    try {
      const decoded = decodeRecord(bytes)
      verifyDecoded(decoded)
      if (!isMember(decoded.record.author)) {
        results[i] = { verdict: 'rejected', id: decoded.record.id, code: 'UNKNOWN_AUTHOR', message: `author ${decoded.record.author.slice(0, 16)}… is not a member of the roster` }
        return
      }
      verified.push({ record: decoded.record, bytes: Uint8Array.from(decoded.bytes) })
      positions.push(i)
    } catch (err) {
      if (!isHashmeshError(err)) throw err
      results[i] = { verdict: 'rejected', code: err.code, message: err.message }
    }
  })
  if (verified.length > 0) {
    const stored = await store.appendVerified(verified)
    stored.forEach((r, k) => (results[positions[k]!] = r))
  }
  return results as ReceiveResult[]
}

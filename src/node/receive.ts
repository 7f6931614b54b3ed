/**
 * Every record from outside the node (gossip, sync, import) passes here, in this order:
 * bounded decode -> signature (on every core for large batches) -> author is a roster member
 * -> store (chain checks, atomic append).
 */
import { isHashmeshError } from '../errors.js'
import { decodeRecord, type DecodedRecord } from '../record/codec.js'
import type { ParallelVerifier } from '../record/parallel-verify.js'
import type { VerifiedRecord } from '../record/types.js'
import type { ReplicaStore } from '../store/replica-store.js'
import type { ReceiveResult } from '../sync/types.js'

/** Records are decoded in chunks; each chunk's signatures are verified (on a worker) while the next decodes. */
const CHUNK = 128

export async function receiveRecords(store: ReplicaStore, verifier: ParallelVerifier, isMember: (key: string) => boolean, items: Uint8Array[]): Promise<ReceiveResult[]> {
  const results: (ReceiveResult | undefined)[] = new Array(items.length)
  const decoded: Array<{ at: number; record: DecodedRecord }> = []
  const verdicts: Promise<boolean[]>[] = []
  for (let start = 0; start < items.length; start += CHUNK) {
    const chunk: DecodedRecord[] = []
    for (let at = start; at < Math.min(items.length, start + CHUNK); at++) {
      try {
        const record = decodeRecord(items[at]!)
        decoded.push({ at, record })
        chunk.push(record)
      } catch (err) {
        if (!isHashmeshError(err)) throw err
        results[at] = { verdict: 'rejected', code: err.code, message: err.message }
      }
    }
    verdicts.push(verifier.verifyChunk(chunk.map((d) => ({ message: d.signing, signature: d.signatureBytes, key: d.authorBytes }))))
  }
  const valid = (await Promise.all(verdicts)).flat()
  const verified: VerifiedRecord[] = []
  const positions: number[] = []
  decoded.forEach(({ at, record: d }, k) => {
    const { record } = d
    if (!valid[k]) {
      results[at] = { verdict: 'rejected', id: record.id, code: 'SIGNATURE_INVALID', message: `signature of record ${record.id} does not verify` }
    } else if (!isMember(record.author)) {
      results[at] = { verdict: 'rejected', id: record.id, code: 'UNKNOWN_AUTHOR', message: `author ${record.author.slice(0, 16)}… is not a member of the roster` }
    } else {
      verified.push({ record, bytes: d.bytes })
      positions.push(at)
    }
  })
  if (verified.length > 0) {
    const stored = await store.appendVerified(verified)
    stored.forEach((r, k) => (results[positions[k]!] = r))
  }
  return results as ReceiveResult[]
}

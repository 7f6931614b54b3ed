/**
 * Order-independent digest of a set of extras: SHA-256 over the sorted SHA-256s of the items.
 * Sent with heads so a client skips fetching extras when both sides already hold the same set.
 */
import { createHash } from 'node:crypto'

export function extrasDigest(items: readonly Uint8Array[]): Uint8Array {
  const itemHashes = [...new Set(items.map((item) => createHash('sha256').update(item).digest('hex')))].sort()
  const outer = createHash('sha256')
  for (const hex of itemHashes) outer.update(Buffer.from(hex, 'hex'))
  return new Uint8Array(outer.digest())
}

export function sameDigest(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.compare(a, b) === 0
}

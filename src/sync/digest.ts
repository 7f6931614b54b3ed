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

/** One feed as the replica digest sees it: its head, or for a frozen feed its fork and the prefix before it. */
export type DigestFeed =
  | { feed: string; seq: number; id: string }
  | { feed: string; forkSeq: number; prefixId: string | undefined; proofIds: readonly [string, string] }

/**
 * A digest of what honest nodes must agree on once they have exchanged everything: the head of every
 * feed that did not fork, and for a feed that forked its best proof and the common prefix before the
 * fork (beyond it each node keeps the branch it had, so heads there differ by design). Two nodes with
 * the same digest hold the same replica up to forks, and the same proof set.
 */
export function replicaDigest(feeds: readonly DigestFeed[]): string {
  const lines = feeds.map((f) =>
    'forkSeq' in f ? `${f.feed} fork ${f.forkSeq} ${f.prefixId ?? '-'} ${f.proofIds.join(',')}` : `${f.feed} head ${f.seq} ${f.id}`,
  )
  const hash = createHash('sha256')
  for (const line of lines.sort()) hash.update(line + '\n')
  return hash.digest('hex')
}

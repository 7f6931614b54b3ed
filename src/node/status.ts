/** What a node says about itself: status, the replica digest, the equivocation proofs it holds. */
import type { EquivocationProof } from '../record/equivocation.js'
import type { ReplicaStore } from '../store/replica-store.js'
import { replicaDigest, type DigestFeed } from '../sync/digest.js'
import type { FeedHead } from '../sync/types.js'
import type { RosterState } from './roster-state.js'

export interface NodeStatus {
  member: { name: string; key: string }
  peerId: string
  records: number
  signals: number
  recordsByKind: Record<string, number>
  feeds: number
  heads: Array<FeedHead & { member: string | null; equivocating: boolean; forkSeq: number | null }>
  pending: number
  equivocations: number
  index: { ready: boolean; pdqHashes: number; memoryBytes: number }
  roster: { federation: string; serial: number; id: string; members: number } | null
}

interface NodeFacts {
  identity: { name: string; memberKey: string; peerId: string }
  memberName(key: string): string | undefined
  indexStats(): NodeStatus['index']
}

export function statusOf(node: NodeFacts, store: ReplicaStore, roster: RosterState): NodeStatus {
  const counts = store.getCounts()
  const current = roster.current
  return {
    member: { name: node.identity.name, key: node.identity.memberKey },
    peerId: node.identity.peerId,
    records: counts.records,
    signals: counts.signals,
    recordsByKind: counts.byKind,
    feeds: counts.feeds,
    heads: store.feedHeads().map((h) => ({ ...h, member: node.memberName(h.feed) ?? null, equivocating: store.isEquivocating(h.feed), forkSeq: store.forkSeq(h.feed) ?? null })),
    pending: counts.pending,
    equivocations: counts.equivocations,
    index: node.indexStats(),
    roster: current ? { federation: current.document.federation, serial: current.document.serial, id: current.id, members: current.document.members.length } : null,
  }
}

/** The replica digest of docs/protocol.md §3.1 over what the store holds. */
export async function replicaDigestOf(store: ReplicaStore): Promise<string> {
  const proofs = new Map((await store.equivocationProofs()).map((p) => [p.feed, p]))
  const feeds: DigestFeed[] = []
  for (const head of store.feedHeads()) {
    const proof = proofs.get(head.feed)
    if (!proof) feeds.push(head)
    else feeds.push({ feed: head.feed, forkSeq: proof.seq, prefixId: proof.seq > 1 ? await store.idAtSeq(head.feed, proof.seq - 1) : '', proofIds: proof.ids })
    proofs.delete(head.feed)
  }
  // a proof can arrive (as an extra) before any record of its feed
  for (const proof of proofs.values()) feeds.push({ feed: proof.feed, forkSeq: proof.seq, prefixId: proof.seq > 1 ? undefined : '', proofIds: proof.ids })
  return replicaDigest(feeds)
}

export interface EquivocationView { feed: string; member: string | null; seq: number; ids: [string, string]; records: [string, string] }

/** Proofs as JSON: both records base64, ascending ids. */
export function equivocationViews(proofs: readonly EquivocationProof[], memberName: (key: string) => string | undefined): EquivocationView[] {
  return proofs.map((p) => ({
    feed: p.feed,
    member: memberName(p.feed) ?? null,
    seq: p.seq,
    ids: p.ids,
    records: [Buffer.from(p.records[0]).toString('base64'), Buffer.from(p.records[1]).toString('base64')],
  }))
}

/**
 * Answering sync requests from a replica, pure of any network: one request in, one response out.
 * Responses respect the limits the client's decoder enforces (SYNC_LIMITS).
 */
import type { FeedHead, ReplicaAccess } from './types.js'
import type { SyncRequest, SyncResponse } from './wire.js'
import { SYNC_LIMITS } from '../constants.js'
import { extrasDigest } from './digest.js'

/** Take items in order while they fit the byte budget; always at least one (each item is already bounded). */
export function fitBudget(items: readonly Uint8Array[], maxItems: number, maxItemBytes: number, budget: number = SYNC_LIMITS.maxBatchBytes): Uint8Array[] {
  const out: Uint8Array[] = []
  let bytes = 0
  for (const item of items) {
    if (out.length >= maxItems || item.byteLength === 0 || item.byteLength > maxItemBytes) break
    if (out.length > 0 && bytes + item.byteLength > budget) break
    out.push(item)
    bytes += item.byteLength
  }
  return out
}

export function pageHeads(all: readonly FeedHead[], after: string | undefined, digest: Uint8Array): SyncResponse {
  const sorted = all.filter((h) => h.seq >= 1).sort((a, b) => (a.feed < b.feed ? -1 : a.feed > b.feed ? 1 : 0))
  const start = after === undefined ? 0 : sorted.findIndex((h) => h.feed > after)
  const rest = start < 0 ? [] : sorted.slice(start)
  const heads = rest.slice(0, SYNC_LIMITS.maxHeadsPerMessage).map((h) => ({ feed: h.feed, seq: h.seq, id: h.id }))
  const res: SyncResponse = { type: 'heads', heads, extrasDigest: digest }
  if (rest.length > heads.length) res.next = heads[heads.length - 1]!.feed
  return res
}

export async function serveRequest(replica: ReplicaAccess, req: SyncRequest): Promise<SyncResponse> {
  switch (req.type) {
    case 'heads':
      return pageHeads(await replica.heads(), req.after, extrasDigest(await replica.extras()))
    case 'range': {
      const count = Math.min(req.count, SYNC_LIMITS.maxRecordsPerRequest)
      const found = await replica.readRange(req.feed, req.from, count)
      const records = fitBudget(found, count, SYNC_LIMITS.maxRecordBytes)
      return { type: 'records', feed: req.feed, from: req.from, records }
    }
    case 'extras': {
      const all = await replica.extras()
      const items = fitBudget(all.slice(req.offset), SYNC_LIMITS.maxExtrasPerMessage, SYNC_LIMITS.maxExtraBytes)
      const next = req.offset + items.length
      return items.length > 0 && next < all.length ? { type: 'extras', items, next } : { type: 'extras', items }
    }
  }
}

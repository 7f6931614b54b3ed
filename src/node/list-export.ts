/**
 * What `hashmesh export --format` writes (issue 16): the signals of a bank, of one or more feeds, or of the
 * whole replica, as lists/ ExportSignal items with the federation's provenance (member, record id, signature
 * status). Feed signals that their author revoked are left out; every record in the replica was verified
 * on the way in, so their signature status is `valid`.
 */
import type { ExportSignal, Provenance } from '../lists/index.js'
import type { SignalsBody } from '../record/types.js'
import type { BankContentView, NodeApi } from './contract.js'

const PAGE = 500

/** Signals of the given feeds (all when none), page by page; each feed is read twice (revocations first). */
export async function* feedSignals(api: NodeApi, feeds?: string[]): AsyncGenerator<ExportSignal> {
  const heads = (await api.feeds()).filter((h) => !feeds || feeds.includes(h.feed))
  for (const head of heads) {
    /** record id -> revoked signal indexes (undefined: the whole record). */
    const revoked = new Map<string, Set<number> | undefined>()
    for (let seq = 1; seq <= head.seq; seq += PAGE) {
      for (const { record } of (await api.feed(head.feed, { from: seq, limit: PAGE })).records) {
        if (record.kind !== 'revoke') continue
        const { target, signal } = record.body
        if (signal === undefined) revoked.set(target, undefined)
        else if (!revoked.has(target) || revoked.get(target)) revoked.set(target, new Set([...(revoked.get(target) ?? []), signal]))
      }
    }
    for (let seq = 1; seq <= head.seq; seq += PAGE) {
      for (const { record } of (await api.feed(head.feed, { from: seq, limit: PAGE })).records) {
        if (record.kind !== 'signals') continue
        const gone = revoked.has(record.id) ? revoked.get(record.id) ?? 'all' : undefined
        if (gone === 'all') continue
        const body = record.body as SignalsBody
        const provenance: Provenance = { member: record.author, record: record.id, signature: 'valid' }
        for (const [index, s] of body.signals.entries()) {
          if (gone?.has(index)) continue
          yield {
            type: s.type === 'md5' && body.contentType === 'video' ? 'video_md5' : s.type,
            value: s.value, labels: body.labels, quality: s.quality, note: body.note, contentType: body.contentType,
            ...(s.frames ? { frames: s.frames } : {}), provenance,
          }
        }
      }
    }
  }
}

/** Signals of a bank, through the banks contract (in process or over HTTP); a member's bank is its feed. */
export async function* bankSignals(api: NodeApi, bank: string): AsyncGenerator<ExportSignal> {
  const view = await api.banks.get(bank)
  if (view.kind === 'member') return yield* feedSignals(api, [view.member!])
  const memberKey = (await api.status()).member.key
  for (let after = 0; ;) {
    const page = await api.banks.listContent(bank, { after, limit: PAGE })
    for (const content of page.content) yield* contentSignals(content, memberKey)
    if (page.next === null || page.content.length === 0) return
    after = page.next
  }
}

function* contentSignals(content: BankContentView, memberKey: string): Generator<ExportSignal> {
  const extra = (content.metadata?.json ?? {}) as { labels?: unknown; quality?: unknown; provenance?: unknown }
  const labels = Array.isArray(extra.labels) ? extra.labels.filter((l): l is string => typeof l === 'string') : []
  const given = typeof extra.provenance === 'object' && extra.provenance !== null ? (extra.provenance as Provenance) : undefined
  const provenance: Provenance | undefined = content.records?.length
    ? { member: memberKey, record: content.records[0], signature: 'valid', source: `${content.bank}/${content.id}` }
    : { ...(given ?? {}), source: `${content.bank}/${content.id}` }
  for (const [type, value] of Object.entries(content.signals)) {
    if (value === undefined) continue
    yield {
      type: type as ExportSignal['type'], value, labels,
      ...(type === 'pdq' && typeof extra.quality === 'number' ? { quality: extra.quality } : {}),
      ...(content.note ? { note: content.note } : {}),
      provenance,
    }
  }
}

/**
 * Offline audit of exported records (for security teams): each record's bounds and signature, each feed's
 * hash chain (seq contiguous, prev = id of the previous record), and each author against a list of keys.
 * Pure: no store, no network. The CLI's `hashmesh verify` prints the report.
 */
import { isHashmeshError } from '../errors.js'
import { decodeAndVerify } from './codec.js'

export interface AuditEntry {
  line: number
  ok: boolean
  id?: string
  feed?: string
  seq?: number
  kind?: string
  code?: string
  message?: string
}

export interface AuditReport {
  entries: AuditEntry[]
  valid: number
  invalid: number
  feeds: Record<string, { first: number; last: number; records: number; member?: string }>
}

export function auditRecords(items: Iterable<{ line: number; bytes: Uint8Array | undefined; parseError?: string }>, members: Map<string, string>): AuditReport {
  const entries: AuditEntry[] = []
  const lastOfFeed = new Map<string, { seq: number; id: string }>()
  const feeds: AuditReport['feeds'] = {}
  for (const { line, bytes, parseError } of items) {
    if (!bytes) {
      entries.push({ line, ok: false, code: 'RECORD_DECODE', message: parseError ?? 'unreadable line' })
      continue
    }
    try {
      const { record } = decodeAndVerify(bytes)
      const entry: AuditEntry = { line, ok: true, id: record.id, feed: record.author, seq: record.seq, kind: record.kind }
      const last = lastOfFeed.get(record.author)
      if (!members.has(record.author)) {
        Object.assign(entry, { ok: false, code: 'UNKNOWN_AUTHOR', message: 'author is not in the key list' })
      } else if (last && record.seq !== last.seq + 1) {
        Object.assign(entry, { ok: false, code: 'SEQ_GAP', message: `expected seq ${last.seq + 1} after ${last.seq}` })
      } else if (last && record.prev !== last.id) {
        Object.assign(entry, { ok: false, code: 'PREV_MISMATCH', message: `prev does not point at record ${last.id}` })
      } else if (!last && record.seq === 1 && record.prev !== null) {
        Object.assign(entry, { ok: false, code: 'PREV_MISMATCH', message: 'seq 1 must have no prev' })
      }
      if (entry.ok) {
        lastOfFeed.set(record.author, { seq: record.seq, id: record.id })
        const feed = (feeds[record.author] ??= { first: record.seq, last: record.seq, records: 0, member: members.get(record.author) })
        feed.last = record.seq
        feed.records++
      }
      entries.push(entry)
    } catch (err) {
      if (!isHashmeshError(err)) throw err
      entries.push({ line, ok: false, code: err.code, message: err.message })
    }
  }
  const valid = entries.filter((e) => e.ok).length
  return { entries, valid, invalid: entries.length - valid, feeds }
}

/**
 * Offline audit of exported records (for security teams): each record's bounds and signature, each feed's
 * hash chain (seq contiguous, prev = id of the previous record), each author against a list of keys, and
 * each line's envelope (the id, feed and seq it declares beside the bytes) against the signed bytes.
 * Pure: no store, no network. The CLI's `hashmesh verify` prints the report.
 */
import { isHashmeshError, type ErrorCode } from '../errors.js'
import { decodeAndVerify } from './codec.js'
import type { SignedRecord } from './types.js'

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

/** What an export line says about its record beside the bytes; absent fields are not checked. */
export interface DeclaredEnvelope {
  id?: unknown
  feed?: unknown
  seq?: unknown
}

export interface AuditItem {
  line: number
  bytes: Uint8Array | undefined
  parseError?: string
  declared?: DeclaredEnvelope
}

export interface AuditReport {
  entries: AuditEntry[]
  valid: number
  invalid: number
  feeds: Record<string, { first: number; last: number; records: number; member?: string }>
}

export function auditRecords(items: Iterable<AuditItem>, members: Map<string, string>): AuditReport {
  const entries: AuditEntry[] = []
  const lastOfFeed = new Map<string, { seq: number; id: string }>()
  const feeds: AuditReport['feeds'] = {}
  for (const { line, bytes, parseError, declared } of items) {
    if (!bytes) {
      entries.push({ line, ok: false, code: 'RECORD_DECODE', message: parseError ?? 'unreadable line' })
      continue
    }
    try {
      const { record } = decodeAndVerify(bytes)
      const entry: AuditEntry = { line, ok: true, id: record.id, feed: record.author, seq: record.seq, kind: record.kind }
      const chainProblem = checkChain(record, lastOfFeed.get(record.author), members)
      // A line that misnames its record is reported even when the chain is fine: an auditor reads the id.
      const problem = checkEnvelope(declared, record) ?? chainProblem
      if (problem) Object.assign(entry, { ok: false, ...problem })
      // The chain follows the signed bytes, so a misnamed but well-chained record still links the next one.
      if (!chainProblem) {
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

interface Problem { code: ErrorCode; message: string }

function checkChain(record: SignedRecord, last: { seq: number; id: string } | undefined, members: Map<string, string>): Problem | undefined {
  if (!members.has(record.author)) return { code: 'UNKNOWN_AUTHOR', message: 'author is not in the key list' }
  if (last && record.seq !== last.seq + 1) return { code: 'SEQ_GAP', message: `expected seq ${last.seq + 1} after ${last.seq}` }
  if (last && record.prev !== last.id) return { code: 'PREV_MISMATCH', message: `prev does not point at record ${last.id}` }
  if (!last && record.seq === 1 && record.prev !== null) return { code: 'PREV_MISMATCH', message: 'seq 1 must have no prev' }
  return undefined
}

/** Hex is compared without regard to case; seq must be the same number. */
function checkEnvelope(declared: DeclaredEnvelope | undefined, record: SignedRecord): Problem | undefined {
  if (!declared) return undefined
  const sameHex = (value: unknown, actual: string) => typeof value === 'string' && value.toLowerCase() === actual
  const wrong: string[] = []
  if (declared.id !== undefined && !sameHex(declared.id, record.id)) wrong.push(`id ${JSON.stringify(declared.id)} (signed bytes: ${record.id})`)
  if (declared.feed !== undefined && !sameHex(declared.feed, record.author)) wrong.push(`feed ${JSON.stringify(declared.feed)} (signed bytes: ${record.author})`)
  if (declared.seq !== undefined && declared.seq !== record.seq) wrong.push(`seq ${JSON.stringify(declared.seq)} (signed bytes: ${record.seq})`)
  return wrong.length > 0 ? { code: 'ENVELOPE_MISMATCH', message: `the line declares ${wrong.join(', ')}` } : undefined
}

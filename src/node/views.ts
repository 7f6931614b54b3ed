/** JSON views of records shared by the API and the CLI: the decoded record plus its exact signed bytes. */
import { toHex } from '../record/crypto.js'
import type { SignedRecord, VerifiedRecord } from '../record/types.js'

export interface RecordView {
  record: SignedRecord
  /** Canonical dag-cbor bytes, hex: what the signature covers (after the domain prefix) plus the signature. */
  bytes: string
}

export function recordView({ record, bytes }: VerifiedRecord): RecordView {
  return { record, bytes: toHex(bytes) }
}

/** One line of `hashmesh export` (JSON Lines). */
export interface ExportLine { id: string; feed: string; seq: number; kind: string; bytes: string }

export function exportLine({ record, bytes }: VerifiedRecord): ExportLine {
  return { id: record.id, feed: record.author, seq: record.seq, kind: record.kind, bytes: toHex(bytes) }
}

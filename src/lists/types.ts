/**
 * Hash lists in and out (issue 16): the one shape every format reader yields and every writer takes.
 * A reader streams a file or a stream and yields, per line (or per item of a JSON document), either a
 * signal or a rejection with the line number and a code; it never drops a malformed line silently.
 * Whole-input problems (wrong format, zip, a line over the limit) are thrown as HashmeshError.
 *
 * Stable interface: exchanges (TCAP, ThreatExchange, URL, file) consume these readers. Add fields, do not
 * rename them.
 */
import type { BankSignalType } from '../bank/types.js'
import type { TaxonomyRules } from '../record/taxonomy.js'
import type { VpdqFrame } from '../record/types.js'

/** Formats, by the name `--format` takes. */
export const LIST_FORMATS = [
  'jsonl', //      hashmesh's own signed records (export / import), one JSON object per line
  'hashes', //     plain "type value [quality]" lines
  'hash-tsv', //   what `hashmesh hash` prints: path, pdq, quality, md5, sha256 (tab-separated)
  'te-local', //   python-threatexchange local_file: "signal_type signal" per line
  'te-csv', //     python-threatexchange `dataset -P --csv`: collab,signal_type,signal_str,category,tags
  'hma', //        HMA bank content as JSON Lines: {signals:{type:value}, note?, metadata?} or a /signal body
  'csv', //        CSV with a header and a column map (RFC 4180)
  'tsv', //        the same, tab-separated
  'misp', //       a MISP event (JSON)
  'stix', //       a STIX 2.1 bundle (JSON)
] as const
export type ListFormat = (typeof LIST_FORMATS)[number]

/** Signal type names in lists: HMA's (`pdq`, `video_md5`) and hashmesh's (`md5`, `sha256`, `vpdq`). */
export type ListSignalType = BankSignalType

/** Where a signal came from in the federation, when the format carries it. */
export interface Provenance {
  /** Member feed key (hex). */
  member?: string
  memberName?: string
  /** Record id (hex) carrying the signal. */
  record?: string
  /** Signature status of that record as the exporter saw it. */
  signature?: 'valid' | 'invalid' | 'unverified'
  /** A collaboration, bank, MISP event or STIX object id the line named. */
  source?: string
}

export interface ListSignal {
  kind: 'signal'
  /** 1-based line of the input (for JSON documents: the item's position in its array, 1-based). */
  line: number
  type: ListSignalType
  /** Lower-case hex of the type's length; vpdq values are the record's frame-list digest. */
  value: string
  labels?: string[]
  quality?: number
  note?: string
  /** `photo` or `video` when the format says. */
  contentType?: string
  frames?: VpdqFrame[]
  provenance?: Provenance
  /** Its index among its record's signals (jsonl records): what a revocation of one signal names. */
  signalIndex?: number
}

/**
 * A signed revocation read from a hashmesh export (jsonl, readImportBatches only): its author withdraws
 * the signals of `target` (only signal `signal` when given). A bank import removes what it holds of them.
 */
export interface ListRevocation {
  kind: 'revocation'
  line: number
  author: string
  target: string
  signal?: number
}

/** Why a line was not taken. */
export const LINE_CODES = [
  'MALFORMED', //     not a line of this format (bad JSON, missing column, …)
  'BAD_HEX', //       value is not hex
  'BAD_LENGTH', //    hex of the wrong length for its type
  'UNKNOWN_TYPE', //  signal type hashmesh does not know (url, raw_text, …)
  'BAD_LABEL', //     label not in the taxonomy (with unknownLabels: 'error')
  'LOW_QUALITY', //   PDQ quality under the gate (import)
  'DUPLICATE', //     the same signal earlier in the input (import)
  'UNSUPPORTED', //   known but not importable here (vpdq without frames into a feed, …)
  'REFUSED', //       the node refused it (import: the node's error code follows in the message)
] as const
export type LineCode = (typeof LINE_CODES)[number]

export interface ListRejection {
  kind: 'rejected'
  line: number
  code: LineCode
  message: string
}

export type ListItem = ListSignal | ListRejection | ListRevocation

/**
 * Lines that hold a PDQ hash and nothing else, packed (readImportBatches): `lines[i]`'s hash is
 * `words[8i .. 8i + 8)`, big-endian words of its hex (hash256 hexToWords). Line i means exactly what
 * `{ kind: 'signal', line: lines[i], type: 'pdq', value }` would, with no other field; a reader packs only
 * the lines it would turn into such a signal, so a million-line list costs no object and no string per hash.
 * The arrays are views a reader reuses once the next batch is asked for: copy what is kept longer.
 */
export interface PackedPdq {
  kind: 'packed-pdq'
  count: number
  lines: Uint32Array
  words: Uint32Array
}

/** What readImportBatches yields: items, or packed PDQ lines; in line order across batches. */
export type ListBatch = ListItem[] | PackedPdq

export type UnknownLabelMode = 'error' | 'drop' | 'keep'

/** Column map for csv/tsv: which header names hold what (`--map hash=pdq_hash,type=hash_type,label=tags`). */
export interface ColumnMap {
  hash?: string
  type?: string
  /** One or more columns; each cell is split on `labelSeparator`. */
  label?: string[]
  quality?: string
  note?: string
}

export interface ReadOptions {
  /** Default: sniffed from the first lines. */
  format?: ListFormat
  /** csv/tsv column map; without one, well-known header names are tried (hash, signal, type, signal_type, …). */
  map?: ColumnMap
  /** Type of lines/rows that name none (te-local lines with only a hash, a CSV with no type column). */
  signalType?: ListSignalType
  /** Splits a label cell (csv/tsv, te-csv tags); default: comma, semicolon, space or '|'. */
  labelSeparator?: RegExp
  /** Labels outside the taxonomy: reject the line, drop the label, or keep it as `source:<label>`. Default 'error'. */
  unknownLabels?: UnknownLabelMode
  /** Taxonomy labels are checked against; without one, labels pass as given (lower-cased). */
  taxonomy?: TaxonomyRules
  /** Longest line accepted (bytes); a longer one refuses the whole input without reading the line whole. */
  maxLineBytes?: number
  /** Lines of a bare PDQ hash may be yielded as PackedPdq (csv, tsv, hashes, te-local; readImportBatches sets it). */
  packPdq?: boolean
  /** jsonl revocation records are yielded as ListRevocation (readImportBatches sets it); else rejected UNSUPPORTED. */
  revocations?: boolean
  /** Input name in messages (default: the path, or "input"). */
  name?: string
  signal?: AbortSignal
}

/** What export writes: one signal with what the federation knows of it. */
export interface ExportSignal {
  type: ListSignalType
  value: string
  labels: string[]
  quality?: number
  note?: string
  contentType?: string
  frames?: VpdqFrame[]
  provenance?: Provenance
}

/** A writer turns signals into text chunks: a head, one chunk per signal, a tail (JSON documents close there). */
export interface ListWriter {
  head(): string
  item(signal: ExportSignal): string
  tail(): string
}

export interface WriteOptions {
  /** csv/tsv: column names (default hash,type,quality,labels,member,record,signature). */
  columns?: string[]
  /** misp: the event's info line; stix: the identity name. */
  title?: string
  /** Fixed time for reproducible output (ms since the epoch); default now. */
  now?: number
}

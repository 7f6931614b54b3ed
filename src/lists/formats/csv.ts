/**
 * CSV and TSV with a header row (RFC 4180), and python-threatexchange's `dataset -P --csv` output, which is
 * such a CSV with the header `collab,signal_type,signal_str,category,tags` (tags space-separated; category
 * POSITIVE_CLASS, NEGATIVE_CLASS or INVESTIGATION_SEED).
 *
 * Speed: a record without a quote character is split on the delimiter directly (RFC 4180 gives such a line
 * no other meaning), which reads a million lines in about a second of CPU; a record with quotes (a quoted
 * comma, a doubled quote, a line break inside quotes) is given whole to csv-parse. A quoted field spanning lines is
 * gathered up to MAX_QUOTED_LINES lines and MAX_QUOTED_CHARS characters; past that, or at the end of the input, its first line is reported
 * and the lines after it are read again as records of their own, so nothing is skipped without a report.
 */
import type { Readable } from 'node:stream'
import { parse as parseCsv } from 'csv-parse/sync'
import { fail } from '../../errors.js'
import { boundedLineBlocks, MAX_LINE_BYTES, type Line } from '../input.js'
import { BlockBatches } from '../packed.js'
import { DEFAULT_LABEL_SEPARATOR, listSignalType, mapLabels, reject, shorten, toItem, type LabelOptions } from '../signal.js'
import type { ColumnMap, ExportSignal, ListBatch, ListItem, ListWriter, Provenance, ReadOptions, WriteOptions } from '../types.js'

export const MAX_QUOTED_LINES = 1000
/** ...and up to this many characters: 1,000 lines of up to 1 MiB each would pass V8's longest string. */
export const MAX_QUOTED_CHARS = 4 * MAX_LINE_BYTES

/** Header names tried when no --map is given (lower-cased). */
const HASH_HEADERS = ['hash', 'signal', 'signal_str', 'signal_value', 'value', 'hash_value']
const TYPE_HEADERS = ['type', 'signal_type', 'hash_type']
const LABEL_HEADERS = ['labels', 'label', 'tags', 'tag']
const QUALITY_HEADERS = ['quality', 'pdq_quality']
const NOTE_HEADERS = ['note', 'notes', 'comment']
export const TE_CSV_HEADER = ['collab', 'signal_type', 'signal_str', 'category', 'tags']

interface Plan {
  /** Columns holding a hash, each with the type it implies (a column named pdq, md5, …) or the type column. */
  hashes: Array<{ index: number; type?: string }>
  type?: number
  labels: number[]
  quality?: number
  note?: number
  member?: number
  record?: number
  signature?: number
  collab?: number
  category?: number
}

function planColumns(header: string[], map: ColumnMap | undefined, teCsv: boolean, name: string): Plan {
  const lower = header.map((h) => h.trim().toLowerCase())
  const find = (names: readonly string[]): number | undefined => {
    for (const n of names) {
      const i = lower.indexOf(n.toLowerCase())
      if (i !== -1) return i
    }
    return undefined
  }
  const need = (column: string, what: string): number => {
    const i = find([column])
    if (i === undefined) fail('BAD_REQUEST', `${name}: --map ${what}=${column}: no column "${column}" in the header (${header.join(', ')})`)
    return i
  }
  const plan: Plan = { hashes: [], labels: [] }
  if (map?.hash) plan.hashes.push({ index: need(map.hash, 'hash'), type: listSignalType(map.hash) ? map.hash : undefined })
  else {
    const h = find(HASH_HEADERS)
    if (h !== undefined) plan.hashes.push({ index: h })
    else lower.forEach((column, index) => { if (listSignalType(column)) plan.hashes.push({ index, type: column }) })
  }
  if (plan.hashes.length === 0) {
    fail('BAD_REQUEST', `${name}: no hash column in the header (${header.join(', ')}); name it with --map hash=COLUMN`, { details: { header } })
  }
  plan.type = map?.type ? need(map.type, 'type') : find(TYPE_HEADERS)
  plan.labels = map?.label ? map.label.map((l) => need(l, 'label')) : [find(LABEL_HEADERS)].filter((i): i is number => i !== undefined)
  plan.quality = map?.quality ? need(map.quality, 'quality') : find(QUALITY_HEADERS)
  plan.note = map?.note ? need(map.note, 'note') : find(NOTE_HEADERS)
  plan.member = find(['member'])
  plan.record = find(['record'])
  plan.signature = find(['signature'])
  if (teCsv) {
    plan.collab = find(['collab'])
    plan.category = find(['category'])
  }
  return plan
}

/** Quote characters on a line: an odd count means a quoted field goes on to the next line. */
function quotes(text: string): number {
  let n = 0
  for (let i = text.indexOf('"'); i !== -1; i = text.indexOf('"', i + 1)) n++
  return n
}

/** Where the rows of the file go: cells of one record, or a rejection of a line that is not CSV. */
interface RowSink {
  row(line: number, cells: string[]): void
  rejected(item: ListItem): void
}

/** csv-parse's reading of one record's text (which has quotes): its cells, or a rejection. */
export function parseQuoted(line: number, text: string, delimiter: string): string[] | ListItem {
  try {
    const rows = parseCsv(text, { delimiter, relax_column_count: true, bom: false }) as string[][]
    return rows.length === 1 ? rows[0]! : reject(line, 'MALFORMED', `expected one record, found ${rows.length}`)
  } catch (err) {
    if (!(err instanceof Error) || !('code' in err)) throw err
    return reject(line, 'MALFORMED', `not CSV: ${err.message}`)
  }
}

/**
 * Cuts lines into records: a line without a quote is split on the delimiter (RFC 4180 gives it no other
 * meaning); a line with quotes goes to csv-parse, with the lines after it while a quoted field is open.
 * Blank lines are skipped. `end()` at the end of the input reports a quoted field still open.
 */
class RecordCutter {
  private open: { first: Line; gathered: Line[]; text: string; quotes: number } | undefined
  constructor(private readonly delimiter: string, private readonly sink: RowSink) {}

  /** A quoted field is open: the next lines belong to its record. */
  get gathering(): boolean {
    return this.open !== undefined
  }

  block(first: number, texts: string[]): void {
    const { delimiter, sink } = this
    for (let i = 0; i < texts.length; i++) {
      const text = texts[i]!
      if (this.open === undefined && text.indexOf('"') === -1) {
        const c = text.charCodeAt(0) // NaN for an empty line; a blank one starts with a space of some kind
        if (!(c > 32 && c < 127) && text.trim() === '') continue
        sink.row(first + i, text.split(delimiter))
      } else this.give({ line: first + i, text })
    }
  }

  end(): void {
    while (this.open) this.abandon()
  }

  private complete(first: Line, text: string): void {
    const cells = parseQuoted(first.line, text, this.delimiter)
    if (Array.isArray(cells)) this.sink.row(first.line, cells)
    else this.sink.rejected(cells)
  }

  private give(current: Line): void {
    const open = this.open
    if (open) {
      open.gathered.push(current)
      open.text += '\n' + current.text
      open.quotes += quotes(current.text)
      if (open.quotes % 2 === 0) {
        this.open = undefined
        this.complete(open.first, open.text)
      } else if (open.gathered.length >= MAX_QUOTED_LINES || open.text.length > MAX_QUOTED_CHARS) this.abandon()
      return
    }
    const { line, text } = current
    if (text.trim() === '') return
    if (!text.includes('"')) {
      this.sink.row(line, text.split(this.delimiter))
      return
    }
    const count = quotes(text)
    if (count % 2 === 0) this.complete(current, text)
    else this.open = { first: current, gathered: [], text, quotes: count }
  }

  /** An unclosed quote: its first line is reported, the lines after it are read again on their own. */
  private abandon(): void {
    const { first, gathered } = this.open!
    this.open = undefined
    this.sink.rejected(reject(first.line, 'MALFORMED', `a quoted field opened on this line is not closed${gathered.length ? ` within ${gathered.length} lines (read again on their own)` : ''}`))
    for (const again of gathered) this.give(again)
  }
}

/** The cells of every record of a CSV text, as the reader cuts them (tests compare it with csv-parse). */
export function csvRecords(text: string, delimiter = ','): Array<{ line: number; cells: string[] } | ListItem> {
  const out: Array<{ line: number; cells: string[] } | ListItem> = []
  const cutter = new RecordCutter(delimiter, { row: (line, cells) => out.push({ line, cells }), rejected: (item) => out.push(item) })
  const texts = (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).split('\n').map((t) => (t.endsWith('\r') ? t.slice(0, -1) : t))
  if (texts[texts.length - 1] === '') texts.pop()
  cutter.block(1, texts)
  cutter.end()
  return out
}

/**
 * csv, tsv and te-csv. With `options.packPdq`, the rows of a list whose only mapped column is a PDQ hash
 * (no type, label, quality, note or provenance column) are packed (PackedPdq) when the row has no quote,
 * the header's number of cells and exactly 64 hex digits in the hash cell: what readRow would make a
 * signal with no other field. Every other row goes the way of every row, so its item or rejection is the
 * same; batches come in line order.
 */
export async function* readCsv(stream: Readable, options: ReadOptions, variant: 'csv' | 'tsv' | 'te-csv'): AsyncGenerator<ListBatch> {
  const name = options.name ?? 'input'
  const delimiter = variant === 'tsv' ? '\t' : ','
  const separator = variant === 'te-csv' ? /\s+/ : (options.labelSeparator ?? DEFAULT_LABEL_SEPARATOR)
  const labelsOf = labelCellReader(separator, options)
  let plan: Plan | undefined
  let width = 0
  let provenanceColumns = false
  const out = new BlockBatches()
  const cutter = new RecordCutter(delimiter, { row: readRow, rejected: (item) => out.push(item) })
  /** The packed hash column, once the header is read; -1 when rows are not packed. */
  let packColumn: number | undefined = options.packPdq && variant !== 'te-csv' ? undefined : -1
  for await (const { first, texts } of boundedLineBlocks(stream, options)) {
    out.startBlock(texts.length)
    for (let i = 0; i < texts.length; i++) {
      if (packColumn === undefined && plan) packColumn = packableColumn(plan, options)
      if (packColumn === -1) {
        cutter.block(first + i, i === 0 ? texts : texts.slice(i))
        break
      }
      const text = texts[i]!
      if (packColumn !== undefined && !cutter.gathering) {
        const at = packableCell(text, delimiter, packColumn, width)
        if (at !== -1 && out.pack(first + i, text, at)) continue
      }
      cutter.block(first + i, [text])
    }
    yield* out.take()
  }
  cutter.end()
  yield* out.take()

  function cell(cells: string[], i: number | undefined): string | undefined {
    return i === undefined ? undefined : cells[i]!.trim()
  }

  function readRow(line: number, cells: string[]): void {
    if (!plan) {
      plan = planColumns(cells, variant === 'te-csv' ? { hash: 'signal_str', type: 'signal_type', label: ['tags'] } : options.map, variant === 'te-csv', name)
      provenanceColumns = plan.member !== undefined || plan.record !== undefined || plan.signature !== undefined || plan.collab !== undefined
      width = cells.length
      return
    }
    if (cells.length !== width) {
      out.push(reject(line, 'MALFORMED', `${cells.length} columns where the header has ${width}`))
      return
    }
    const labels = plan.labels.length === 0 ? undefined : labelsOf(plan.labels.length === 1 ? cells[plan.labels[0]!]! : plan.labels.map((i) => cells[i]!))
    let provenance: Provenance | undefined
    if (provenanceColumns) {
      const found: Provenance = {}
      const member = cell(cells, plan.member)
      if (member) found.member = member
      const record = cell(cells, plan.record)
      if (record) found.record = record
      const signature = cell(cells, plan.signature)
      if (signature === 'valid' || signature === 'invalid' || signature === 'unverified') found.signature = signature
      const collab = cell(cells, plan.collab)
      if (collab) found.source = collab
      if (Object.keys(found).length > 0) provenance = found
    }
    if (plan.category !== undefined && cell(cells, plan.category) === 'NEGATIVE_CLASS') {
      out.push(reject(line, 'UNSUPPORTED', `category NEGATIVE_CLASS (a non-match in collaboration "${shorten(provenance?.source ?? '')}"): not imported as a positive signal`))
      return
    }
    const typeCell = cell(cells, plan.type)
    const quality = cell(cells, plan.quality)
    const note = cell(cells, plan.note) || undefined
    let any = false
    for (const hash of plan.hashes) {
      const value = cells[hash.index]!
      if (plan.hashes.length > 1 && value.trim() === '') continue // a row of a multi-hash CSV need not fill every column
      any = true
      out.push(toItem(line, {
        type: typeCell || hash.type, // a type column wins over a type-named hash column
        value,
        quality,
        mappedLabels: labels,
        note,
        provenance,
      }, options))
    }
    if (!any) out.push(reject(line, 'MALFORMED', 'no hash in any hash column'))
  }
}

/** The hash column when rows of this plan can be packed (PackedPdq), else -1. */
function packableColumn(plan: Plan, options: ReadOptions): number {
  if (plan.hashes.length !== 1 || plan.type !== undefined || plan.labels.length > 0 || plan.quality !== undefined || plan.note !== undefined) return -1
  if (plan.member !== undefined || plan.record !== undefined || plan.signature !== undefined || plan.collab !== undefined || plan.category !== undefined) return -1
  const hash = plan.hashes[0]!
  const typeName = hash.type ?? options.signalType
  return typeName !== undefined && listSignalType(typeName) === 'pdq' ? hash.index : -1
}

/**
 * Where the hash cell starts when the row has no quote, `width` cells and 64 characters as cell `column`
 * (then readRow would make it a bare PDQ signal if they are hex digits); -1 for any other row.
 */
function packableCell(text: string, delimiter: string, column: number, width: number): number {
  if (text.indexOf('"') !== -1) return -1
  let cells = 0
  let start = -1
  let end = -1
  for (let cellStart = 0; ;) {
    const at = text.indexOf(delimiter, cellStart)
    if (cells === column) {
      start = cellStart
      end = at === -1 ? text.length : at
    }
    cells++
    if (at === -1) break
    cellStart = at + 1
  }
  return cells === width && end - start === 64 ? start : -1
}

/**
 * Label cells to labels (split, then mapped onto the taxonomy) or the error, remembered by cell text: a list
 * has few distinct label cells, so most lines share one answer (and one array, which nothing changes).
 */
function labelCellReader(separator: RegExp, options: LabelOptions): (cells: string | string[]) => string[] | string {
  const known = new Map<string, string[] | string>()
  return (cells) => {
    const key = typeof cells === 'string' ? cells : JSON.stringify(cells)
    let labels = known.get(key)
    if (labels === undefined) {
      const raw = (typeof cells === 'string' ? [cells] : cells).flatMap((c) => c.split(separator)).filter(Boolean)
      labels = mapLabels(raw, options)
      if (known.size < 10_000 && key.length <= 256) known.set(key, labels)
    }
    return labels
  }
}

const DEFAULT_COLUMNS = ['type', 'hash', 'quality', 'labels', 'note', 'member', 'record', 'signature']

/** RFC 4180: a field with the delimiter, a quote or a line break is quoted, its quotes doubled. */
export function csvField(value: string, delimiter: string): string {
  return value.includes(delimiter) || value.includes('"') || value.includes('\n') || value.includes('\r') ? `"${value.replace(/"/g, '""')}"` : value
}

export function csvWriter(variant: 'csv' | 'tsv' | 'te-csv', options: WriteOptions = {}): ListWriter {
  const delimiter = variant === 'tsv' ? '\t' : ','
  const row = (cells: string[]): string => cells.map((c) => csvField(c, delimiter)).join(delimiter) + '\r\n'
  if (variant === 'te-csv') {
    return {
      head: () => row(TE_CSV_HEADER),
      item: (s) => row([s.provenance?.source ?? s.provenance?.memberName ?? s.provenance?.member ?? '', s.type, s.value, 'POSITIVE_CLASS', s.labels.join(' ')]),
      tail: () => '',
    }
  }
  const columns = options.columns ?? DEFAULT_COLUMNS
  const pick: Record<string, (s: ExportSignal) => string> = {
    type: (s) => s.type, hash: (s) => s.value, quality: (s) => (s.quality === undefined ? '' : String(s.quality)),
    labels: (s) => s.labels.join(' '), note: (s) => s.note ?? '', member: (s) => s.provenance?.member ?? '',
    record: (s) => s.provenance?.record ?? '', signature: (s) => s.provenance?.signature ?? '', source: (s) => s.provenance?.source ?? '',
  }
  for (const c of columns) if (!pick[c]) fail('BAD_REQUEST', `no column "${c}" to write (${Object.keys(pick).join(', ')})`)
  return { head: () => row(columns), item: (s) => row(columns.map((c) => pick[c]!(s))), tail: () => '' }
}

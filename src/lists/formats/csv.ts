/**
 * CSV and TSV with a header row (RFC 4180), and python-threatexchange's `dataset -P --csv` output, which is
 * such a CSV with the header `collab,signal_type,signal_str,category,tags` (tags space-separated; category
 * POSITIVE_CLASS, NEGATIVE_CLASS or INVESTIGATION_SEED).
 *
 * Speed: a record without a quote character is split on the delimiter directly (RFC 4180 gives such a line
 * no other meaning), which reads a million lines in a few seconds; a record with quotes (a quoted comma, a
 * doubled quote, a line break inside quotes) is given whole to csv-parse. A quoted field spanning lines is
 * gathered up to MAX_QUOTED_LINES lines; past that, or at the end of the input, its first line is reported
 * and the lines after it are read again as records of their own, so nothing is skipped without a report.
 */
import type { Readable } from 'node:stream'
import { parse as parseCsv } from 'csv-parse/sync'
import { fail } from '../../errors.js'
import { boundedLineBatches, type Line } from '../input.js'
import { DEFAULT_LABEL_SEPARATOR, listSignalType, reject, shorten, toItem } from '../signal.js'
import type { ColumnMap, ExportSignal, ListItem, ListWriter, Provenance, ReadOptions, WriteOptions } from '../types.js'

export const MAX_QUOTED_LINES = 1000

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

type CsvRecord = { line: number; cells: string[] } | ListItem

/**
 * Records of the file, a batch of lines at a time: { line, cells }, or a rejection of a line that is not CSV.
 * A record with an odd number of quotes goes on over the next lines (of this batch or the next ones).
 */
async function* records(batches: AsyncIterable<Line[]>, delimiter: string): AsyncGenerator<CsvRecord[]> {
  const replay: Line[] = []
  let open: { first: Line; gathered: Line[]; text: string; quotes: number } | undefined
  const out: CsvRecord[] = []
  const complete = (first: Line, text: string): void => {
    try {
      const rows = parseCsv(text, { delimiter, relax_column_count: true, bom: false }) as string[][]
      out.push(rows.length === 1 ? { line: first.line, cells: rows[0]! } : reject(first.line, 'MALFORMED', `expected one record, found ${rows.length}`))
    } catch (err) {
      if (!(err instanceof Error) || !('code' in err)) throw err
      out.push(reject(first.line, 'MALFORMED', `not CSV: ${err.message}`))
    }
  }
  const give = (current: Line): void => {
    if (open) {
      open.gathered.push(current)
      open.text += '\n' + current.text
      open.quotes += quotes(current.text)
      if (open.quotes % 2 === 0) {
        complete(open.first, open.text)
        open = undefined
      } else if (open.gathered.length >= MAX_QUOTED_LINES) abandon()
      return
    }
    const { line, text } = current
    if (text.trim() === '') return
    if (!text.includes('"')) {
      out.push({ line, cells: text.split(delimiter) })
      return
    }
    const count = quotes(text)
    if (count % 2 === 0) complete(current, text)
    else open = { first: current, gathered: [], text, quotes: count }
  }
  /** An unclosed quote: its first line is reported, the lines after it are read again on their own. */
  const abandon = (): void => {
    const { first, gathered } = open!
    open = undefined
    out.push(reject(first.line, 'MALFORMED', `a quoted field opened on this line is not closed${gathered.length ? ` within ${gathered.length} lines (read again on their own)` : ''}`))
    replay.push(...gathered)
    while (replay.length > 0) give(replay.shift()!)
  }
  for await (const batch of batches) {
    for (const current of batch) give(current)
    if (out.length > 0) yield out.splice(0)
  }
  while (open) abandon()
  if (out.length > 0) yield out.splice(0)
}

/** csv, tsv and te-csv. */
export async function* readCsv(stream: Readable, options: ReadOptions, variant: 'csv' | 'tsv' | 'te-csv'): AsyncGenerator<ListItem[]> {
  const name = options.name ?? 'input'
  const delimiter = variant === 'tsv' ? '\t' : ','
  const separator = variant === 'te-csv' ? /\s+/ : (options.labelSeparator ?? DEFAULT_LABEL_SEPARATOR)
  let plan: Plan | undefined
  let width = 0
  for await (const batch of records(boundedLineBatches(stream, options), delimiter)) {
    const out: ListItem[] = []
    for (const record of batch) readRow(record, out)
    if (out.length > 0) yield out
  }

  function readRow(record: CsvRecord, out: ListItem[]): void {
    if ('kind' in record) {
      out.push(record)
      return
    }
    const { line, cells } = record
    if (!plan) {
      plan = planColumns(cells, variant === 'te-csv' ? { hash: 'signal_str', type: 'signal_type', label: ['tags'] } : options.map, variant === 'te-csv', name)
      width = cells.length
      return
    }
    if (cells.length !== width) {
      out.push(reject(line, 'MALFORMED', `${cells.length} columns where the header has ${width}`))
      return
    }
    const cell = (i: number | undefined): string | undefined => (i === undefined ? undefined : cells[i]!.trim())
    const labels = plan.labels.flatMap((i) => cells[i]!.split(separator)).filter(Boolean)
    const provenance: Provenance = {}
    if (plan.member !== undefined && cell(plan.member)) provenance.member = cell(plan.member)
    if (plan.record !== undefined && cell(plan.record)) provenance.record = cell(plan.record)
    const signature = cell(plan.signature)
    if (signature === 'valid' || signature === 'invalid' || signature === 'unverified') provenance.signature = signature
    if (plan.collab !== undefined && cell(plan.collab)) provenance.source = cell(plan.collab)
    const category = cell(plan.category)
    if (category === 'NEGATIVE_CLASS') {
      out.push(reject(line, 'UNSUPPORTED', `category NEGATIVE_CLASS (a non-match in collaboration "${shorten(provenance.source ?? '')}"): not imported as a positive signal`))
      return
    }
    let any = false
    for (const hash of plan.hashes) {
      const value = cells[hash.index]!.trim()
      if (plan.hashes.length > 1 && value === '') continue // a row of a multi-hash CSV need not fill every column
      any = true
      out.push(toItem(line, {
        type: cell(plan.type) || hash.type, // a type column wins over a type-named hash column
        value,
        quality: cell(plan.quality),
        labels,
        note: cell(plan.note) || undefined,
        provenance: Object.keys(provenance).length > 0 ? provenance : undefined,
      }, options))
    }
    if (!any) out.push(reject(line, 'MALFORMED', 'no hash in any hash column'))
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

/**
 * Hash lists in and out: the face of src/lists/ (issue 16). Every format is read by `readSignals` and written
 * by `listWriter`/`writeSignals`; the import path (node/list-import.ts) and the exchanges use only these.
 *
 *   for await (const item of readSignals('list.csv', { format: 'csv', map: { hash: 'pdq_hash' } })) …
 *
 * The format is sniffed from the first bytes when not given; a file given with the wrong format is refused
 * there (BAD_REQUEST, details.looksLike). gzip is read; zip and other archives are refused.
 */
import type { Readable, Writable } from 'node:stream'
import { once } from 'node:events'
import { fail } from '../errors.js'
import { csvWriter, readCsv } from './formats/csv.js'
import { hmaWriter, jsonlWriter, readHma, readJsonl } from './formats/json-lines.js'
import { hashTsvWriter, readHashTsv, readTypedLines, typedLinesWriter } from './formats/plain.js'
import { openInput } from './input.js'
import { formatFits, sniffFormat, type Sniffed } from './sniff.js'
import { LIST_FORMATS, type ExportSignal, type ListBatch, type ListFormat, type ListItem, type ListWriter, type ReadOptions, type WriteOptions } from './types.js'

export * from './types.js'
export { sniffFormat, type Sniffed } from './sniff.js'
export { mapLabels, listSignalType } from './signal.js'
export { MAX_LINE_BYTES } from './input.js'
export { unpackPdq } from './packed.js'

/**
 * A reader yields items, or arrays of items (csv/tsv/te-csv: one array per chunk read, fewer awaits per
 * line), or with options.packPdq, PackedPdq batches.
 */
type Reader = (stream: Readable, options: ReadOptions) => AsyncIterable<ListItem | ListBatch>

const READERS: Record<ListFormat, Reader> = {
  jsonl: readJsonl,
  hashes: (s, o) => readTypedLines(s, o, true),
  'hash-tsv': readHashTsv,
  'te-local': (s, o) => readTypedLines(s, o, false),
  'te-csv': (s, o) => readCsv(s, o, 'te-csv'),
  hma: readHma,
  csv: (s, o) => readCsv(s, o, 'csv'),
  tsv: (s, o) => readCsv(s, o, 'tsv'),
  misp: async function* (s, o) { yield* (await import('./formats/misp.js')).readMisp(s, o) },
  stix: async function* (s, o) { yield* (await import('./formats/stix.js')).readStix(s, o) },
}

export function isListFormat(name: string): name is ListFormat {
  return (LIST_FORMATS as readonly string[]).includes(name)
}

export function checkListFormat(name: string): ListFormat {
  if (!isListFormat(name)) fail('BAD_REQUEST', `unknown list format "${name}" (${LIST_FORMATS.join(', ')})`)
  return name
}

/** What the input looks like, and its stream from the start (gunzipped). */
export async function openList(input: string | Readable, options: { name?: string } = {}): Promise<{ stream: Readable; sniffed: Sniffed; name: string; gzip: boolean }> {
  const opened = await openInput(input, options)
  return { stream: opened.stream, sniffed: sniffFormat(opened.head), name: opened.name, gzip: opened.gzip }
}

/**
 * Signals of a list, streamed: each line (item) yields a signal or a rejection. Throws BAD_REQUEST when the
 * input is an archive, binary, or in another format than `options.format` (details.looksLike), and
 * PAYLOAD_TOO_LARGE when a line passes `maxLineBytes`.
 */
export async function* readSignals(input: string | Readable, options: ReadOptions = {}): AsyncGenerator<ListItem> {
  for await (const batch of readSignalBatches(input, options)) yield* batch
}

/** The same items in arrays (as the reader produces them), for consumers that go through millions of lines. */
export function readSignalBatches(input: string | Readable, options: ReadOptions = {}): AsyncGenerator<ListItem[]> {
  return readBatches(input, { ...options, packPdq: false }) as AsyncGenerator<ListItem[]>
}

/**
 * What the import reads (node/list-import.ts): the same, except that lines of a bare PDQ hash may come
 * packed (PackedPdq: no object or string per line; csv, tsv, hashes and te-local).
 */
export function readImportBatches(input: string | Readable, options: ReadOptions = {}): AsyncGenerator<ListBatch> {
  return readBatches(input, { ...options, packPdq: true, revocations: true })
}

async function* readBatches(input: string | Readable, options: ReadOptions): AsyncGenerator<ListBatch> {
  const { stream, sniffed, name } = await openList(input, { name: options.name })
  let format = options.format
  if (format === undefined) {
    if (!sniffed.format) {
      stream.destroy()
      fail('BAD_REQUEST', `${name}: cannot tell its format (it looks like ${sniffed.looksLike}); give --format (${LIST_FORMATS.join(', ')})`, { details: { looksLike: sniffed.looksLike } })
    }
    format = sniffed.format
  } else if (!formatFits(format, sniffed)) {
    stream.destroy()
    fail('BAD_REQUEST', `${name} does not look like ${format}: it looks like ${sniffed.looksLike}${sniffed.format ? ` (try --format ${sniffed.format})` : ''}`, { details: { looksLike: sniffed.looksLike, format } })
  }
  try {
    let single: ListItem[] = []
    for await (const x of READERS[format](stream, { ...options, name })) {
      if (!Array.isArray(x) && x.kind !== 'packed-pdq') {
        single.push(x)
        if (single.length >= 256) yield single.splice(0)
        continue
      }
      if (single.length > 0) yield single.splice(0)
      yield x
    }
    if (single.length > 0) yield single
    single = []
  } finally {
    stream.destroy()
  }
}

const WRITERS: Record<ListFormat, (options: WriteOptions) => ListWriter | Promise<ListWriter>> = {
  jsonl: () => jsonlWriter(),
  hashes: () => typedLinesWriter(true),
  'hash-tsv': () => hashTsvWriter(),
  'te-local': () => typedLinesWriter(false),
  'te-csv': (o) => csvWriter('te-csv', o),
  hma: () => hmaWriter(),
  csv: (o) => csvWriter('csv', o),
  tsv: (o) => csvWriter('tsv', o),
  misp: async (o) => (await import('./formats/misp.js')).mispWriter(o),
  stix: async (o) => (await import('./formats/stix.js')).stixWriter(o),
}

export async function listWriter(format: ListFormat, options: WriteOptions = {}): Promise<ListWriter> {
  return WRITERS[format](options)
}

/** Writes signals to a stream in a format, waiting on the stream's back-pressure; answers how many. */
export async function writeSignals(signals: AsyncIterable<ExportSignal> | Iterable<ExportSignal>, out: Writable, format: ListFormat, options: WriteOptions = {}): Promise<number> {
  const writer = await listWriter(format, options)
  const write = async (text: string): Promise<void> => {
    if (text && !out.write(text)) await once(out, 'drain')
  }
  let n = 0
  await write(writer.head())
  for await (const signal of signals) {
    await write(writer.item(signal))
    n++
  }
  await write(writer.tail())
  return n
}

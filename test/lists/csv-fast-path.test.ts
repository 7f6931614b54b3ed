/**
 * The CSV reader's fast path (a line without a quote is split on the delimiter) against csv-parse (which reads
 * every line with a quote): the same records, the same items, the same rejections with the same line numbers.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { Readable } from 'node:stream'
import { parse as parseCsv } from 'csv-parse/sync'
import { readSignals, type ListItem, type ReadOptions } from '../../src/lists/index.js'
import { csvRecords, MAX_QUOTED_CHARS } from '../../src/lists/formats/csv.js'
import { boundedLineBlocks } from '../../src/lists/input.js'
import type { TaxonomyRules } from '../../src/record/taxonomy.js'
import { random } from '../helpers/random.js'

const taxonomy = JSON.parse(readFileSync(new URL('../../config/taxonomy.json', import.meta.url), 'utf8')) as TaxonomyRules

const quote = (cell: string): string => `"${cell.replace(/"/g, '""')}"`
/** RFC 4180: quoted only when it must be (delimiter, quote, line break), or always. */
const field = (cell: string, always: boolean): string => (always || /[",\r\n]/.test(cell) ? quote(cell) : cell)

async function read(text: string | Buffer[], options: ReadOptions): Promise<ListItem[]> {
  const out: ListItem[] = []
  for await (const item of readSignals(Readable.from(typeof text === 'string' ? [Buffer.from(text)] : text), options)) out.push(item)
  return out
}

test('csvRecords cuts tricky CSV (quoted delimiters, doubled quotes, line breaks in quotes, CRLF, BOM, empty fields) as csv-parse does', () => {
  const next = random(16)
  const pieces = ['a', 'b c', '', ',', '"', '""', 'x,y', '\n', 'multi\nline', ' pad ', 'é', '日本', '\t']
  for (let round = 0; round < 200; round++) {
    const rows: string[][] = []
    const width = 1 + Math.floor(next() * 4)
    for (let r = 0; r < 1 + Math.floor(next() * 6); r++) {
      const row = Array.from({ length: width }, () => Array.from({ length: Math.floor(next() * 3) }, () => pieces[Math.floor(next() * pieces.length)]).join(''))
      if (row.every((c) => c.trim() === '')) row[0] = 'z' // a blank line is skipped by the reader (csv-parse keeps it)
      rows.push(row)
    }
    const eol = next() < 0.5 ? '\n' : '\r\n'
    const bom = next() < 0.2 ? '\ufeff' : ''
    const text = bom + rows.map((row) => row.map((c) => field(c, next() < 0.2)).join(',')).join(eol) + (next() < 0.5 ? eol : '')
    const expected = parseCsv(text, { bom: true, relax_column_count: true }) as string[][]
    const got = csvRecords(text)
    // Lines are read without their line break, so a line break inside quotes comes back as \n.
    assert.deepEqual(got.map((r) => ('cells' in r ? r.cells : r)), expected.map((row) => row.map((c) => c.replace(/\r\n/g, '\n'))), JSON.stringify(text))
    assert.deepEqual(got.map((r) => ('cells' in r ? r.cells : r)), rows.map((row) => row.map((c) => c.replace(/\r\n/g, '\n'))))
  }
})

test('csvRecords numbers each record by its first line; blank lines are skipped, not numbered away', () => {
  const text = 'h1,h2\r\n\r\n"a\r\nb",c\r\n   \r\nd,"e"\r\n,\r\n'
  assert.deepEqual(csvRecords(text), [
    { line: 1, cells: ['h1', 'h2'] }, { line: 3, cells: ['a\nb', 'c'] }, { line: 6, cells: ['d', 'e'] }, { line: 7, cells: ['', ''] },
  ])
  const unclosed = csvRecords('h\n"open,1\nplain,2\n')
  assert.deepEqual(unclosed.map((r) => ('cells' in r ? `${r.line} ${r.cells.join('|')}` : `${r.line} ${r.kind === 'rejected' ? r.code : ''}`)), ['1 h', '2 MALFORMED', '3 plain|2'])
})

test('readSignals: a CSV read by the fast path and the same CSV with every field quoted give the same items and rejections', async () => {
  const next = random(4180)
  const hex = (n: number): string => Array.from({ length: n }, () => '0123456789abcdefABCDEF'[Math.floor(next() * 22)]).join('')
  const values = [
    () => hex(64), () => hex(64), () => hex(32), () => ` ${hex(64)} `, () => hex(63), () => `${hex(60)}zz!!`, () => '', () => 'not hex',
  ]
  const types = ['pdq', 'pdq', 'md5', 'sha256', 'PDQ', ' pdq ', 'url', '', 'video_md5']
  const labels = ['', 'recruitment', 'behavior:propaganda entity:isis', 'behavior:propaganda,entity:isis', 'nonsense', 'Recruitment; behavior:propaganda', 'x|y']
  const qualities = ['', '', '90', '100', '101', 'high', ' 50 ']
  const notes = ['', 'a note', 'with, comma', 'with "quotes"']
  const rows = [['hash', 'type', 'tags', 'quality', 'note']]
  for (let i = 0; i < 400; i++) {
    const pick = <T>(xs: T[]): T => xs[Math.floor(next() * xs.length)]!
    const row = [pick(values)(), pick(types), pick(labels), pick(qualities), pick(notes)]
    if (next() < 0.05) row.pop() // a short row
    rows.push(row)
  }
  const text = (always: boolean, eol: string): string => rows.map((row) => row.map((c) => field(c, always)).join(',')).join(eol) + eol
  for (const [unknownLabels, withTaxonomy] of [['error', true], ['keep', true], ['drop', true], ['error', false]] as const) {
    const options: ReadOptions = { format: 'csv', unknownLabels, ...(withTaxonomy ? { taxonomy } : {}) }
    const fast = await read(text(false, '\n'), options)
    assert.ok(fast.filter((i) => i.kind === 'signal').length > 20 && fast.filter((i) => i.kind === 'rejected').length > 50, `both signals and rejections: ${fast.filter((i) => i.kind === 'signal').length}`)
    for (const code of ['BAD_HEX', 'BAD_LENGTH', 'UNKNOWN_TYPE', 'MALFORMED', ...(unknownLabels === 'error' && withTaxonomy ? ['BAD_LABEL'] : [])]) {
      assert.ok(fast.some((i) => i.kind === 'rejected' && i.code === code), `a ${code} line`)
    }
    assert.deepEqual(await read(text(true, '\n'), options), fast, 'every field quoted (csv-parse)')
    assert.deepEqual(await read('\ufeff' + text(false, '\r\n'), options), fast, 'CRLF and a BOM')
  }
})

test('lines are the same however the input is cut into chunks (a CRLF, a multi-byte character or the BOM across two chunks)', async () => {
  const text = '\ufeffh,é\r\n日本,x\r\n\r\nlast,ü\r'
  const bytes = Buffer.from(text)
  const whole: string[] = []
  for await (const { first, texts } of boundedLineBlocks(Readable.from([bytes]))) texts.forEach((t, i) => whole.push(`${first + i}:${t}`))
  assert.deepEqual(whole, ['1:h,é', '2:日本,x', '3:', '4:last,ü'])
  for (const size of [1, 2, 3, 5]) {
    const chunks: Buffer[] = []
    for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size))
    const got: string[] = []
    for await (const { first, texts } of boundedLineBlocks(Readable.from(chunks))) texts.forEach((t, i) => got.push(`${first + i}:${t}`))
    assert.deepEqual(got, whole, `chunks of ${size}`)
  }
})

test('a line over the limit is refused with its number, however many lines share its chunk', async () => {
  const text = 'h\n' + 'a\n'.repeat(10) + 'z'.repeat(100) + '\nc\n'
  for (const chunks of [[Buffer.from(text)], [Buffer.from(text.slice(0, 15)), Buffer.from(text.slice(15))]]) {
    await assert.rejects(async () => {
      for await (const block of boundedLineBlocks(Readable.from(chunks), { maxLineBytes: 50 })) void block
    }, (err: { code?: string; details?: { line?: number } }) => err.code === 'PAYLOAD_TOO_LARGE' && err.details?.line === 12)
  }
  const items = await read([Buffer.from(text)], { format: 'csv', map: { hash: 'h' }, signalType: 'md5', maxLineBytes: 100 })
  assert.deepEqual(items.map((i) => `${i.line} ${i.kind === 'rejected' ? i.code : i.type}`).slice(-2), ['12 BAD_HEX', '13 BAD_LENGTH'])
})

test('a quote left open over more than MAX_QUOTED_CHARS characters is reported on its line and the lines after it are read again', () => {
  const long = 'x'.repeat(900_000)
  const longLines = Math.ceil(MAX_QUOTED_CHARS / long.length) + 1
  // closed only at the very end: gathered whole, that is one record of ~5 MB (at 1,000 such lines, past V8's longest string)
  const lines = ['hash', '"opened here', ...Array.from({ length: longLines }, (_, i) => `${long},${i}`), 'closed"']
  const out = csvRecords(lines.join('\n'))
  const first = out[1] as { kind: string; line: number; code: string; message: string }
  assert.deepEqual([first.kind, first.line, first.code], ['rejected', 2, 'MALFORMED'])
  assert.match(first.message, /not closed within \d+ lines/)
  assert.equal(out.filter((r) => 'cells' in r && r.cells[0] === long).length, longLines, 'every long line read again as a record of its own')
})

/**
 * Which format a list looks like, from its first bytes; used to choose a format when none is given and
 * to refuse a file given with the wrong one, on its first lines, naming the format it looks like.
 */
import { listSignalType } from './signal.js'
import { TE_CSV_HEADER } from './formats/csv.js'
import type { ListFormat } from './types.js'

export interface Sniffed {
  /** A format hashmesh reads, when the head looks like one. */
  format?: ListFormat
  /** What it looks like, in words (a format name, 'xml', 'html', 'json', 'empty'). */
  looksLike: string
}

const HEX = /^[0-9a-f]+$/i

export function sniffFormat(head: string): Sniffed {
  const lines = head.split(/\r?\n/)
  if (!head.endsWith('\n') && lines.length > 1) lines.pop() // the last line may be cut off
  const first = lines.find((l) => l.trim() !== '' && !l.startsWith('#'))
  if (first === undefined) return { looksLike: 'empty' }
  const start = first.trimStart()
  if (start.startsWith('<')) return { looksLike: /<html/i.test(head) ? 'html' : 'xml' }
  if (start.startsWith('{') || start.startsWith('[')) return sniffJson(first, head)
  if (first.includes('\t')) {
    const columns = first.split('\t')
    if (columns.length >= 5 && (columns[1] === '-' || (HEX.test(columns[1]!) && columns[1]!.length === 64))) return { format: 'hash-tsv', looksLike: 'hash-tsv' }
    return { format: 'tsv', looksLike: 'tsv' }
  }
  if (first.includes(',')) {
    const header = first.split(',').map((c) => c.trim().replace(/^"|"$/g, '').toLowerCase())
    if (header.join(',') === TE_CSV_HEADER.join(',')) return { format: 'te-csv', looksLike: 'te-csv' }
    return { format: 'csv', looksLike: 'csv' }
  }
  const columns = start.trim().split(/\s+/)
  if (columns.length === 1) return HEX.test(columns[0]!) ? { format: 'te-local', looksLike: 'te-local' } : { format: 'csv', looksLike: 'csv' }
  if (columns.length === 2 && listSignalType(columns[0]!) !== undefined) return { format: 'te-local', looksLike: 'te-local' }
  if (columns.length === 3 && listSignalType(columns[0]!) !== undefined) return { format: 'hashes', looksLike: 'hashes' }
  return { looksLike: 'text' }
}

function sniffJson(first: string, head: string): Sniffed {
  let line: unknown
  try {
    line = JSON.parse(first)
  } catch {
    line = undefined // a JSON document over several lines: looked at as text below
  }
  if (line && typeof line === 'object' && !Array.isArray(line)) {
    const o = line as Record<string, unknown>
    if (o.type === 'bundle') return { format: 'stix', looksLike: 'stix' }
    if ('Event' in o || 'response' in o) return { format: 'misp', looksLike: 'misp' }
    if (typeof o.bytes === 'string' || (typeof o.type === 'string' && 'value' in o)) return { format: 'jsonl', looksLike: 'jsonl' }
    if ('signals' in o || (Object.keys(o).length > 0 && Object.keys(o).every((k) => listSignalType(k) !== undefined))) return { format: 'hma', looksLike: 'hma' }
    return { looksLike: 'json' }
  }
  if (/"type"\s*:\s*"bundle"/.test(head) || /"spec_version"\s*:\s*"2\.1"/.test(head)) return { format: 'stix', looksLike: 'stix' }
  if (/"Event"\s*:/.test(head) || /"Attribute"\s*:/.test(head)) return { format: 'misp', looksLike: 'misp' }
  return { looksLike: 'json' }
}

/** Formats a file of another (sniffed) format may be read as. */
const COMPATIBLE: Partial<Record<ListFormat, readonly ListFormat[]>> = {
  hashes: ['te-local'],
  'te-local': ['hashes'],
  csv: ['te-csv'],
}

/** Whether a file that looks like `sniffed` can be read as `given`. */
export function formatFits(given: ListFormat, sniffed: Sniffed): boolean {
  if (sniffed.looksLike === 'empty' || sniffed.looksLike === 'text') return true // the reader reports each line
  return sniffed.format === given || (sniffed.format !== undefined && (COMPATIBLE[given] ?? []).includes(sniffed.format))
}

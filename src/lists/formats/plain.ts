/**
 * Line formats without a header: `hashes` ("type value [quality]", what `submit --signals` always took),
 * python-threatexchange's `local_file` ("signal_type signal" per line, or a bare signal when the
 * collaboration names the type), and the TSV `hashmesh hash` prints (path, pdq, quality, md5, sha256; for a
 * video: path, vpdq or "-", frames, md5, sha256). Lines starting with '#' are comments in all three.
 */
import type { Readable } from 'node:stream'
import { boundedLineBlocks, boundedLines } from '../input.js'
import { BlockBatches } from '../packed.js'
import { listSignalType, reject, toItem } from '../signal.js'
import type { ExportSignal, ListBatch, ListItem, ListWriter, ReadOptions } from '../types.js'

/**
 * `hashes` and `te-local`: type, value and (hashes only) quality, separated by spaces or tabs. With
 * `options.packPdq`, a line that is 64 hex digits (when the type is given as pdq) or "pdq", one space or tab
 * and 64 hex digits is packed (PackedPdq): the bare PDQ signal the line would make.
 */
export async function* readTypedLines(stream: Readable, options: ReadOptions, allowQuality: boolean): AsyncGenerator<ListBatch> {
  const out = new BlockBatches()
  const packBare = options.packPdq === true && options.signalType !== undefined && listSignalType(options.signalType) === 'pdq'
  const packTyped = options.packPdq === true
  for await (const { first, texts } of boundedLineBlocks(stream, options)) {
    out.startBlock(texts.length)
    for (let i = 0; i < texts.length; i++) {
      const text = texts[i]!
      const line = first + i
      if (packBare && text.length === 64 && out.pack(line, text, 0)) continue
      if (packTyped && text.length === 68 && isPdqTypeThenSpace(text) && out.pack(line, text, 4)) continue
      const item = typedLine(line, text, options, allowQuality)
      if (item) out.push(item)
    }
    yield* out.take()
  }
}

/** "pdq" then a space or a tab. */
function isPdqTypeThenSpace(text: string): boolean {
  const gap = text.charCodeAt(3)
  return (gap === 32 || gap === 9) && text.startsWith('pdq')
}

/** One line of `hashes` or `te-local`: its item, or nothing for a blank line or a comment. */
function typedLine(line: number, text: string, options: ReadOptions, allowQuality: boolean): ListItem | undefined {
  const trimmed = text.trim()
  if (trimmed === '' || trimmed.startsWith('#')) return undefined
  const columns = trimmed.split(/\s+/)
  if (columns.length === 1) return toItem(line, { type: undefined, value: columns[0] }, options)
  if (columns.length > (allowQuality ? 3 : 2)) {
    return reject(line, 'MALFORMED', `expected "type value${allowQuality ? ' [quality]' : ''}", got ${columns.length} columns`)
  }
  return toItem(line, { type: columns[0], value: columns[1], quality: columns[2] }, options)
}

const VIDEO_PATH = /\.(mp4|m4v|mov|webm|mkv|avi|ts|mts|m2ts|mpe?g|3gp|flv|wmv|ogv)$/i

/** `hash-tsv`: one line per file; each hash column gives a signal ("-" for none). */
export async function* readHashTsv(stream: Readable, options: ReadOptions): AsyncGenerator<ListItem> {
  for await (const { line, text } of boundedLines(stream, options)) {
    if (text.trim() === '' || text.startsWith('#')) continue
    const columns = text.split('\t')
    if (columns.length < 5) {
      yield reject(line, 'MALFORMED', `expected 5 tab-separated columns (path, pdq, quality, md5, sha256), got ${columns.length}`)
      continue
    }
    const [path, first, count, md5, sha256] = columns as [string, string, string, string, string]
    const video = VIDEO_PATH.test(path) // a video line's vpdq needs frames, which the TSV does not carry: md5 and sha256 are taken
    const contentType = video ? 'video' : 'photo'
    const items: ListItem[] = []
    if (first !== '-' && !video) items.push(toItem(line, { type: 'pdq', value: first, quality: count, contentType }, options))
    if (md5 !== '-') items.push(toItem(line, { type: video ? 'video_md5' : 'md5', value: md5, contentType }, options))
    if (sha256 !== '-') items.push(toItem(line, { type: 'sha256', value: sha256, contentType }, options))
    if (items.length === 0) items.push(reject(line, 'MALFORMED', 'no hash on the line (every column is "-")'))
    yield* items
  }
}

export function typedLinesWriter(withQuality: boolean): ListWriter {
  return {
    head: () => '',
    item: (s: ExportSignal) => `${s.type} ${s.value}${withQuality && s.quality !== undefined ? ` ${s.quality}` : ''}\n`,
    tail: () => '',
  }
}

/**
 * `hash-tsv` has one line per file and no labels: each signal is written on its own line with the record id
 * (or "-") in the path column and "-" in the hash columns it does not fill.
 */
export function hashTsvWriter(): ListWriter {
  return {
    head: () => '',
    item: (s: ExportSignal) => {
      const path = s.provenance?.record ?? '-'
      if (s.type === 'pdq') return `${path}\t${s.value}\t${s.quality ?? 100}\t-\t-\n`
      if (s.type === 'md5') return `${path}\t-\t-\t${s.value}\t-\n`
      if (s.type === 'video_md5') return `${path}.mp4\t-\t0\t${s.value}\t-\n`
      if (s.type === 'sha256') return `${path}\t-\t-\t-\t${s.value}\n`
      return '' // vpdq: the TSV carries no frames
    },
    tail: () => '',
  }
}

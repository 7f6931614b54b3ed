/**
 * JSON Lines formats.
 *
 * `jsonl`: hashmesh's own. A line is either a signed record as `hashmesh export` writes it
 * ({id, feed, seq, kind, bytes}: the signals of a `signals` record are read from its signed bytes, with the
 * record's labels, note and content type, and the provenance member / record / signature status), or one
 * signal {type, value, quality?, labels?, note?, contentType?, frames?, provenance?} (what a bank export in
 * jsonl writes, and what `submit --signals` takes).
 *
 * `hma`: HMA bank content, one item per line, in the shapes HMA's API carries: the body of
 * `POST /c/bank/<name>/content` ({signals: {type: value}, note?, metadata?}), the answer of
 * `GET /c/bank/<name>/content/<id>?include_signals=true` (the same plus id, bank, disable_until_ts, …), or the
 * body of `POST /c/bank/<name>/signal` ({type: value}). Signal type names are HMA's (pdq, video_md5) plus
 * md5, sha256, vpdq.
 */
import type { Readable } from 'node:stream'
import { tryDecodeAndVerify, decodeRecord } from '../../record/codec.js'
import { fromHex } from '../../record/crypto.js'
import type { SignedRecord, SignalsBody } from '../../record/types.js'
import { boundedLines } from '../input.js'
import { reject, toItem } from '../signal.js'
import type { ExportSignal, ListItem, ListRejection, ListSignal, ListWriter, Provenance, ReadOptions } from '../types.js'

/**
 * A line's JSON object, or its rejection. Wrapped, so that a line of the file reading {"kind": "signal", …}
 * or {"kind": "revocation", …} is data to check, never taken for an item as it is.
 */
function parseLine(line: number, text: string): { json: Record<string, unknown> } | ListRejection {
  try {
    const value = JSON.parse(text) as unknown
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return reject(line, 'MALFORMED', 'line is not a JSON object')
    return { json: value as Record<string, unknown> }
  } catch (err) {
    if (err instanceof SyntaxError) return reject(line, 'MALFORMED', 'line is not JSON')
    throw err
  }
}

function recordSignals(line: number, hex: string, options: ReadOptions): ListItem[] {
  if (hex.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(hex)) return [reject(line, 'MALFORMED', 'the "bytes" field is not hex')]
  const bytes = fromHex(hex, hex.length / 2, 'bytes')
  const verified = tryDecodeAndVerify(bytes)
  let record: SignedRecord
  let signature: Provenance['signature'] = 'valid'
  if ('error' in verified) {
    try {
      record = decodeRecord(bytes).record
      signature = 'invalid'
    } catch (err) {
      return [reject(line, 'MALFORMED', `record bytes do not decode: ${(err as Error).message}`)]
    }
  } else record = verified.record
  if (record.kind === 'revoke' && options.revocations) {
    // Its signature decides: a revocation nobody can show its author signed removes nothing.
    if (signature !== 'valid') return [reject(line, 'REFUSED', `the revocation of record ${record.body.target.slice(0, 16)}… does not verify: not applied`)]
    return [{ kind: 'revocation', line, author: record.author, target: record.body.target, ...(record.body.signal !== undefined ? { signal: record.body.signal } : {}) }]
  }
  if (record.kind !== 'signals') return [reject(line, 'UNSUPPORTED', `a ${record.kind} record carries no signals (import it without --bank/--contribute to append it to the replica)`)]
  const body = record.body as SignalsBody
  const provenance: Provenance = { member: record.author, record: record.id, signature }
  return body.signals.map((s, signalIndex) => {
    const item = toItem(line, { type: s.type, value: s.value, quality: s.quality, labels: body.labels, note: body.note, contentType: body.contentType, provenance }, options)
    if (item.kind === 'signal') {
      if (s.frames) item.frames = s.frames
      item.signalIndex = signalIndex
    }
    return item
  })
}

function signalLine(line: number, json: Record<string, unknown>, options: ReadOptions): ListItem {
  const labels = Array.isArray(json.labels) ? json.labels.filter((l): l is string => typeof l === 'string') : undefined
  const item = toItem(line, {
    type: typeof json.type === 'string' ? json.type : undefined,
    value: typeof json.value === 'string' ? json.value : undefined,
    quality: typeof json.quality === 'number' || typeof json.quality === 'string' ? json.quality : undefined,
    labels,
    note: typeof json.note === 'string' ? json.note : undefined,
    contentType: typeof json.contentType === 'string' ? json.contentType : undefined,
    provenance: typeof json.provenance === 'object' && json.provenance !== null ? (json.provenance as Provenance) : undefined,
  }, options)
  if (item.kind === 'signal' && Array.isArray(json.frames)) item.frames = json.frames as ListSignal['frames']
  return item
}

export async function* readJsonl(stream: Readable, options: ReadOptions): AsyncGenerator<ListItem> {
  for await (const { line, text } of boundedLines(stream, options)) {
    if (text.trim() === '') continue
    const parsed = parseLine(line, text)
    if (!('json' in parsed)) {
      yield parsed
      continue
    }
    const { json } = parsed
    if (typeof json.bytes === 'string') yield* recordSignals(line, json.bytes, options)
    else if (typeof json.type === 'string') yield signalLine(line, json, options)
    else yield reject(line, 'MALFORMED', 'neither a record ({bytes}) nor a signal ({type, value})')
  }
}

const HMA_KEYS = ['id', 'bank', 'signals', 'note', 'metadata', 'disable_until_ts', 'collab_metadata', 'original_media_uri', 'created_at', 'updated_at', 'records']

export async function* readHma(stream: Readable, options: ReadOptions): AsyncGenerator<ListItem> {
  for await (const { line, text } of boundedLines(stream, options)) {
    if (text.trim() === '') continue
    const parsed = parseLine(line, text)
    if (!('json' in parsed)) {
      yield parsed
      continue
    }
    const { json } = parsed
    const content = typeof json.signals === 'object' && json.signals !== null && !Array.isArray(json.signals)
    const signals = (content ? json.signals : json) as Record<string, unknown>
    if (content) {
      const unknown = Object.keys(json).filter((k) => !HMA_KEYS.includes(k))
      if (unknown.length > 0) {
        yield reject(line, 'MALFORMED', `not HMA bank content: unexpected keys ${unknown.join(', ')}`)
        continue
      }
    }
    const entries = Object.entries(signals)
    if (entries.length === 0) {
      yield reject(line, 'MALFORMED', 'no signals')
      continue
    }
    const metadata = (content && typeof json.metadata === 'object' && json.metadata !== null ? json.metadata : {}) as Record<string, unknown>
    const extra = (typeof metadata.json === 'object' && metadata.json !== null ? metadata.json : {}) as Record<string, unknown>
    const provenance: Provenance = {}
    if (typeof extra.member === 'string') provenance.member = extra.member
    if (typeof extra.record === 'string') provenance.record = extra.record
    if (extra.signature === 'valid' || extra.signature === 'invalid' || extra.signature === 'unverified') provenance.signature = extra.signature
    const source = [json.bank, metadata.content_id ?? json.id].filter((x) => typeof x === 'string' || typeof x === 'number').join('/')
    if (source) provenance.source = source
    const labels = Array.isArray(extra.labels) ? extra.labels.filter((l): l is string => typeof l === 'string') : undefined
    for (const [type, value] of entries) {
      yield toItem(line, {
        type,
        value: typeof value === 'string' ? value : undefined,
        quality: type === 'pdq' && typeof extra.quality === 'number' ? extra.quality : undefined,
        labels,
        note: content && typeof json.note === 'string' ? json.note : undefined,
        provenance: Object.keys(provenance).length > 0 ? provenance : undefined,
      }, options)
    }
  }
}

export function jsonlWriter(): ListWriter {
  return {
    head: () => '',
    item: (s: ExportSignal) => JSON.stringify({ type: s.type, value: s.value, quality: s.quality, labels: s.labels, note: s.note, contentType: s.contentType, frames: s.frames, provenance: s.provenance }) + '\n',
    tail: () => '',
  }
}

/**
 * One HMA content body per signal: {signals: {type: value}, note?, metadata: {content_id?, json: {labels,
 * quality?, member?, record?, signature?}}}. HMA has no labels: they ride in metadata.json, which HMA keeps.
 */
export function hmaWriter(): ListWriter {
  return {
    head: () => '',
    item: (s: ExportSignal) => {
      const p = s.provenance ?? {}
      const extra = { labels: s.labels, quality: s.quality, member: p.member, record: p.record, signature: p.signature }
      const metadata = { ...(p.record || p.source ? { content_id: p.record ?? p.source } : {}), json: extra }
      return JSON.stringify({ signals: { [s.type]: s.value }, ...(s.note ? { note: s.note } : {}), metadata }) + '\n'
    },
    tail: () => '',
  }
}

/**
 * STIX 2.1 bundles: `{"type": "bundle", "objects": [...]}`; each object is one item (`line` = its position in
 * `objects`, from 1).
 *
 * Read:
 * - `indicator` objects with a STIX pattern: every comparison `file:hashes.<ALGO> = '<hex>'` in it is a signal,
 *   ALGO one of MD5, SHA-256 (also SHA256) and, for perceptual hashes, PDQ, x_pdq or X-PDQ (STIX has no PDQ
 *   in its hash-algorithm vocabulary; the hashes dictionary allows custom names, and these are the ones met in
 *   the wild). Its `labels` are the labels, its `description` the note, and the custom properties
 *   `x_pdq_quality`, `x_hashmesh_member`, `x_hashmesh_record`, `x_hashmesh_signature` the quality and provenance.
 * - `file` objects (SCOs): each entry of `hashes` with one of those names.
 * - an indicator with `pattern_type` other than `stix`, and any other object type but identity,
 *   marking-definition, relationship, report and extension-definition, is reported (UNKNOWN_TYPE).
 *
 * Write: a bundle with one indicator per signal, pattern `[file:hashes.'<ALGO>' = '<value>']` (PDQ as 'PDQ').
 */
import { createHash } from 'node:crypto'
import type { Readable } from 'node:stream'
import { jsonItems } from '../json-items.js'
import { reject, toItem } from '../signal.js'
import type { ExportSignal, ListItem, ListWriter, Provenance, ReadOptions, WriteOptions } from '../types.js'

const ALGORITHMS: Record<string, string> = { md5: 'md5', 'sha-256': 'sha256', sha256: 'sha256', pdq: 'pdq', x_pdq: 'pdq', 'x-pdq': 'pdq' }
const WRITE_ALGORITHM: Record<string, string> = { md5: 'MD5', video_md5: 'MD5', sha256: 'SHA-256', pdq: 'PDQ' }
const COMPARISON = /file:hashes\.(?:'([^']+)'|"([^"]+)"|([A-Za-z0-9_-]+))\s*=\s*'([^']*)'/g
const PASSIVE = new Set(['identity', 'marking-definition', 'relationship', 'report', 'extension-definition', 'language-content', 'note', 'opinion'])

export async function* readStix(stream: Readable, options: ReadOptions): AsyncGenerator<ListItem> {
  let line = 0
  let bundle = false
  const isObject = (path: Array<string | number>): boolean => (path.length === 2 && path[0] === 'objects' && typeof path[1] === 'number') || (path.length === 1 && path[0] === 'type')
  for await (const { path, value } of jsonItems(stream, isObject, { name: options.name, signal: options.signal })) {
    if (path[0] === 'type') {
      bundle = value === 'bundle'
      continue
    }
    line++
    if (typeof value !== 'object' || value === null) {
      yield reject(line, 'MALFORMED', 'a bundle object that is not a JSON object')
      continue
    }
    yield* objectItems(line, value as Record<string, unknown>, options)
  }
  if (!bundle) yield reject(1, 'MALFORMED', 'not a STIX bundle (no "type": "bundle")')
}

function* objectItems(line: number, o: Record<string, unknown>, options: ReadOptions): Generator<ListItem> {
  const type = String(o.type ?? '')
  if (PASSIVE.has(type)) return
  const labels = Array.isArray(o.labels) ? o.labels.filter((l): l is string => typeof l === 'string') : []
  const provenance: Provenance = {}
  if (typeof o.x_hashmesh_member === 'string') provenance.member = o.x_hashmesh_member
  if (typeof o.x_hashmesh_record === 'string') provenance.record = o.x_hashmesh_record
  if (o.x_hashmesh_signature === 'valid' || o.x_hashmesh_signature === 'invalid' || o.x_hashmesh_signature === 'unverified') provenance.signature = o.x_hashmesh_signature
  if (typeof o.id === 'string') provenance.source = o.id
  const note = typeof o.description === 'string' && o.description ? o.description : undefined
  const pairs: Array<[string, string]> = []
  if (type === 'indicator') {
    if (o.pattern_type !== undefined && o.pattern_type !== 'stix') {
      yield reject(line, 'UNKNOWN_TYPE', `indicator pattern_type "${String(o.pattern_type)}" (only stix patterns are read)`)
      return
    }
    for (const m of String(o.pattern ?? '').matchAll(COMPARISON)) pairs.push([(m[1] ?? m[2] ?? m[3])!, m[4]!])
    if (pairs.length === 0) {
      yield reject(line, 'UNKNOWN_TYPE', 'indicator pattern has no file:hashes comparison')
      return
    }
  } else if (type === 'file') {
    const hashes = (typeof o.hashes === 'object' && o.hashes !== null ? o.hashes : {}) as Record<string, unknown>
    for (const [algo, value] of Object.entries(hashes)) if (typeof value === 'string') pairs.push([algo, value])
    if (pairs.length === 0) {
      yield reject(line, 'MALFORMED', 'file object without hashes')
      return
    }
  } else {
    yield reject(line, 'UNKNOWN_TYPE', `STIX object type "${type}" carries no file hash`)
    return
  }
  for (const [algo, value] of pairs) {
    const signalType = ALGORITHMS[algo.toLowerCase()]
    if (!signalType) {
      yield reject(line, 'UNKNOWN_TYPE', `hash algorithm "${algo}" (MD5, SHA-256, PDQ)`)
      continue
    }
    yield toItem(line, {
      type: signalType, value,
      quality: signalType === 'pdq' && typeof o.x_pdq_quality === 'number' ? o.x_pdq_quality : undefined,
      labels, note, provenance: Object.keys(provenance).length > 0 ? provenance : undefined,
    }, options)
  }
}

/** A deterministic id from the content, so the same export gives the same bundle. */
function stixId(type: string, seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex')
  return `${type}--${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`
}

export function stixWriter(options: WriteOptions = {}): ListWriter {
  const now = new Date(options.now ?? Date.now()).toISOString()
  const identity = { type: 'identity', spec_version: '2.1', id: stixId('identity', options.title ?? 'hashmesh'), created: now, modified: now, name: options.title ?? 'hashmesh export', identity_class: 'organization' }
  return {
    head: () => `{"type":"bundle","id":"${stixId('bundle', `${now}:${options.title ?? ''}`)}","objects":[\n${JSON.stringify(identity)}`,
    item: (s: ExportSignal) => {
      const algo = WRITE_ALGORITHM[s.type]
      if (!algo) return '' // vpdq: no STIX form
      const p = s.provenance ?? {}
      const indicator: Record<string, unknown> = {
        type: 'indicator', spec_version: '2.1', id: stixId('indicator', `${s.type}:${s.value}:${p.record ?? ''}`), created: now, modified: now,
        created_by_ref: identity.id, pattern: `[file:hashes.'${algo}' = '${s.value}']`, pattern_type: 'stix', valid_from: now,
        indicator_types: ['malicious-activity'],
      }
      if (s.labels.length > 0) indicator.labels = s.labels
      if (s.note) indicator.description = s.note
      if (s.type === 'pdq' && s.quality !== undefined) indicator.x_pdq_quality = s.quality
      if (p.member) indicator.x_hashmesh_member = p.member
      if (p.record) indicator.x_hashmesh_record = p.record
      if (p.signature) indicator.x_hashmesh_signature = p.signature
      return ',\n' + JSON.stringify(indicator)
    },
    tail: () => '\n]}\n',
  }
}

/**
 * MISP event JSON: `{"Event": {...}}`, or a REST search answer `{"response": [{"Event": {...}}, …]}`.
 *
 * Read: every attribute of `Event.Attribute` and of each object in `Event.Object` is one item (its `line` is
 * its position among them, from 1). Types: `md5`, `sha256`, `filename|md5`, `filename|sha256`; a PDQ hash is
 * an attribute of type `pdq`, or any attribute whose `object_relation` is `pdq` (MISP has no core PDQ type;
 * hashmesh writes it as a `file` object attribute with relation `pdq`, type `text`). Other attribute types are
 * reported as UNKNOWN_TYPE. Labels: the event's and the attribute's `Tag` names, and the distribution as
 * `source:misp-dist-N` (the attribute's own, or the event's when it inherits). The attribute comment is the
 * note; the event uuid is the provenance source, the creator organisation its member name.
 *
 * Event tags come after the attributes in MISP's own exports, so the event is read twice (metadata, then
 * items); a stream is spooled to a temporary file first.
 *
 * Write: one event (no event-level distribution: the receiving MISP applies its default, and signals without a
 * `source:misp-dist-N` label inherit it); each signal is a `file` object with one attribute (relation md5, sha256 or pdq), its
 * labels as tags (except `source:misp-dist-N`, which is its distribution), and the federation provenance in
 * the object's comment: `hashmesh member=<key> record=<id> signature=<status>`.
 */
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomUUID } from 'node:crypto'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { jsonItems, type JsonPath } from '../json-items.js'
import { reject, toItem } from '../signal.js'
import type { ExportSignal, ListItem, ListWriter, Provenance, ReadOptions, WriteOptions } from '../types.js'

interface EventMeta { tags: string[]; distribution?: string; uuid?: string; org?: string }

/** Path of an event inside the document: [] for {"Event"}, ['response', i] for a search answer. */
function eventPrefix(path: JsonPath): string | undefined {
  if (path[0] === 'Event') return ''
  if (path[0] === 'response' && typeof path[1] === 'number' && path[2] === 'Event') return String(path[1])
  return undefined
}
const after = (path: JsonPath): JsonPath => (path[0] === 'Event' ? path.slice(1) : path.slice(3))

const TYPES: Record<string, string> = { md5: 'md5', sha256: 'sha256', 'filename|md5': 'md5', 'filename|sha256': 'sha256', pdq: 'pdq' }
const DIST_LABEL = /^source:misp-dist-([0-5])$/
const PROVENANCE_COMMENT = /^hashmesh member=([0-9a-f]*) record=([0-9a-f]*) signature=(\w*)$/

async function spool(stream: Readable): Promise<{ path: string; done: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'hashmesh-misp-'))
  const path = join(dir, 'event.json')
  await pipeline(stream, createWriteStream(path))
  return { path, done: () => rm(dir, { recursive: true, force: true }) }
}

export async function* readMisp(stream: Readable, options: ReadOptions): AsyncGenerator<ListItem> {
  const file = await spool(stream)
  const jsonOptions = { name: options.name, signal: options.signal }
  try {
    const events = new Map<string, EventMeta>()
    const meta = (prefix: string): EventMeta => {
      let m = events.get(prefix)
      if (!m) events.set(prefix, (m = { tags: [] }))
      return m
    }
    const isMeta = (path: JsonPath): boolean => {
      const prefix = eventPrefix(path)
      const rest = prefix === undefined ? [] : after(path)
      return prefix !== undefined && rest.length === 1 && ['Tag', 'distribution', 'uuid', 'Orgc'].includes(String(rest[0]))
    }
    for await (const { path, value } of jsonItems(createReadStream(file.path), isMeta, jsonOptions)) {
      const m = meta(eventPrefix(path)!)
      const field = after(path)[0]
      if (field === 'Tag' && Array.isArray(value)) m.tags = tagNames(value)
      else if (field === 'distribution') m.distribution = String(value)
      else if (field === 'uuid' && typeof value === 'string') m.uuid = value
      else if (field === 'Orgc' && typeof value === 'object' && value !== null) m.org = String((value as { name?: unknown }).name ?? '') || undefined
    }
    const isItem = (path: JsonPath): boolean => {
      const prefix = eventPrefix(path)
      if (prefix === undefined) return false
      const rest = after(path)
      return rest.length === 2 && (rest[0] === 'Attribute' || rest[0] === 'Object') && typeof rest[1] === 'number'
    }
    let line = 0
    for await (const { path, value } of jsonItems(createReadStream(file.path), isItem, jsonOptions)) {
      const m = meta(eventPrefix(path)!)
      if (typeof value !== 'object' || value === null) {
        yield reject(++line, 'MALFORMED', 'an attribute or object that is not a JSON object')
        continue
      }
      const v = value as Record<string, unknown>
      if (after(path)[0] === 'Object') {
        const attributes = Array.isArray(v.Attribute) ? v.Attribute : []
        if (attributes.length === 0) yield reject(++line, 'MALFORMED', `object "${String(v.name ?? '')}" has no attributes`)
        const provenance = parseProvenance(v.comment)
        for (const a of attributes) yield attributeItem(++line, a, m, options, provenance, tagNames(v.Tag))
      } else yield attributeItem(++line, v, m, options)
    }
    if (line === 0 && events.size === 0) yield reject(1, 'MALFORMED', 'no MISP event ({"Event": …}) in the document')
  } finally {
    await file.done()
  }
}

function tagNames(tags: unknown): string[] {
  return Array.isArray(tags) ? tags.map((t) => (typeof t === 'object' && t !== null ? (t as { name?: unknown }).name : t)).filter((n): n is string => typeof n === 'string') : []
}

function parseProvenance(comment: unknown): Provenance | undefined {
  const m = typeof comment === 'string' ? PROVENANCE_COMMENT.exec(comment) : null
  if (!m) return undefined
  const p: Provenance = {}
  if (m[1]) p.member = m[1]
  if (m[2]) p.record = m[2]
  if (m[3] === 'valid' || m[3] === 'invalid' || m[3] === 'unverified') p.signature = m[3]
  return p
}

function attributeItem(line: number, raw: unknown, event: EventMeta, options: ReadOptions, provenance?: Provenance, objectTags: string[] = []): ListItem {
  if (typeof raw !== 'object' || raw === null) return reject(line, 'MALFORMED', 'an attribute that is not a JSON object')
  const a = raw as Record<string, unknown>
  const misptype = String(a.type ?? '')
  const relation = typeof a.object_relation === 'string' ? a.object_relation : undefined
  const type = relation === 'pdq' ? 'pdq' : TYPES[misptype]
  if (!type) return reject(line, 'UNKNOWN_TYPE', `MISP attribute type "${misptype}"${relation ? ` (relation ${relation})` : ''} is not a hash hashmesh reads`)
  let value = typeof a.value === 'string' ? a.value : undefined
  if (value !== undefined && misptype.startsWith('filename|')) value = value.slice(value.lastIndexOf('|') + 1)
  const own = a.distribution === undefined || a.distribution === null ? '5' : String(a.distribution)
  const distribution = own === '5' ? event.distribution : own
  const labels = [...event.tags, ...objectTags, ...tagNames(a.Tag)]
  if (distribution !== undefined && /^[0-4]$/.test(distribution)) labels.push(`source:misp-dist-${distribution}`)
  const source = event.uuid ? `misp:${event.uuid}` : undefined
  const prov: Provenance = { ...(provenance ?? {}), ...(source ? { source } : {}), ...(event.org && !provenance?.member ? { memberName: event.org } : {}) }
  return toItem(line, {
    type,
    value,
    labels,
    note: typeof a.comment === 'string' && a.comment && !PROVENANCE_COMMENT.test(a.comment) ? a.comment : undefined,
    provenance: Object.keys(prov).length > 0 ? prov : undefined,
  }, options)
}

export function mispWriter(options: WriteOptions = {}): ListWriter {
  const now = options.now ?? Date.now()
  const date = new Date(now).toISOString().slice(0, 10)
  let first = true
  return {
    head: () => `{"Event":{"uuid":${JSON.stringify(randomUUID())},"info":${JSON.stringify(options.title ?? 'hashmesh export')},"date":"${date}","timestamp":"${Math.floor(now / 1000)}","threat_level_id":"4","analysis":"2","Object":[\n`,
    item: (s: ExportSignal) => {
      const relation = s.type === 'video_md5' ? 'md5' : s.type
      if (relation === 'vpdq') return ''
      const distribution = s.labels.map((l) => DIST_LABEL.exec(l)?.[1]).find((d) => d !== undefined) ?? '5'
      const tags = s.labels.filter((l) => !DIST_LABEL.test(l)).map((name) => ({ name }))
      const p = s.provenance
      const attribute = {
        object_relation: relation, type: relation === 'pdq' ? 'text' : relation, category: relation === 'pdq' ? 'Other' : 'Payload delivery',
        value: s.value, to_ids: relation !== 'pdq', distribution, comment: s.note ?? '', Tag: tags,
      }
      const object = {
        name: 'file', 'meta-category': 'file', distribution: '5',
        comment: p ? `hashmesh member=${p.member ?? ''} record=${p.record ?? ''} signature=${p.signature ?? ''}` : '',
        Attribute: [attribute],
      }
      const text = (first ? '' : ',\n') + JSON.stringify(object)
      first = false
      return text
    },
    tail: () => '\n]}}\n',
  }
}

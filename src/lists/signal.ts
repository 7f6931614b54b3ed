/**
 * What every reader does to one line's fields: the type name mapped (HMA's, python-threatexchange's and
 * hashmesh's names), the value checked as hex of the type's length, labels mapped onto the taxonomy.
 */
import { hexCase } from '../hash/hex.js'
import type { TaxonomyRules } from '../record/taxonomy.js'
import type { LineCode, ListItem, ListRejection, ListSignal, ListSignalType, Provenance, UnknownLabelMode } from './types.js'

/** Type names seen in lists, lower-cased, to the list type. */
const TYPE_NAMES: Record<string, ListSignalType> = {
  pdq: 'pdq', pdq_hash: 'pdq', hash_pdq: 'pdq', 'pdq-hash': 'pdq',
  md5: 'md5', photo_md5: 'md5', file_md5: 'md5', 'filename|md5': 'md5',
  video_md5: 'video_md5',
  sha256: 'sha256', 'sha-256': 'sha256', file_sha256: 'sha256', 'filename|sha256': 'sha256',
  vpdq: 'vpdq', video_vpdq: 'vpdq',
}

const HEX_LENGTH: Partial<Record<ListSignalType, number>> = { pdq: 64, md5: 32, video_md5: 32, sha256: 64 }

export function listSignalType(name: string): ListSignalType | undefined {
  // (a list names its type the same way on every line, usually as written here: no copy then)
  return (Object.hasOwn(TYPE_NAMES, name) ? TYPE_NAMES[name] : undefined) ?? TYPE_NAMES[name.trim().toLowerCase()]
}

export function reject(line: number, code: LineCode, message: string): ListRejection {
  return { kind: 'rejected', line, code, message }
}

/** The hex value of a known type, lower-cased; or why not. */
export function checkValue(line: number, type: ListSignalType, raw: string): string | ListRejection {
  const value = raw.trim()
  if (value === '') return reject(line, 'MALFORMED', 'no hash value')
  if (type === 'vpdq') return value.toLowerCase()
  const length = HEX_LENGTH[type]!
  const kind = hexCase(value)
  if (kind === 0) return reject(line, 'BAD_HEX', `${type} value is not hex: ${shorten(value)}`)
  if (value.length !== length) return reject(line, 'BAD_LENGTH', `${type} needs ${length} hex digits, got ${value.length}`)
  return kind === 1 ? value : value.toLowerCase()
}

export interface SignalFields {
  type: string | undefined
  value: string | undefined
  quality?: string | number
  labels?: string[]
  /** Instead of `labels`: labels already mapped (mapLabels), or the reason they are not. */
  mappedLabels?: string[] | string
  note?: string
  contentType?: string
  provenance?: Provenance
}

/** One line's fields to a signal, or the first reason it is not one. */
export function toItem(line: number, fields: SignalFields, options: LabelOptions & { signalType?: ListSignalType }): ListItem {
  const typeName = fields.type ?? options.signalType
  if (typeName === undefined || typeName === '') return reject(line, 'MALFORMED', 'no signal type (give one with the type column or --type)')
  const type = typeof typeName === 'string' ? listSignalType(typeName) : typeName
  if (!type) return reject(line, 'UNKNOWN_TYPE', `unknown signal type "${shorten(String(typeName))}" (pdq, md5, video_md5, sha256, vpdq)`)
  if (fields.value === undefined) return reject(line, 'MALFORMED', 'no hash value')
  const value = checkValue(line, type, fields.value)
  if (typeof value !== 'string') return value
  const item: ListSignal = { kind: 'signal', line, type, value }
  if (fields.quality !== undefined && fields.quality !== '') {
    const q = Number(fields.quality)
    if (!Number.isInteger(q) || q < 0 || q > 100) return reject(line, 'MALFORMED', `quality must be an integer 0..100, got "${shorten(String(fields.quality))}"`)
    item.quality = q
  }
  const labels = fields.mappedLabels ?? (fields.labels && fields.labels.length > 0 ? mapLabels(fields.labels, options) : undefined)
  if (labels !== undefined) {
    if (typeof labels === 'string') return reject(line, 'BAD_LABEL', labels)
    if (labels.length > 0) item.labels = labels
  }
  if (fields.note) item.note = fields.note
  if (fields.contentType) item.contentType = fields.contentType
  if (fields.provenance) item.provenance = fields.provenance
  return item
}

export interface LabelOptions {
  taxonomy?: TaxonomyRules
  unknownLabels?: UnknownLabelMode
}

const SOURCE_VALUE = /^[a-z0-9][a-z0-9._-]{0,62}$/

/**
 * Labels onto the taxonomy: `ns:value` kept when the taxonomy allows it; a bare value that is a listed value
 * of exactly one namespace gets that namespace (`recruitment` -> `behavior:recruitment`); anything else is an
 * error, dropped, or kept as `source:<slug>`, by `unknownLabels`. Without a taxonomy, labels pass lower-cased.
 * Answers the labels, or the error message.
 */
export function mapLabels(raw: string[], options: LabelOptions): string[] | string {
  const out: string[] = []
  for (const given of raw) {
    const label = given.trim().toLowerCase()
    if (!label) continue
    const mapped = options.taxonomy ? mapLabel(label, options.taxonomy) : label
    if (mapped !== undefined) {
      if (!out.includes(mapped)) out.push(mapped)
      continue
    }
    const mode = options.unknownLabels ?? 'error'
    if (mode === 'drop') continue
    if (mode === 'keep') {
      const slug = label.replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '').slice(0, 63)
      if (SOURCE_VALUE.test(slug) && options.taxonomy?.namespaces.source) {
        const kept = `source:${slug}`
        if (!out.includes(kept)) out.push(kept)
        continue
      }
    }
    return `label "${shorten(given)}" is not in the taxonomy (use --unknown-labels drop|keep)`
  }
  return out
}

function mapLabel(label: string, taxonomy: TaxonomyRules): string | undefined {
  const cut = label.indexOf(':')
  if (cut > 0) {
    const rule = taxonomy.namespaces[label.slice(0, cut)]
    const value = label.slice(cut + 1)
    if (!rule || !value) return undefined
    if (rule.values && !rule.values.includes(value)) return undefined
    if (rule.pattern && !new RegExp(rule.pattern).test(value)) return undefined
    if (!rule.values && !rule.free && !rule.pattern) return undefined
    return label
  }
  const owners = Object.entries(taxonomy.namespaces).filter(([, rule]) => rule.values?.includes(label))
  return owners.length === 1 ? `${owners[0]![0]}:${label}` : undefined
}

export function shorten(text: string, max = 40): string {
  return text.length > max ? `${text.slice(0, max)}…` : text
}

/** Splits a label cell: commas, semicolons, pipes or whitespace. */
export const DEFAULT_LABEL_SEPARATOR = /[,;|\s]+/

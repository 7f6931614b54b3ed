/**
 * Bodies of each record kind: decoded form <-> wire (dag-cbor data model) form, with bounds.
 * Everything untrusted is checked here: types, lengths, counts, enumerations.
 */
import * as dagCbor from '@ipld/dag-cbor'
import { RECORD_LIMITS } from '../constants.js'
import { fail } from '../errors.js'
import { HEX_VALUE, hexCase, hexDigitValue } from '../hash/hex.js'
import { sha256Hex, toHex } from './crypto.js'
import {
  OPINIONS, REVOKE_REASONS, SIGNAL_TYPES,
  type OpinionBody, type RevokeBody, type Signal, type SignalType, type SignalsBody, type VpdqFrame,
} from './types.js'

export const SIGNAL_VALUE_BYTES: Record<Exclude<SignalType, 'vpdq'>, number> = { pdq: 32, md5: 16, sha256: 32 }
const LABEL_RE = /^[a-z][a-z0-9-]{0,31}:[a-z0-9][a-z0-9._-]*$/
const CONTENT_TYPE_RE = /^[a-z][a-z0-9-]{0,31}$/

type Wire = Record<string, unknown>

export function isWireMap(v: unknown): v is Wire {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array)
}

function onlyKeys(obj: Wire, allowed: readonly string[], what: string): void {
  const k = unknownKey(obj, allowed)
  if (k !== undefined) fail('RECORD_INVALID', `${what}: unknown field "${k}"`)
}

/** The first key of `obj` not in `allowed` (for-in: no array of keys per call; a record holds up to 1,000 signals). */
function unknownKey(obj: Wire, allowed: readonly string[]): string | undefined {
  for (const k in obj) if (!allowed.includes(k)) return k
  return undefined
}

function bytesOf(v: unknown, length: number, what: string): Uint8Array {
  if (!(v instanceof Uint8Array) || v.length !== length) fail('HASH_INVALID', `${what} must be ${length} bytes`)
  return v
}

function intIn(v: unknown, min: number, max: number, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail('RECORD_INVALID', `${what} must be an integer in [${min}, ${max}]`)
  return v
}

function stringOf(v: unknown, maxLength: number, what: string): string {
  if (typeof v !== 'string' || v.length > maxLength) fail('RECORD_INVALID', `${what} must be a string of at most ${maxLength} characters`)
  return v
}

function oneOf<T extends string>(v: unknown, values: readonly T[], what: string, code: 'RECORD_INVALID' | 'SIGNAL_INVALID' = 'RECORD_INVALID'): T {
  if (typeof v !== 'string' || !values.includes(v as T)) fail(code, `${what} must be one of ${values.join(', ')}`)
  return v as T
}

/** Whether `value` is a string of exactly `bytes` bytes in hex (either case). */
export function isHexOfLength(value: unknown, bytes: number): value is string {
  return hexOfLengthCase(value, bytes) !== 0
}

/** 0 when `value` is not a string of exactly `bytes` bytes in hex, 1 when it is lower-case, 2 when it has an
 * upper-case digit (one pass: no lower-casing of what is lower-case already). */
export function hexOfLengthCase(value: unknown, bytes: number): 0 | 1 | 2 {
  return bytes === 0 ? (value === '' ? 1 : 0) : hexCase(value, bytes * 2)
}

/** Hex string of exactly `bytes` bytes (lowercase accepted, uppercase normalised) -> bytes. */
export function hexValue(value: unknown, bytes: number, what: string): Uint8Array {
  if (!isHexOfLength(value, bytes)) fail('HASH_INVALID', `${what} must be ${bytes * 2} hex digits`)
  return hexBytes(value)
}

/** The bytes of a string already checked to be hex of even length. */
function hexBytes(value: string): Uint8Array {
  const out = new Uint8Array(value.length >> 1)
  for (let i = 0; i < out.length; i++) out[i] = (HEX_VALUE[value.charCodeAt(2 * i)]! << 4) | HEX_VALUE[value.charCodeAt(2 * i + 1)]!
  return out
}

/** The bytes of `value` when it is hex of exactly `bytes` bytes, read in one pass; else undefined. */
function hexBytesOf(value: unknown, bytes: number): Uint8Array | undefined {
  if (typeof value !== 'string' || value.length !== bytes * 2) return undefined
  const out = new Uint8Array(bytes)
  for (let i = 0; i < bytes; i++) {
    const hi = value.charCodeAt(2 * i)
    const lo = value.charCodeAt(2 * i + 1)
    const h = hexDigitValue(hi)
    const l = hexDigitValue(lo)
    if (h < 0 || l < 0) return undefined
    out[i] = (h << 4) | l
  }
  return out
}

// ---- labels and content type (syntax only; the local taxonomy is applied when contributing) ----

export function checkLabels(labels: unknown): string[] {
  if (!Array.isArray(labels) || labels.length > RECORD_LIMITS.maxLabels) fail('LABEL_INVALID', `labels must be a list of at most ${RECORD_LIMITS.maxLabels}`)
  const seen = new Set<string>()
  for (const label of labels) {
    if (typeof label !== 'string' || label.length > RECORD_LIMITS.maxLabelLength || !LABEL_RE.test(label)) {
      fail('LABEL_INVALID', `label ${JSON.stringify(label).slice(0, 80)} must be "namespace:value" (lowercase, at most ${RECORD_LIMITS.maxLabelLength} characters)`)
    }
    if (seen.has(label)) fail('LABEL_INVALID', `label "${label}" is repeated`)
    seen.add(label)
  }
  return labels as string[]
}

export function checkContentType(v: unknown): string {
  if (typeof v !== 'string' || !CONTENT_TYPE_RE.test(v)) fail('RECORD_INVALID', 'contentType must be a short lowercase word')
  return v
}

// ---- signals ----

export function vpdqValue(frames: VpdqFrame[]): string {
  return sha256Hex(dagCbor.encode(framesToWire(frames)))
}

function framesToWire(frames: VpdqFrame[]): unknown[] {
  return frames.map((f) => [hexValue(f.hash, 32, 'vpdq frame hash'), f.quality, f.ms])
}

export function signalToWire(signal: Signal): Wire {
  const out: Wire = { type: signal.type }
  if (signal.type === 'vpdq') out.frames = framesToWire(signal.frames ?? [])
  else {
    const bytes = SIGNAL_VALUE_BYTES[signal.type]
    out.value = hexBytesOf(signal.value, bytes) ?? hexValue(signal.value, bytes, `${signal.type} value`) // throws, saying why
  }
  if (signal.quality !== undefined) out.quality = signal.quality
  return out
}

/** A signal's wire map to the signal; `where` names it in errors (a number: its index in a record's signals). */
export function signalFromWire(w: unknown, where: string | number): Signal {
  if (!isWireMap(w)) fail('SIGNAL_INVALID', `${whereOf(where)} must be a map`)
  // Every message below is made only when its check fails: up to 1,000 signals per record are read here.
  const type = w.type as Signal['type']
  if (!SIGNAL_TYPES.includes(type)) oneOf(type, SIGNAL_TYPES, `${whereOf(where)}.type`, 'SIGNAL_INVALID')
  if (unknownKey(w, type === 'vpdq' ? VPDQ_SIGNAL_KEYS : SIGNAL_KEYS) !== undefined) onlyKeys(w, type === 'vpdq' ? VPDQ_SIGNAL_KEYS : SIGNAL_KEYS, whereOf(where))
  const signal: Signal = { type, value: '' }
  if (type === 'vpdq') {
    const at = whereOf(where)
    const frames = w.frames
    if (!Array.isArray(frames) || frames.length === 0 || frames.length > RECORD_LIMITS.maxVpdqFrames) {
      fail('SIGNAL_INVALID', `${at}.frames must hold 1 to ${RECORD_LIMITS.maxVpdqFrames} frames`)
    }
    signal.frames = frames.map((f, i) => {
      if (!Array.isArray(f) || f.length !== 3) fail('SIGNAL_INVALID', `${at}.frames[${i}] must be [hash, quality, ms]`)
      return {
        hash: toHex(bytesOf(f[0], 32, `${at}.frames[${i}] hash`)),
        quality: intIn(f[1], 0, 100, `${at}.frames[${i}] quality`),
        ms: intIn(f[2], 0, 2 ** 40, `${at}.frames[${i}] ms`),
      }
    })
    signal.value = vpdqValue(signal.frames)
  } else {
    const value = w.value
    const bytes = SIGNAL_VALUE_BYTES[type]
    signal.value = toHex(value instanceof Uint8Array && value.length === bytes ? value : bytesOf(value, bytes, `${whereOf(where)}.value (${type})`))
  }
  const quality = w.quality
  if (quality !== undefined) signal.quality = typeof quality === 'number' && Number.isInteger(quality) && quality >= 0 && quality <= 100 ? quality : intIn(quality, 0, 100, `${whereOf(where)}.quality`)
  return signal
}

const SIGNAL_KEYS = ['type', 'value', 'quality']
const VPDQ_SIGNAL_KEYS = ['type', 'frames', 'quality']

function whereOf(where: string | number): string {
  return typeof where === 'number' ? `signals[${where}]` : where
}

// ---- bodies ----

export function signalsBodyToWire(body: SignalsBody): Wire {
  // Keys in dag-cbor order (shorter first), which the record encoder then takes as they are.
  const out: Wire = {}
  if (body.note !== undefined) out.note = body.note
  out.labels = body.labels
  out.signals = body.signals.map(signalToWire)
  out.contentType = body.contentType
  return out
}

export function signalsBodyFromWire(w: Wire): SignalsBody {
  onlyKeys(w, ['signals', 'contentType', 'labels', 'note'], 'signals body')
  if (!Array.isArray(w.signals) || w.signals.length === 0 || w.signals.length > RECORD_LIMITS.maxSignalsPerRecord) {
    fail('RECORD_INVALID', `a signals record holds 1 to ${RECORD_LIMITS.maxSignalsPerRecord} signals`)
  }
  const body: SignalsBody = {
    signals: w.signals.map((s, i) => signalFromWire(s, i)),
    contentType: checkContentType(w.contentType),
    labels: checkLabels(w.labels).slice(), // its own array (an own record's wire holds the caller's)
  }
  if (w.note !== undefined) body.note = stringOf(w.note, RECORD_LIMITS.maxNoteLength, 'note')
  return body
}

export function revokeBodyToWire(body: RevokeBody): Wire {
  const out: Wire = { target: hexValue(body.target, 32, 'revoke target'), reason: body.reason }
  if (body.signal !== undefined) out.signal = body.signal
  return out
}

export function revokeBodyFromWire(w: Wire): RevokeBody {
  onlyKeys(w, ['target', 'signal', 'reason'], 'revoke body')
  const body: RevokeBody = {
    target: toHex(bytesOf(w.target, 32, 'revoke target')),
    reason: oneOf(w.reason, REVOKE_REASONS, 'revoke reason'),
  }
  if (w.signal !== undefined) body.signal = intIn(w.signal, 0, RECORD_LIMITS.maxSignalsPerRecord - 1, 'revoke signal index')
  return body
}

export function opinionBodyToWire(body: OpinionBody): Wire {
  const { type, value } = body.signal
  const ref = { type, value: hexValue(value, type === 'vpdq' ? 32 : SIGNAL_VALUE_BYTES[type], `${type} value`) }
  const out: Wire = { signal: ref, opinion: body.opinion }
  if (body.record !== undefined) out.record = hexValue(body.record, 32, 'opinion record')
  if (body.note !== undefined) out.note = body.note
  return out
}

export function opinionBodyFromWire(w: Wire): OpinionBody {
  onlyKeys(w, ['signal', 'record', 'opinion', 'note'], 'opinion body')
  if (!isWireMap(w.signal)) fail('RECORD_INVALID', 'opinion signal must be a map')
  onlyKeys(w.signal, ['type', 'value'], 'opinion signal')
  const type = oneOf(w.signal.type, SIGNAL_TYPES, 'opinion signal type', 'SIGNAL_INVALID')
  const bytes = type === 'vpdq' ? 32 : SIGNAL_VALUE_BYTES[type]
  const body: OpinionBody = {
    signal: { type, value: toHex(bytesOf(w.signal.value, bytes, 'opinion signal value')) },
    opinion: oneOf(w.opinion, OPINIONS, 'opinion'),
  }
  if (w.record !== undefined) body.record = toHex(bytesOf(w.record, 32, 'opinion record'))
  if (w.note !== undefined) body.note = stringOf(w.note, RECORD_LIMITS.maxNoteLength, 'note')
  return body
}

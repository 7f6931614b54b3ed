/**
 * Wire messages of the sync protocol (SYNC_PROTOCOL), one dag-cbor map per length-prefixed frame.
 * The client sends requests, the server answers each in order (requests may be pipelined).
 * Decoded forms use lowercase hex for feed keys and record ids (as FeedHead does); the wire carries
 * 32 raw bytes. Decoding is bounded (SYNC_LIMITS) and strict: unknown types, unknown keys, wrong
 * types or out-of-range values throw HashmeshError 'PROTOCOL'. Counts are bounded while decoding
 * (bounded-decode.ts): a frame announcing more items than any legal message holds is refused at that
 * announcement, before anything is built from it. This module and the rest of sync/ and record/ are the only
 * importers of `@ipld/dag-cbor` and cborg.
 */
import { encode } from '@ipld/dag-cbor'
import { ERROR_CODES, fail, isHashmeshError, type ErrorCode } from '../errors.js'
import { decodeDagCborBounded, type DecodeBounds } from './bounded-decode.js'
import type { FeedHead } from './types.js'
import { SYNC_LIMITS } from '../constants.js'

export type SyncRequest =
  /** Heads of every feed the server holds, sorted by feed; page after `after` (a feed key). */
  | { type: 'heads'; after?: string }
  /** Records of `feed` with seq in [from, from + count); count <= maxRecordsPerRequest. */
  | { type: 'range'; feed: string; from: number; count: number }
  /** Extras (roster versions, equivocation proofs) starting at index `offset`. */
  | { type: 'extras'; offset: number }

export type SyncResponse =
  /** `next` is set when more heads follow (ask again with after = next); extrasDigest on every page. */
  | { type: 'heads'; heads: FeedHead[]; next?: string; extrasDigest: Uint8Array }
  /** Records in seq order starting at `from`; fewer than asked when the server has fewer or hit maxBatchBytes. */
  | { type: 'records'; feed: string; from: number; records: Uint8Array[] }
  /** `next` is the offset of the following page when there is one. */
  | { type: 'extras'; items: Uint8Array[]; next?: number }
  /** The server refuses (RATE_LIMITED, PROTOCOL, INTERNAL) and closes the stream. */
  | { type: 'error'; code: ErrorCode; message: string }

const HEX64 = /^[0-9a-f]{64}$/

// ---------------------------------------------------------------- encode

function keyBytes(hex: string, what: string): Uint8Array {
  if (!HEX64.test(hex)) fail('PROTOCOL', `${what} must be 64 lowercase hex digits`)
  return Uint8Array.from(Buffer.from(hex, 'hex'))
}

export function encodeRequest(req: SyncRequest): Uint8Array {
  switch (req.type) {
    case 'heads':
      return encode(req.after === undefined ? { type: 'heads' } : { type: 'heads', after: keyBytes(req.after, 'after') })
    case 'range':
      return encode({ type: 'range', feed: keyBytes(req.feed, 'feed'), from: req.from, count: req.count })
    case 'extras':
      return encode({ type: 'extras', offset: req.offset })
  }
}

export function encodeResponse(res: SyncResponse): Uint8Array {
  switch (res.type) {
    case 'heads': {
      const heads = res.heads.map((h) => ({ feed: keyBytes(h.feed, 'feed'), seq: h.seq, id: keyBytes(h.id, 'id') }))
      const msg: Record<string, unknown> = { type: 'heads', heads, extrasDigest: res.extrasDigest }
      if (res.next !== undefined) msg.next = keyBytes(res.next, 'next')
      return encode(msg)
    }
    case 'records':
      return encode({ type: 'records', feed: keyBytes(res.feed, 'feed'), from: res.from, records: res.records })
    case 'extras':
      return encode(res.next === undefined ? { type: 'extras', items: res.items } : { type: 'extras', items: res.items, next: res.next })
    case 'error':
      return encode({ type: 'error', code: res.code, message: res.message.slice(0, SYNC_LIMITS.maxErrorMessageLength) })
  }
}

// ---------------------------------------------------------------- decode

type Fields = Record<string, unknown>

/** Exact key set: every required key present, nothing beyond required and optional. */
function checkKeys(value: Fields, required: readonly string[], optional: readonly string[] = []): Fields {
  for (const key of required) if (!(key in value)) fail('PROTOCOL', `sync message lacks "${key}"`)
  for (const key of Object.keys(value)) {
    if (!required.includes(key) && !optional.includes(key)) fail('PROTOCOL', `sync message has unknown key "${key}"`)
  }
  return value
}

/** The largest legal frame is a full page of heads: no list longer, nothing deeper, no more values. */
const FRAME_BOUNDS: DecodeBounds = {
  maxItems: SYNC_LIMITS.maxFrameListItems,
  maxDepth: SYNC_LIMITS.maxFrameDepth,
  maxValues: SYNC_LIMITS.maxFrameValues,
}
const FRAME_REFUSAL = { code: 'PROTOCOL', what: 'sync message' } as const

function decodeFrame(bytes: Uint8Array): Fields {
  if (bytes.byteLength > SYNC_LIMITS.maxMessageBytes) {
    fail('PROTOCOL', `sync message of ${bytes.byteLength} bytes exceeds ${SYNC_LIMITS.maxMessageBytes}`)
  }
  let value: unknown
  try {
    value = decodeDagCborBounded(bytes, FRAME_BOUNDS, FRAME_REFUSAL)
  } catch (cause) {
    if (isHashmeshError(cause)) throw cause
    fail('PROTOCOL', 'sync message is not valid dag-cbor', { cause })
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) {
    fail('PROTOCOL', 'sync message is not a map')
  }
  return value as Fields
}

function typeOf(bytes: Uint8Array): { type: string; fields: Fields } {
  const fields = decodeFrame(bytes)
  if (typeof fields.type !== 'string') fail('PROTOCOL', 'sync message lacks a string "type"')
  return { type: fields.type, fields }
}

function hexKey(v: unknown, what: string): string {
  if (!(v instanceof Uint8Array) || v.byteLength !== 32) fail('PROTOCOL', `${what} must be 32 bytes`)
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')
}

function uint(v: unknown, what: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    fail('PROTOCOL', `${what} must be an integer in [${min}, ${max}]`)
  }
  return v
}

function byteList(v: unknown, what: string, maxItems: number, maxItemBytes: number): Uint8Array[] {
  if (!Array.isArray(v)) fail('PROTOCOL', `${what} must be a list`)
  if (v.length > maxItems) fail('PROTOCOL', `${what} has ${v.length} items, more than ${maxItems}`)
  for (const item of v) {
    if (!(item instanceof Uint8Array)) fail('PROTOCOL', `${what} items must be bytes`)
    if (item.byteLength === 0 || item.byteLength > maxItemBytes) {
      fail('PROTOCOL', `${what} item of ${item.byteLength} bytes is outside [1, ${maxItemBytes}]`)
    }
  }
  return v as Uint8Array[]
}

export function decodeRequest(bytes: Uint8Array): SyncRequest {
  const { type, fields } = typeOf(bytes)
  switch (type) {
    case 'heads': {
      const f = checkKeys(fields, ['type'], ['after'])
      return f.after === undefined ? { type } : { type, after: hexKey(f.after, 'after') }
    }
    case 'range': {
      const f = checkKeys(fields, ['type', 'feed', 'from', 'count'])
      return {
        type,
        feed: hexKey(f.feed, 'feed'),
        from: uint(f.from, 'from', 1),
        count: uint(f.count, 'count', 1, SYNC_LIMITS.maxRecordsPerRequest),
      }
    }
    case 'extras': {
      const f = checkKeys(fields, ['type', 'offset'])
      return { type, offset: uint(f.offset, 'offset') }
    }
    default:
      fail('PROTOCOL', `unknown sync request type "${type.slice(0, 32)}"`)
  }
}

export function decodeResponse(bytes: Uint8Array): SyncResponse {
  const { type, fields } = typeOf(bytes)
  switch (type) {
    case 'heads': {
      const f = checkKeys(fields, ['type', 'heads', 'extrasDigest'], ['next'])
      if (!Array.isArray(f.heads)) fail('PROTOCOL', 'heads must be a list')
      if (f.heads.length > SYNC_LIMITS.maxHeadsPerMessage) {
        fail('PROTOCOL', `${f.heads.length} heads in one message, more than ${SYNC_LIMITS.maxHeadsPerMessage}`)
      }
      const seen = new Set<string>()
      const heads = f.heads.map((h: unknown): FeedHead => {
        if (typeof h !== 'object' || h === null || Array.isArray(h)) fail('PROTOCOL', 'a head must be a map')
        const m = h as Fields
        if (Object.keys(m).length !== 3) fail('PROTOCOL', 'a head has exactly feed, seq, id')
        const head = { feed: hexKey(m.feed, 'head feed'), seq: uint(m.seq, 'head seq', 1), id: hexKey(m.id, 'head id') }
        if (seen.has(head.feed)) fail('PROTOCOL', 'duplicate feed in heads')
        seen.add(head.feed)
        return head
      })
      const digest = f.extrasDigest
      if (!(digest instanceof Uint8Array) || digest.byteLength !== 32) fail('PROTOCOL', 'extrasDigest must be 32 bytes')
      const out: SyncResponse = { type, heads, extrasDigest: digest }
      if (f.next !== undefined) out.next = hexKey(f.next, 'next')
      return out
    }
    case 'records': {
      const f = checkKeys(fields, ['type', 'feed', 'from', 'records'])
      return {
        type,
        feed: hexKey(f.feed, 'feed'),
        from: uint(f.from, 'from', 1),
        records: byteList(f.records, 'records', SYNC_LIMITS.maxRecordsPerRequest, SYNC_LIMITS.maxRecordBytes),
      }
    }
    case 'extras': {
      const f = checkKeys(fields, ['type', 'items'], ['next'])
      const items = byteList(f.items, 'extras', SYNC_LIMITS.maxExtrasPerMessage, SYNC_LIMITS.maxExtraBytes)
      return f.next === undefined ? { type, items } : { type, items, next: uint(f.next, 'next', 1) }
    }
    case 'error': {
      const f = checkKeys(fields, ['type', 'code', 'message'])
      if (typeof f.message !== 'string') fail('PROTOCOL', 'error message must be a string')
      const code = (ERROR_CODES as readonly unknown[]).includes(f.code) ? (f.code as ErrorCode) : 'INTERNAL'
      return { type, code, message: f.message.slice(0, SYNC_LIMITS.maxErrorMessageLength) }
    }
    default:
      fail('PROTOCOL', `unknown sync response type "${type.slice(0, 32)}"`)
  }
}

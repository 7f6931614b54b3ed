/**
 * Record wire format v1: canonical dag-cbor (deterministic: sorted map keys, minimal integers, no floats).
 *
 *   wire     = { version, kind, author: bytes(32), seq, prev: bytes(32) | null, timestamp, body, signature: bytes(64) }
 *   signing  = utf8(RECORD_SIGNING_DOMAIN) || dagCbor(wire without `signature`)
 *   id       = SHA-256(signing)
 *
 * Decoding is bounded (bytes, counts, lengths) and insists on the canonical form (canonical-decode.ts), so
 * one record has exactly one encoding and one id. The signing bytes of a received record are its own bytes
 * with the signature entry cut out, so a record is never encoded again on the way in.
 */
import * as dagCbor from '@ipld/dag-cbor'
import { RECORD_FORMAT_VERSION, RECORD_LIMITS, RECORD_SIGNING_DOMAIN } from '../constants.js'
import { fail, isHashmeshError } from '../errors.js'
import { decodeCanonical } from './canonical-decode.js'
import { encodeWire } from './canonical-encode.js'
import { sha256Hex, toHex, verifySignature, type Signer } from './crypto.js'
import {
  isWireMap, hexValue,
  opinionBodyFromWire, opinionBodyToWire, revokeBodyFromWire, revokeBodyToWire, signalsBodyFromWire, signalsBodyToWire,
} from './body-wire.js'
import { RECORD_KINDS, type SignedRecord, type UnsignedRecord, type VerifiedRecord } from './types.js'

const DOMAIN_BYTES = new TextEncoder().encode(RECORD_SIGNING_DOMAIN)
const ENVELOPE_KEYS = ['version', 'kind', 'author', 'seq', 'prev', 'timestamp', 'body', 'signature']
const MAX_SEQ = Number.MAX_SAFE_INTEGER
const MAX_TIMESTAMP = 2 ** 47

function bodyToWire(record: UnsignedRecord): Record<string, unknown> {
  switch (record.kind) {
    case 'signals': return signalsBodyToWire(record.body)
    case 'revoke': return revokeBodyToWire(record.body)
    case 'opinion': return opinionBodyToWire(record.body)
  }
}

function unsignedToWire(record: UnsignedRecord): Record<string, unknown> {
  return {
    version: record.version,
    kind: record.kind,
    author: hexValue(record.author, 32, 'author'),
    seq: record.seq,
    prev: record.prev === null ? null : hexValue(record.prev, 32, 'prev'),
    timestamp: record.timestamp,
    body: bodyToWire(record),
  }
}

function signingBytesOfWire(unsignedWire: Record<string, unknown>): Uint8Array {
  const encoded = dagCbor.encode(unsignedWire)
  const out = new Uint8Array(DOMAIN_BYTES.length + encoded.length)
  out.set(DOMAIN_BYTES, 0)
  out.set(encoded, DOMAIN_BYTES.length)
  return out
}

/** The exact bytes an author signs for this record. */
export function signingBytes(record: UnsignedRecord): Uint8Array {
  return signingBytesOfWire(unsignedToWire(record))
}

function sign(record: UnsignedRecord, signer: Signer): { wire: Record<string, unknown>; bytes: Uint8Array; signature: Uint8Array; id: string } {
  if (record.author !== signer.publicKeyHex) fail('KEY_INVALID', 'record author is not the signing key')
  checkEnvelopeNumbers(record.seq, record.prev, record.timestamp)
  const wire = unsignedToWire(record)
  const encoded = encodeWire(wire) ?? dagCbor.encode(wire)
  const toSign = new Uint8Array(DOMAIN_BYTES.length + encoded.length)
  toSign.set(DOMAIN_BYTES, 0)
  toSign.set(encoded, DOMAIN_BYTES.length)
  const signature = signer.sign(toSign)
  const bytes = signedBytesOf(encoded, signature, record.timestamp)
  if (bytes.length > RECORD_LIMITS.maxRecordBytes) fail('RECORD_TOO_LARGE', `record is ${bytes.length} bytes (limit ${RECORD_LIMITS.maxRecordBytes})`)
  return { wire, bytes, signature, id: sha256Hex(toSign) }
}

/**
 * Signs an own record and answers it as decodeRecord would decode its bytes: the body is read back from
 * the very wire values that were encoded, through the same checks (labels, content type, counts, values),
 * without decoding the bytes again. A note with a UTF-16 surrogate (which UTF-8 may not carry as is) takes
 * the full decode, so the record always says what its bytes say.
 */
export function signAsDecoded(record: UnsignedRecord, signer: Signer): VerifiedRecord {
  if (record.version !== RECORD_FORMAT_VERSION) fail('RECORD_VERSION', `unsupported record version ${String(record.version)}`)
  if (!(RECORD_KINDS as readonly string[]).includes(record.kind)) fail('RECORD_KIND', `unknown record kind ${JSON.stringify(record.kind)?.slice(0, 40)}`)
  const { wire, bytes, signature, id } = sign(record, signer)
  const note = (record.body as { note?: unknown }).note
  if (typeof note === 'string' && /[\ud800-\udfff]/.test(note)) return { record: decodeRecord(bytes).record, bytes }
  const body = wire.body as Record<string, unknown>
  const decoded = {
    version: RECORD_FORMAT_VERSION,
    kind: record.kind,
    author: toHex(wire.author as Uint8Array),
    seq: record.seq,
    prev: wire.prev === null ? null : toHex(wire.prev as Uint8Array),
    timestamp: record.timestamp,
    body: record.kind === 'signals' ? signalsBodyFromWire(body) : record.kind === 'revoke' ? revokeBodyFromWire(body) : opinionBodyFromWire(body),
    signature: toHex(signature),
    id,
  } as SignedRecord
  return { record: decoded, bytes }
}

function checkEnvelopeNumbers(seq: unknown, prev: unknown, timestamp: unknown): void {
  if (typeof seq !== 'number' || !Number.isInteger(seq) || seq < 1 || seq > MAX_SEQ) fail('RECORD_INVALID', 'seq must be a positive integer')
  if ((seq === 1) !== (prev === null)) fail('RECORD_INVALID', 'prev must be null exactly when seq is 1')
  if (typeof timestamp !== 'number' || !Number.isInteger(timestamp) || timestamp < 0 || timestamp > MAX_TIMESTAMP) {
    fail('RECORD_INVALID', 'timestamp must be milliseconds since the epoch')
  }
}

export interface DecodedRecord extends VerifiedRecord {
  /** The bytes the signature covers. */
  signing: Uint8Array
  signatureBytes: Uint8Array
  authorBytes: Uint8Array
}

/** Bounded, canonical decode; does NOT check the signature (see decodeAndVerify). */
export function decodeRecord(bytes: Uint8Array): DecodedRecord {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) fail('RECORD_DECODE', 'record is empty')
  if (bytes.length > RECORD_LIMITS.maxRecordBytes) fail('RECORD_TOO_LARGE', `record is ${bytes.length} bytes (limit ${RECORD_LIMITS.maxRecordBytes})`)
  let wire: unknown
  try {
    wire = decodeCanonical(bytes)
  } catch (cause) {
    fail('RECORD_DECODE', `record is not canonical dag-cbor: ${(cause as Error).message}`, { cause })
  }
  if (!isWireMap(wire)) fail('RECORD_DECODE', 'record must be a map')
  for (const k of Object.keys(wire)) if (!ENVELOPE_KEYS.includes(k)) fail('RECORD_INVALID', `unknown record field "${k}"`)
  if (wire.version !== RECORD_FORMAT_VERSION) fail('RECORD_VERSION', `unsupported record version ${String(wire.version)}`)
  if (typeof wire.kind !== 'string' || !(RECORD_KINDS as readonly string[]).includes(wire.kind)) {
    fail('RECORD_KIND', `unknown record kind ${JSON.stringify(wire.kind)?.slice(0, 40)}`)
  }
  const author = wire.author
  const signature = wire.signature
  if (!(author instanceof Uint8Array) || author.length !== 32) fail('RECORD_INVALID', 'author must be 32 bytes')
  if (!(signature instanceof Uint8Array) || signature.length !== 64) fail('SIGNATURE_INVALID', 'signature must be 64 bytes')
  const prev = wire.prev
  if (prev !== null && !(prev instanceof Uint8Array && prev.length === 32)) fail('RECORD_INVALID', 'prev must be null or 32 bytes')
  checkEnvelopeNumbers(wire.seq, prev, wire.timestamp)
  if (!isWireMap(wire.body)) fail('RECORD_INVALID', 'body must be a map')

  const kind = wire.kind as UnsignedRecord['kind']
  const body = kind === 'signals' ? signalsBodyFromWire(wire.body) : kind === 'revoke' ? revokeBodyFromWire(wire.body) : opinionBodyFromWire(wire.body)
  const signing = signingBytesOfReceived(bytes, wire.timestamp as number)
  const record = {
    version: RECORD_FORMAT_VERSION,
    kind,
    author: toHex(author),
    seq: wire.seq as number,
    prev: prev === null ? null : toHex(prev as Uint8Array),
    timestamp: wire.timestamp as number,
    body,
    signature: toHex(signature),
    id: sha256Hex(signing),
  } as SignedRecord
  return { record, bytes, signing, signatureBytes: signature, authorBytes: author }
}

export function verifyDecoded(decoded: DecodedRecord): void {
  if (!verifySignature(decoded.signing, decoded.signatureBytes, decoded.authorBytes)) {
    fail('SIGNATURE_INVALID', `signature of record ${decoded.record.id} by ${decoded.record.author.slice(0, 16)}… does not verify`)
  }
}

/** Decode with bounds, then check the signature. Throws HashmeshError with a typed code. */
/** The id of an encoded record, or undefined when the bytes are not a record (signature not checked). */
export function recordIdOf(bytes: Uint8Array): string | undefined {
  try {
    return decodeRecord(bytes).record.id
  } catch (err) {
    if (isHashmeshError(err)) return undefined
    throw err
  }
}

export function decodeAndVerify(bytes: Uint8Array): VerifiedRecord {
  const decoded = decodeRecord(bytes)
  verifyDecoded(decoded)
  return { record: decoded.record, bytes: decoded.bytes }
}

/** Like decodeAndVerify, but returns the error instead of throwing. */
export function tryDecodeAndVerify(bytes: Uint8Array): VerifiedRecord | { error: { code: string; message: string } } {
  try {
    return decodeAndVerify(bytes)
  } catch (err) {
    if (isHashmeshError(err)) return { error: { code: err.code, message: err.message } }
    throw err
  }
}

const SIGNATURE_ENTRY_HEAD = Uint8Array.from([0x69, ...new TextEncoder().encode('signature'), 0x58, 0x40])
const SIGNATURE_ENTRY_BYTES = SIGNATURE_ENTRY_HEAD.length + 64

/**
 * The signing bytes of a canonical signed record, cut from its own bytes: in dag-cbor's key order
 * (length, then bytes) "signature" is the second-to-last key, just before "timestamp", so removing that
 * entry and turning the 8-entry map head into a 7-entry one gives exactly dagCbor(record without signature).
 */
function signingBytesOfReceived(bytes: Uint8Array, timestamp: number): Uint8Array {
  const timestampEntry = 10 + uintHeadLength(timestamp) // 0x69 "timestamp" + the integer
  const cut = bytes.length - timestampEntry - SIGNATURE_ENTRY_BYTES
  if (bytes[0] !== 0xa8 || cut < 1 || !equalBytes(bytes.subarray(cut, cut + SIGNATURE_ENTRY_HEAD.length), SIGNATURE_ENTRY_HEAD)) {
    fail('RECORD_DECODE', 'record is not in canonical form')
  }
  const out = new Uint8Array(DOMAIN_BYTES.length + bytes.length - SIGNATURE_ENTRY_BYTES)
  out.set(DOMAIN_BYTES, 0)
  out[DOMAIN_BYTES.length] = 0xa7
  out.set(bytes.subarray(1, cut), DOMAIN_BYTES.length + 1)
  out.set(bytes.subarray(cut + SIGNATURE_ENTRY_BYTES), DOMAIN_BYTES.length + cut)
  return out
}

/**
 * dagCbor(record with `signature`) from dagCbor(record without it), the converse of signingBytesOfReceived:
 * the 7-entry map head becomes an 8-entry one and the signature entry goes in just before "timestamp" (the
 * last key), so the record is not encoded a second time (test/record/codec.test.ts checks the two agree).
 */
function signedBytesOf(unsigned: Uint8Array, signature: Uint8Array, timestamp: number): Uint8Array {
  const cut = unsigned.length - (10 + uintHeadLength(timestamp))
  if (unsigned[0] !== 0xa7 || signature.length !== 64 || unsigned[cut] !== 0x69) fail('INTERNAL', 'unsigned record is not in canonical form')
  const out = new Uint8Array(unsigned.length + SIGNATURE_ENTRY_BYTES)
  out[0] = 0xa8
  out.set(unsigned.subarray(1, cut), 1)
  out.set(SIGNATURE_ENTRY_HEAD, cut)
  out.set(signature, cut + SIGNATURE_ENTRY_HEAD.length)
  out.set(unsigned.subarray(cut), cut + SIGNATURE_ENTRY_BYTES)
  return out
}

/** Bytes of the shortest CBOR unsigned integer encoding of `n`. */
function uintHeadLength(n: number): number {
  return n < 24 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : n <= 0xffffffff ? 5 : 9
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0
}

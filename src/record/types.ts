/**
 * Record format v1, as decoded (the wire form is canonical dag-cbor, see codec.ts and docs/protocol.md).
 * Hashes, keys and ids are lowercase hex in this decoded form; the wire form carries raw bytes.
 */
export const SIGNAL_TYPES = ['pdq', 'md5', 'sha256', 'vpdq'] as const
export type SignalType = (typeof SIGNAL_TYPES)[number]

export const RECORD_KINDS = ['signals', 'revoke', 'opinion'] as const
export type RecordKind = (typeof RECORD_KINDS)[number]

export const OPINIONS = ['seen', 'true_positive', 'false_positive', 'disputed'] as const
export type OpinionValue = (typeof OPINIONS)[number]

export const REVOKE_REASONS = ['false_positive', 'policy_change', 'legal', 'duplicate', 'mistake', 'other'] as const
export type RevokeReason = (typeof REVOKE_REASONS)[number]

export interface VpdqFrame {
  /** PDQ of the frame, hex. */
  hash: string
  quality: number
  /** Frame timestamp in milliseconds from the start of the video. */
  ms: number
}

/** A fingerprint. For `vpdq`, `value` is the SHA-256 (hex) of the frame list's canonical encoding. */
export interface Signal {
  type: SignalType
  value: string
  quality?: number
  frames?: VpdqFrame[]
}

export interface SignalsBody {
  signals: Signal[]
  contentType: string
  labels: string[]
  note?: string
}

export interface RevokeBody {
  /** Id of the author's own record carrying the signal(s). */
  target: string
  /** Index into the target's signals; absent = every signal of the target. */
  signal?: number
  reason: RevokeReason
}

export interface OpinionBody {
  signal: { type: SignalType; value: string }
  /** A record carrying that signal, for context. */
  record?: string
  opinion: OpinionValue
  note?: string
}

interface RecordEnvelope<K extends RecordKind, B> {
  version: number
  kind: K
  /** Author feed key (ed25519 public key), hex. */
  author: string
  seq: number
  /** Id of the author's record at seq - 1; null for seq 1. */
  prev: string | null
  /** Author's timestamp, milliseconds since the epoch. */
  timestamp: number
  body: B
}

export type UnsignedRecord =
  | RecordEnvelope<'signals', SignalsBody>
  | RecordEnvelope<'revoke', RevokeBody>
  | RecordEnvelope<'opinion', OpinionBody>

export type SignedRecord = UnsignedRecord & {
  /** ed25519 signature over the signing bytes, hex. */
  signature: string
  /** SHA-256 of the signing bytes, hex. */
  id: string
}

/** A decoded record plus its exact wire bytes. */
export interface VerifiedRecord {
  record: SignedRecord
  bytes: Uint8Array
}

/** Key under which a signal is indexed and revoked: "type:value". */
export function signalKey(signal: { type: SignalType; value: string }): string {
  return `${signal.type}:${signal.value}`
}

/**
 * Banks: named collections of bank content, as Meta's HMA has them (docs/hma.md). A bank is local to
 * this node (`local`) or an allow-list (`negative`); every federation member's feed is shown as a
 * read-only bank beside them. A `shared` bank is local too, and each addition is also signed into this
 * member's feed (each deletion revoked there). Pure types and name rules; storage is bank-store.ts.
 */
import { fail } from '../errors.js'
import { lowerHex } from '../hash/hex.js'

export const BANK_KINDS = ['local', 'negative', 'shared'] as const
export type BankKind = (typeof BANK_KINDS)[number]

/** HMA's signal type names, then hashmesh's own. `video_md5` is HMA's MD5 of a video file. */
export const BANK_SIGNAL_TYPES = ['pdq', 'video_md5', 'md5', 'sha256', 'vpdq'] as const
export type BankSignalType = (typeof BANK_SIGNAL_TYPES)[number]

/** HMA's content types and the signal types each yields. */
export const CONTENT_TYPES: Record<string, readonly BankSignalType[]> = { photo: ['pdq', 'md5', 'sha256'], video: ['video_md5', 'vpdq', 'sha256'] }

/** HMA's bank name rule: upper case, digits and underscores, not starting with a digit. */
export const BANK_NAME = /^[A-Z_][A-Z0-9_]*$/
export const MAX_BANK_NAME_LENGTH = 100
/** HMA refuses a disable_until_ts too far ahead; past this (2100-01-01) it is 400 here too. */
export const MAX_DISABLE_UNTIL_TS = 4_102_444_800
/** The metadata keys HMA accepts on bank content. */
export const METADATA_KEYS = ['content_id', 'content_uri', 'json'] as const

export interface BankConfig {
  name: string
  /** HMA's per-bank coin flip: a lookup matches the bank when ratio >= a draw in [0, 1). */
  matchingEnabledRatio: number
  kind: BankKind
  createdAt: number
  updatedAt: number
}

export interface BankContentMetadata { content_id?: string; content_uri?: string; json?: Record<string, unknown> }

export interface BankContent {
  id: number
  bank: string
  signals: Partial<Record<BankSignalType, string>>
  note: string | null
  metadata: BankContentMetadata | null
  /** Unix seconds; matching is off until then (HMA: 0 = enabled, 1 = disabled for good). */
  disableUntilTs: number
  createdAt: number
  updatedAt: number
  /** Shared banks: this member's signals records carrying the content's signals (revoked on delete). */
  records?: string[]
}

export function isBankSignalType(name: string): name is BankSignalType {
  return (BANK_SIGNAL_TYPES as readonly string[]).includes(name)
}

export function checkBankName(name: unknown): string {
  if (typeof name !== 'string' || name.length > MAX_BANK_NAME_LENGTH || !BANK_NAME.test(name)) {
    fail('BAD_REQUEST', `Bank names must be UPPER_WITH_UNDERSCORE and not start with a digit: ${JSON.stringify(name)}`)
  }
  return name
}

const HEX_LENGTHS: Record<BankSignalType, number | undefined> = { pdq: 64, video_md5: 32, md5: 32, sha256: 64, vpdq: undefined }

/** Lower-case hex of the length the type needs; `vpdq` values are free-form (a video id or frame list). */
export function normaliseSignal(type: BankSignalType, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) fail('HASH_INVALID', `Invalid ${type} signal: not a string`)
  const hexLength = HEX_LENGTHS[type]
  if (hexLength === undefined) return value
  return lowerHex(value, hexLength) ?? fail('HASH_INVALID', `Invalid ${type} signal: expected ${hexLength} hex digits`)
}

/** Content is matched when it is not disabled at `nowSeconds`. */
export function contentEnabled(content: Pick<BankContent, 'disableUntilTs'>, nowSeconds: number): boolean {
  return content.disableUntilTs === 0 || (content.disableUntilTs !== 1 && content.disableUntilTs <= nowSeconds)
}

/** The read-only bank a federation member's feed appears as: MEMBER_ + its name in UPPER_SNAKE_CASE. */
export function memberBankName(memberName: string | undefined, memberKey: string): string {
  const snake = (memberName ?? '').toUpperCase().replace(/[^A-Z0-9]+/g, '_').replace(/^_+|_+$/g, '')
  return `MEMBER_${snake || memberKey.slice(0, 16).toUpperCase()}`
}

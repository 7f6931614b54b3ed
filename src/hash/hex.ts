/**
 * Hex digits, one table for every reader of hex text (hashes, list lines, record bodies, bank signals):
 * a char-code loop, not a regex and a lower-case copy, since a million-line import checks each value.
 */

/** Value of each ASCII hex digit (either case); -1 for every other character code below 128. */
export const HEX_VALUE = new Int8Array(128).fill(-1)
for (let i = 0; i < 16; i++) {
  HEX_VALUE['0123456789abcdef'.charCodeAt(i)] = i
  HEX_VALUE['0123456789ABCDEF'.charCodeAt(i)] = i
}

/** A character code's hex value, or -1. */
export const hexDigitValue = (code: number): number => (code < 128 ? HEX_VALUE[code]! : -1)

/**
 * 0 when `value` is not a non-empty hex string (of `length` characters, when given), 1 when it is
 * lower-case hex, 2 when it has an upper-case digit: one pass, no copy of what is lower-case already.
 */
export function hexCase(value: unknown, length?: number): 0 | 1 | 2 {
  if (typeof value !== 'string' || value.length === 0 || (length !== undefined && value.length !== length)) return 0
  let upper = false
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if (c >= 128 || HEX_VALUE[c]! < 0) return 0
    if (c >= 65 && c <= 70) upper = true
  }
  return upper ? 2 : 1
}

/** `value` as lower-case hex of `length` characters, or undefined when it is not hex of that length. */
export function lowerHex(value: unknown, length: number): string | undefined {
  const kind = hexCase(value, length)
  return kind === 0 ? undefined : kind === 1 ? (value as string) : (value as string).toLowerCase()
}

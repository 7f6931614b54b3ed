import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { isHashmeshError } from '../../src/errors.js'
import { bytesToWordsAt, formatHash256, hexToWords, parseHash256 } from '../../src/hash/hash256.js'

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn()
  } catch (err) {
    return isHashmeshError(err) ? err.code : 'not typed'
  }
  return undefined
}

test('parseHash256 round-trips 64 hex digits of either case', () => {
  for (let i = 0; i < 200; i++) {
    const bytes = new Uint8Array(randomBytes(32))
    const hex = Buffer.from(bytes).toString('hex')
    assert.deepEqual(parseHash256(hex), bytes)
    assert.deepEqual(parseHash256(hex.toUpperCase()), bytes)
    assert.equal(formatHash256(parseHash256(hex)), hex)
  }
})

test('parseHash256 refuses anything but exactly 64 hex digits with HASH_INVALID', () => {
  const good = 'f'.repeat(64)
  const bad: unknown[] = [
    '', good.slice(1), good + '0', `${good.slice(0, 63)}g`, `g${good.slice(1)}`, `${good.slice(0, 31)} ${good.slice(32)}`,
    `${good.slice(0, 63)}\u0660`, `${good.slice(0, 62)}\u{1F600}`, `0x${good.slice(2)}`, 12, null, undefined, new Uint8Array(32),
  ]
  for (const value of bad) assert.equal(codeOf(() => parseHash256(value as string)), 'HASH_INVALID', JSON.stringify(String(value)))
})

test('bytesToWordsAt packs 32 bytes where they sit as hexToWords packs their hex (golden words), leaving the rest of out alone', () => {
  const bytes = Uint8Array.from({ length: 40 }, (_, i) => i)
  const out = new Uint32Array(10).fill(7)
  bytesToWordsAt(bytes, 4, out, 1)
  assert.deepEqual([...out], [7, 0x04050607, 0x08090a0b, 0x0c0d0e0f, 0x10111213, 0x14151617, 0x18191a1b, 0x1c1d1e1f, 0x20212223, 7])
  const fromHex = new Uint32Array(8)
  assert.equal(hexToWords(Buffer.from(bytes.subarray(4, 36)).toString('hex'), fromHex), true)
  assert.deepEqual([...out.subarray(1, 9)], [...fromHex])
})

/** The duplicate-check set of list imports (node/signal-keys.ts) against a plain Set of "type:value". */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { SignalKeys } from '../../src/node/signal-keys.js'

test('SignalKeys answers as a Set of type:value would, near neighbours, other types and non-hex values included', () => {
  const keys = new SignalKeys()
  const reference = new Set<string>()
  const prefix = 'ab'.repeat(8) // values sharing their first 16 digits share a hash: told apart by the strings
  const values: Array<[string, string]> = []
  for (let i = 0; i < 30_000; i++) {
    const kind = i % 6
    const value = kind === 0 ? prefix + randomBytes(24).toString('hex')
      : kind === 1 ? randomBytes(16).toString('hex')
      : kind === 2 ? `short${i % 50}`
      : kind === 3 ? `${randomBytes(8).toString('hex')}zz${i}`
      : randomBytes(32).toString('hex')
    values.push([i % 4 === 0 ? 'md5' : 'pdq', value])
  }
  for (const [n, [type, value]] of values.entries()) {
    if (n % 5 === 0) continue // kept out, to be asked about
    assert.equal(keys.has(type, value), reference.has(`${type}:${value}`), `${type} ${value} before add`)
    keys.add(type, value)
    reference.add(`${type}:${value}`)
  }
  for (const [type, value] of values) {
    assert.equal(keys.has(type, value), reference.has(`${type}:${value}`), `${type} ${value}`)
    const other = type === 'pdq' ? 'md5' : 'pdq'
    assert.equal(keys.has(other, value), reference.has(`${other}:${value}`), `${other} ${value}`)
  }
  assert.ok([...reference].length > 15_000)
  assert.equal(keys.has('pdq', prefix + '0'.repeat(48)), false, 'same first digits, another value')
})

test('PDQ hashes given as packed words are the same set as given as hex; one-bit neighbours are told apart', async () => {
  const { hexToWords, wordsToHex } = await import('../../src/hash/hash256.js')
  const keys = new SignalKeys()
  const words = new Uint32Array(8 * 5000)
  const hexes: string[] = []
  for (let i = 0; i < 5000; i++) {
    const base = i % 2 === 0 || i === 1 ? randomBytes(32).toString('hex') : hexes[i - 1]!
    // every odd hash is its predecessor with one bit flipped
    const bytes = Buffer.from(base, 'hex')
    if (i % 2 === 1 && i > 1) bytes[i % 32]! ^= 1 << (i % 8)
    hexes.push(bytes.toString('hex'))
    assert.ok(hexToWords(hexes[i]!, words, i * 8))
    assert.equal(wordsToHex(words, i * 8), hexes[i])
  }
  for (let i = 0; i < 5000; i++) {
    if (i % 3 === 0) continue
    if (i % 2 === 0) keys.addPdqWords(words, i * 8)
    else keys.add('pdq', hexes[i]!)
  }
  for (let i = 0; i < 5000; i++) {
    const held = i % 3 !== 0
    assert.equal(keys.hasPdqWords(words, i * 8), held, `words ${i}`)
    assert.equal(keys.has('pdq', hexes[i]!), held, `hex ${i}`)
    assert.equal(keys.has('md5', hexes[i]!), false)
  }
})

test('addAll adds every signal of another set, of every kind', () => {
  const a = new SignalKeys()
  const b = new SignalKeys()
  const pdq = randomBytes(32).toString('hex')
  const md5 = randomBytes(16).toString('hex')
  b.add('pdq', pdq)
  b.add('md5', md5)
  b.add('vpdq', 'video-1')
  a.add('pdq', randomBytes(32).toString('hex'))
  a.addAll(b)
  assert.ok(a.has('pdq', pdq) && a.has('md5', md5) && a.has('vpdq', 'video-1'))
  assert.ok(!a.has('sha256', md5) && !b.has('pdq', randomBytes(32).toString('hex')))
})

test('clear empties the set for reuse; what is added after is found, what was before is not', () => {
  const keys = new SignalKeys()
  const before = Array.from({ length: 3000 }, () => randomBytes(32).toString('hex'))
  for (const v of before) keys.add('pdq', v)
  keys.add('md5', 'ab'.repeat(16))
  keys.clear()
  assert.ok(before.every((v) => !keys.has('pdq', v)) && !keys.has('md5', 'ab'.repeat(16)))
  const after = Array.from({ length: 5000 }, () => randomBytes(32).toString('hex'))
  for (const v of after) keys.add('pdq', v)
  assert.ok(after.every((v) => keys.has('pdq', v)) && before.every((v) => !keys.has('pdq', v)))
})

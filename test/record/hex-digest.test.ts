import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { sha256, sha256Hex, toHex } from '../../src/record/crypto.js'

test('toHex encodes views at any offset and length exactly like Buffer does', () => {
  const backing = randomBytes(300)
  for (const [start, end] of [[0, 0], [0, 1], [1, 33], [7, 71], [0, 300], [299, 300]] as const) {
    const view = new Uint8Array(backing.buffer, backing.byteOffset + start, end - start)
    assert.equal(toHex(view), backing.subarray(start, end).toString('hex'))
  }
})

test('sha256Hex is the hex of SHA-256, the same as sha256 and createHash', () => {
  for (const size of [0, 1, 55, 56, 64, 1000]) {
    const data = new Uint8Array(randomBytes(size))
    const expected = createHash('sha256').update(data).digest('hex')
    assert.equal(sha256Hex(data), expected)
    assert.equal(toHex(sha256(data)), expected)
  }
  assert.equal(sha256Hex(new TextEncoder().encode('abc')), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
})

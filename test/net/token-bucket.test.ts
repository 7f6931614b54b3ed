import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fullBucket, reserveToken } from '../../src/net/token-bucket.js'

test('a token bucket gives its burst at once, then one token per 1/rate s, and tells how long to wait', () => {
  const b = fullBucket(3, 0)
  assert.deepEqual([0, 0, 0].map(() => reserveToken(b, 0, 2, 3)), [0, 0, 0])
  assert.equal(reserveToken(b, 0, 2, 3), undefined) // empty, and only a token now will do
  assert.equal(reserveToken(b, 0, 2, 3, 1_000), 500) // due in 1/rate s: reserved
  assert.equal(reserveToken(b, 0, 2, 3, 600), undefined) // the next one is due in 1 s: over the wait allowed
  assert.equal(reserveToken(b, 1_000, 2, 3), 0) // 1 s refilled 2 tokens, one was owed
  assert.equal(reserveToken(b, 1_000, 2, 3), undefined)
  assert.deepEqual([0, 0, 0].map(() => reserveToken(b, 60_000, 2, 3)), [0, 0, 0]) // refilled to the burst, never above
  assert.equal(reserveToken(b, 60_000, 2, 3), undefined)
})

test('a clock stepping backwards does not drain or overfill the bucket', () => {
  const b = fullBucket(1, 10_000)
  assert.equal(reserveToken(b, 10_000, 1, 1), 0)
  assert.equal(reserveToken(b, 5_000, 1, 1), undefined)
  assert.equal(reserveToken(b, 6_000, 1, 1), 0)
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PeerHygiene } from '../../src/net/peer-hygiene.js'

test('a peer is banned when its invalid count reaches the bound, for the ban duration', () => {
  let now = 1_000
  const h = new PeerHygiene({ maxInvalid: 3, banDurationMs: 500, now: () => now })
  assert.equal(h.reportInvalid('p', 2), false)
  assert.equal(h.isBanned('p'), false)
  assert.equal(h.reportInvalid('p', 1), true)
  assert.equal(h.isBanned('p'), true)
  assert.equal(h.reportInvalid('p', 5), false, 'already banned: no second ban')
  assert.deepEqual(h.banned(), { p: 1_500 })
  now = 1_501
  assert.equal(h.isBanned('p'), false)
  assert.equal(h.bansTotal, 1)
  assert.equal(h.invalidTotal, 8)
})

test('the request token bucket allows a burst then the sustained rate', () => {
  let now = 0
  const h = new PeerHygiene({ requestBurst: 5, requestsPerSecond: 10, now: () => now })
  for (let i = 0; i < 5; i++) assert.equal(h.takeRequestToken('p'), true)
  assert.equal(h.takeRequestToken('p'), false)
  assert.equal(h.takeRequestToken('q'), true, 'buckets are per peer')
  now += 100 // one token back
  assert.equal(h.takeRequestToken('p'), true)
  assert.equal(h.takeRequestToken('p'), false)
  assert.equal(h.rateLimitedTotal, 2)
})

test('over the rate a request waits for its token; far over it is refused', () => {
  let now = 0
  const h = new PeerHygiene({ requestBurst: 2, requestsPerSecond: 10, now: () => now })
  assert.equal(h.reserveRequestToken('p', 1000), 0)
  assert.equal(h.reserveRequestToken('p', 1000), 0)
  assert.equal(h.reserveRequestToken('p', 1000), 100, 'one token every 100 ms')
  assert.equal(h.reserveRequestToken('p', 1000), 200, 'reservations queue up')
  assert.equal(h.reserveRequestToken('p', 250), undefined, 'beyond the wait bound: refused')
  now += 1000
  assert.equal(h.reserveRequestToken('p', 1000), 0)
})

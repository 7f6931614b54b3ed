import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MAX_RESTORED_BAN_MS, PeerHygiene } from '../../src/net/peer-hygiene.js'

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

test('bans are listed for storage and restored after a restart, skipping expired and implausible ones', () => {
  let now = 10_000
  const h = new PeerHygiene({ maxInvalid: 1, banDurationMs: 500, now: () => now })
  h.reportInvalid('p', 1, 'sync: invalid record')
  assert.deepEqual(h.banEntries(), [{ peerId: 'p', until: 10_500, reason: 'sync: invalid record' }])

  const restarted = new PeerHygiene({ now: () => now })
  const restored = restarted.restoreBans([
    ...h.banEntries(),
    { peerId: 'expired', until: 9_000, reason: 'old' },
    { peerId: 'forever', until: now + MAX_RESTORED_BAN_MS + 1, reason: 'forged' },
    { peerId: 'bad', until: Number.NaN, reason: '' },
  ])
  assert.equal(restored, 1)
  assert.equal(restarted.isBanned('p'), true)
  assert.equal(restarted.isBanned('expired'), false)
  assert.equal(restarted.isBanned('forever'), false)
  now = 10_501
  assert.equal(restarted.isBanned('p'), false)
  assert.deepEqual(restarted.banEntries(), [])
})

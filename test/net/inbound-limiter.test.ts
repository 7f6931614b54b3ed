import { test } from 'node:test'
import assert from 'node:assert/strict'
import { addressKey, InboundLimiter, type PendingTicket } from '../../src/net/inbound-limiter.js'
import { RefusalLog, REFUSAL_LOG_INTERVAL_MS, MAX_REFUSAL_LINES_PER_MINUTE } from '../../src/net/refusals.js'

const noEvict = (): void => undefined
const ticket = (r: PendingTicket | string): PendingTicket => {
  assert.equal(typeof r, 'object', `expected admission, got ${String(r)}`)
  return r as PendingTicket
}

test('an address holds at most its share of handshakes; others are not affected', () => {
  const l = new InboundLimiter({ perAddress: 2, total: 10, connectsBurst: 100 })
  const a1 = ticket(l.admit('10.0.0.1', noEvict))
  ticket(l.admit('10.0.0.1', noEvict))
  assert.equal(l.admit('10.0.0.1', noEvict), 'ipLimit')
  ticket(l.admit('10.0.0.2', noEvict))
  l.release(a1)
  l.release(a1) // idempotent
  ticket(l.admit('10.0.0.1', noEvict))
  assert.deepEqual(l.stats(), { pending: 3, pendingAddresses: 2, memberAddresses: 0 })
})

test('member addresses get a larger share and a reserve the general pool cannot take', () => {
  const l = new InboundLimiter({ perAddress: 1, perMemberAddress: 3, total: 2, reservedForMembers: 2, connectsBurst: 100, evictableAfterMs: 60_000 })
  l.rememberMemberAddress('10.0.0.9')
  ticket(l.admit('10.0.0.1', noEvict))
  ticket(l.admit('10.0.0.2', noEvict))
  assert.equal(l.admit('10.0.0.3', noEvict), 'pendingLimit', 'general pool full, nothing old enough to evict')
  ticket(l.admit('10.0.0.9', noEvict))
  ticket(l.admit('10.0.0.9', noEvict))
  assert.equal(l.admit('10.0.0.9', noEvict), 'pendingLimit', 'reserve used up too')
})

test('when the pool is full the oldest stalled non-member handshake is evicted for a new one', () => {
  let now = 0
  const evicted: string[] = []
  const l = new InboundLimiter({ perAddress: 4, total: 2, reservedForMembers: 0, evictableAfterMs: 1_000, connectsBurst: 100, now: () => now })
  ticket(l.admit('10.0.0.1', () => evicted.push('first')))
  now = 500
  ticket(l.admit('10.0.0.2', () => evicted.push('second')))
  assert.equal(l.admit('10.0.0.3', noEvict), 'pendingLimit', 'nobody stalled long enough yet')
  now = 1_200
  ticket(l.admit('10.0.0.3', noEvict))
  assert.deepEqual(evicted, ['first'])
  assert.equal(l.evictedTotal, 1)
  assert.equal(l.stats().pending, 2)
})

test('new connections from an address are rate limited, members get four times the rate', () => {
  let now = 0
  const l = new InboundLimiter({ perAddress: 100, perMemberAddress: 100, total: 1_000, connectsPerSecond: 2, connectsBurst: 3, now: () => now })
  l.rememberMemberAddress('10.0.0.9')
  for (let i = 0; i < 3; i++) l.release(ticket(l.admit('10.0.0.1', noEvict)))
  assert.equal(l.admit('10.0.0.1', noEvict), 'rateLimit')
  for (let i = 0; i < 12; i++) l.release(ticket(l.admit('10.0.0.9', noEvict)))
  assert.equal(l.admit('10.0.0.9', noEvict), 'rateLimit')
  now = 500 // one token back at 2/s
  l.release(ticket(l.admit('10.0.0.1', noEvict)))
  assert.equal(l.admit('10.0.0.1', noEvict), 'rateLimit')
})

test('address keys: IPv4 as is, IPv6 by /64, mapped IPv4 as IPv4', () => {
  assert.equal(addressKey('192.0.2.7'), '192.0.2.7')
  assert.equal(addressKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64')
  assert.equal(addressKey('2001:db8:1:2:ffff:ffff:ffff:ffff'), '2001:db8:1:2::/64')
  assert.equal(addressKey('2001:DB8::1'), '2001:db8:0:0::/64')
  assert.equal(addressKey('::1'), '0:0:0:0::/64')
  assert.equal(addressKey('fe80::1%eth0'), 'fe80:0:0:0::/64')
  assert.equal(addressKey('::ffff:192.0.2.7'), '192.0.2.7')
})

test('refusals are logged at most once per subject per minute, with what went unsaid', () => {
  let now = 0
  const lines: Record<string, unknown>[] = []
  const log = new RefusalLog((_event, fields) => lines.push(fields), () => now)
  for (let i = 0; i < 5; i++) log.note('ipLimit', { address: '10.0.0.1' }, 'inbound')
  log.note('notInRoster', { peer: 'peerA' }, 'inbound')
  assert.equal(lines.length, 2)
  now = REFUSAL_LOG_INTERVAL_MS
  log.note('ipLimit', { address: '10.0.0.1' }, 'inbound')
  assert.deepEqual(lines[2], { reason: 'ipLimit', direction: 'inbound', address: '10.0.0.1', unsaidSinceLast: 4 })
})

test('an outsider with many addresses cannot flood the log', () => {
  let now = 0
  const lines: Record<string, unknown>[] = []
  const log = new RefusalLog((_event, fields) => lines.push(fields), () => now)
  for (let i = 0; i < MAX_REFUSAL_LINES_PER_MINUTE + 50; i++) log.note('ipLimit', { address: `2001:db8:${i.toString(16)}::/64` }, 'inbound')
  assert.equal(lines.length, MAX_REFUSAL_LINES_PER_MINUTE)
  now = REFUSAL_LOG_INTERVAL_MS
  log.note('ipLimit', { address: 'fresh' }, 'inbound')
  assert.equal(lines.at(-1)!.unsaidOthers, 50)
})

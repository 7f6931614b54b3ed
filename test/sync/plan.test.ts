import { test } from 'node:test'
import assert from 'node:assert/strict'
import { planRanges, splitRange, remainderOf, progressBetween, isCaughtUp } from '../../src/sync/plan.js'
import type { FeedHead } from '../../src/sync/types.js'
import { SYNC_LIMITS } from '../../src/constants.js'

const MAX = SYNC_LIMITS.maxRecordsPerRequest

const feed = (n: number): string => n.toString(16).padStart(64, '0')
const id = (n: number): string => (n + 0x1000).toString(16).padStart(64, 'a')
const head = (f: number, seq: number, i = seq): FeedHead => ({ feed: feed(f), seq, id: id(i) })

test('nothing to ask when the peer holds nothing newer', () => {
  const plan = planRanges([head(1, 5), head(2, 3)], [head(1, 5), head(2, 1)])
  assert.deepEqual(plan.requests, [])
  assert.equal(plan.missing, 0)
  assert.equal(plan.ahead, 1)
  assert.equal(plan.truncated, false)
})

test('asks for an unknown feed from seq 1 and a known feed from my head + 1, in bounded batches', () => {
  const plan = planRanges([head(1, 100)], [head(1, 700), head(2, 3)], { maxRecordsPerRequest: 256 })
  assert.equal(plan.missing, 603)
  assert.deepEqual(plan.requests, [
    { feed: feed(1), from: 101, count: 256 },
    { feed: feed(2), from: 1, count: 3 },
    { feed: feed(1), from: 357, count: 256 },
    { feed: feed(1), from: 613, count: 88 },
  ])
  for (const r of plan.requests) assert.ok(r.count >= 1 && r.count <= 256)
})

test('never plans batches above the protocol bound, whatever the option says', () => {
  const plan = planRanges([], [head(1, 4 * MAX + 7)], { maxRecordsPerRequest: 100 * MAX })
  assert.ok(plan.requests.every((r) => r.count <= MAX))
  assert.equal(plan.requests.length, 5)
  assert.equal(plan.requests.reduce((n, r) => n + r.count, 0), 4 * MAX + 7)
})

test('a round is bounded by maxRequests and says it was truncated', () => {
  const plan = planRanges([], [head(1, 10_000), head(2, 10_000)], { maxRequests: 5 })
  assert.equal(plan.requests.length, 5)
  assert.equal(plan.truncated, true)
  // round-robin: both feeds get turns
  assert.deepEqual(new Set(plan.requests.map((r) => r.feed)), new Set([feed(1), feed(2)]))
})

test('resumes from the current heads: planning again after partial progress asks only for the rest', () => {
  const theirs = [head(1, 2 * MAX + 88)]
  const first = planRanges([], theirs)
  assert.equal(first.requests[0]!.from, 1)
  // interrupted after the first batch was stored
  const second = planRanges([head(1, MAX)], theirs)
  assert.deepEqual(second.requests.map((r) => r.from), [MAX + 1, 2 * MAX + 1])
  assert.equal(second.missing, MAX + 88)
})

test('the same seq with different ids is reported as diverged, not requested', () => {
  const plan = planRanges([head(1, 4, 4)], [head(1, 4, 99)])
  assert.deepEqual(plan.requests, [])
  assert.equal(plan.diverged.length, 1)
  assert.equal(plan.diverged[0]!.seq, 4)
})

test('duplicate feeds in a head list: the highest seq counts', () => {
  const plan = planRanges([], [head(1, 2), head(1, 9)])
  assert.equal(plan.missing, 9)
})

test('splitRange, remainderOf, progressBetween, isCaughtUp', () => {
  assert.deepEqual(splitRange(feed(1), 1, 5, 2), [
    { feed: feed(1), from: 1, count: 2 },
    { feed: feed(1), from: 3, count: 2 },
    { feed: feed(1), from: 5, count: 1 },
  ])
  assert.deepEqual(remainderOf({ feed: feed(1), from: 10, count: 256 }, 100), { feed: feed(1), from: 110, count: 156 })
  assert.equal(remainderOf({ feed: feed(1), from: 10, count: 256 }, 256), undefined)
  assert.equal(remainderOf({ feed: feed(1), from: 10, count: 256 }, 0), undefined)
  assert.equal(progressBetween([head(1, 3)], [head(1, 7), head(2, 2)]), 6)
  assert.equal(progressBetween([head(1, 3)], [head(1, 7), head(2, 2)], [feed(2)]), 2)
  assert.equal(isCaughtUp([head(1, 7)], [head(1, 7)]), true)
  assert.equal(isCaughtUp([head(1, 6)], [head(1, 7)]), false)
})

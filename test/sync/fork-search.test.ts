import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { comparableSeq, findFork, type ForkProbe } from '../../src/sync/fork-search.js'
import { planRanges } from '../../src/sync/plan.js'

/** Two chains sharing `common` records, then `mineLen` / `theirLen` records of their own. */
function branches(common: number, mineLen: number, theirLen: number): { probe: ForkProbe; asked: number[] } {
  const asked: number[] = []
  const id = (branch: string, seq: number) => (seq <= common ? `c${seq}` : `${branch}${seq}`)
  return {
    asked,
    probe: {
      mine: async (seq) => (seq <= common + mineLen ? id('m', seq) : undefined),
      theirs: async (seq) => {
        asked.push(seq)
        return seq <= common + theirLen ? id('t', seq) : undefined
      },
    },
  }
}

test('findFork finds the first seq where two chains part, in O(log n) probes', async () => {
  const { probe, asked } = branches(700, 300, 5)
  assert.deepEqual(await findFork(705, probe), { fork: true, seq: 701 })
  assert.ok(asked.length <= 11, `${asked.length} probes`)
})

test('findFork reports no fork when the chains agree at the seq compared, or one side holds nothing there', async () => {
  assert.deepEqual(await findFork(10, branches(10, 0, 5).probe), { fork: false })
  assert.deepEqual(await findFork(0, branches(0, 1, 1).probe), { fork: false })
  assert.deepEqual(await findFork(9, branches(2, 3, 3).probe), { fork: false }) // beyond both heads
})

test('findFork agrees with a linear scan for any fork point and branch lengths', async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 50 }), async (common, m, t) => {
      const { probe } = branches(common, m, t)
      const hi = comparableSeq(common + m, common + t)
      assert.deepEqual(await findFork(hi, probe), { fork: true, seq: common + 1 })
    }),
  )
})

test('comparableSeq stays below a known fork', () => {
  assert.equal(comparableSeq(10, 7), 7)
  assert.equal(comparableSeq(10, 12, 5), 4)
  assert.equal(comparableSeq(3, 12, 1), 0)
})

test('a frozen feed is planned only up to its fork and never reported diverged', () => {
  const feed = 'a'.repeat(64)
  const mine = [{ feed, seq: 2, id: '1'.repeat(64) }]
  const theirs = [{ feed, seq: 9, id: '2'.repeat(64) }]
  assert.equal(planRanges(mine, theirs).missing, 7)
  const frozen = planRanges(mine, theirs, { frozenAt: new Map([[feed, 6]]) })
  assert.deepEqual(frozen.requests, [{ feed, from: 3, count: 3 }])
  const same = planRanges([{ feed, seq: 9, id: '1'.repeat(64) }], theirs, { frozenAt: new Map([[feed, 3]]) })
  assert.deepEqual(same.diverged, [])
  assert.equal(same.requests.length, 0)
})

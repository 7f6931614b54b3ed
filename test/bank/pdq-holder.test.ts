/** ExactPdqHolder (bank/pdq-holder.ts): the offline import's exact PDQ lookups, against a plain Map as the model. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { ExactPdqHolder } from '../../src/bank/pdq-holder.js'
import { hashToWords } from '../../src/match/pdq-index.js'

test('adds, re-adds, removes and shared hashes agree with a Map model through table growth', () => {
  const holder = new ExactPdqHolder()
  const model = new Map<number, string>()
  const pool = Array.from({ length: 3000 }, () => randomBytes(32))
  let seed = 7
  const next = (n: number): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n)
  for (let step = 0; step < 20_000; step++) {
    const id = 1 + next(70_000) // ids on two pages
    const op = next(10)
    if (op < 7) {
      const hash = pool[next(pool.length)]!
      holder.addBankContentWords(Uint32Array.of(id), hashToWords(hash))
      model.set(id, hash.toString('hex'))
    } else {
      holder.removeBankContent(id)
      model.delete(id)
    }
  }
  assert.equal(holder.bankSize, model.size)
  for (const hash of pool) {
    const hex = hash.toString('hex')
    const expected = [...model].filter(([, h]) => h === hex).map(([id]) => id).sort((a, b) => a - b)
    assert.deepEqual(holder.bankContentWithWords(hashToWords(hash), 0), expected)
  }
  assert.deepEqual(holder.bankContentWithWords(hashToWords(randomBytes(32)), 0), [])
  assert.throws(() => holder.searchBanks(), { code: 'INTERNAL' })
  assert.throws(() => holder.addBankContentWords(Uint32Array.of(0), new Uint32Array(8)), RangeError)
})

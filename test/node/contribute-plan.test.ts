/** planContribution (node/contribute.ts): hex lower-cased, duplicates in any case dropped, bad values refused. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { planContribution } from '../../src/node/contribute.js'
import { loadTaxonomy } from '../../src/config.js'

const gate = { minQuality: 50, contributeLowQuality: false }

test('a contribution plan lower-cases hex, drops a value given twice in any case, and refuses what is not hex of the length', () => {
  const pdq = 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22'
  const md5 = 'd41d8cd98f00b204e9800998ecf8427e'
  const plan = planContribution({ signals: [
    { type: 'pdq', value: pdq.toUpperCase(), quality: 90 },
    { type: 'pdq', value: pdq },
    { type: 'md5', value: md5.slice(0, 16) + md5.slice(16).toUpperCase() },
    { type: 'md5', value: md5 },
    { type: 'sha256', value: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' },
  ], labels: ['behavior:propaganda'] }, loadTaxonomy(), gate)
  assert.deepEqual(plan.bodies[0]!.signals, [
    { type: 'pdq', value: pdq, quality: 90 },
    { type: 'md5', value: md5 },
    { type: 'sha256', value: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' },
  ])
  for (const value of [pdq.slice(1), `${pdq.slice(1)}g`, `${pdq.slice(1)}é`, ` ${pdq.slice(1)}`, '']) {
    assert.throws(() => planContribution({ signals: [{ type: 'pdq', value }] }, loadTaxonomy(), gate), (err: { code?: string }) => err.code === 'HASH_INVALID', JSON.stringify(value))
  }
})

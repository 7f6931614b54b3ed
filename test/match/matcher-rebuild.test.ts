import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ReplicaStore } from '../../src/store/replica-store.js'
import { MemoryKeyValueStore } from '../../src/store/memory-kv.js'
import { Matcher } from '../../src/match/matcher.js'
import { createRecord } from '../../src/record/build.js'
import { memberFromByte, randomPdqHex, signalsBody } from '../helpers/records.js'

const options = {
  policy: { members: null, minQuality: 50, ignoreDisputed: false, ignoreFalsePositive: false, minAgreeingMembers: 1, actOnEquivocated: false },
  pdqThreshold: 31,
  isMember: () => true,
  memberName: () => 'Alpha',
}

test('the index rebuilt from the store finds every live signal and no revoked one', async () => {
  const alpha = memberFromByte(21)
  const values = Array.from({ length: 2500 }, randomPdqHex)
  // the store holds the records before the matcher exists, as at start-up (reopening a replica is tested in test/store)
  const store = await ReplicaStore.openWith(new MemoryKeyValueStore())
  try {
    const r1 = createRecord(alpha, { seq: 0, id: null }, 'signals', signalsBody(values.slice(0, 1000)))
    const r2 = createRecord(alpha, { seq: 1, id: r1.record.id }, 'signals', signalsBody(values.slice(1000, 2000)))
    const r3 = createRecord(alpha, { seq: 2, id: r2.record.id }, 'signals', signalsBody(values.slice(2000)))
    const revoke = createRecord(alpha, { seq: 3, id: r3.record.id }, 'revoke', { target: r2.record.id, signal: 7, reason: 'mistake' })
    await store.appendVerified([r1, r2, r3, revoke])

    const matcher = new Matcher(store, options)
    assert.equal(await matcher.rebuild(), 2500)
    assert.equal(matcher.catalog.size, 2500)
    for (const i of [0, 999, 1000, 1500, 2499]) {
      const [hit] = await matcher.match([{ type: 'pdq', value: values[i]! }])
      assert.equal(hit?.value, values[i])
      assert.equal(hit?.distance, 0)
      assert.equal(hit?.records[0]!.signatureVerified, true)
    }
    assert.deepEqual(await matcher.match([{ type: 'pdq', value: values[1007]! }]), [])
    // incremental adds after the bulk build are found too
    const r5 = createRecord(alpha, { seq: 4, id: revoke.record.id }, 'signals', signalsBody([randomPdqHex()]))
    await store.appendVerified([r5])
    const added = r5.record.kind === 'signals' ? r5.record.body.signals[0]!.value : ''
    assert.equal((await matcher.match([{ type: 'pdq', value: added }]))[0]?.value, added)
  } finally {
    await store.close()
  }
})

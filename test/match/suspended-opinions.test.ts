/**
 * A member whose feed is suspended locally (match/local-switches.ts) no longer sways the verdict on others'
 * signals with its opinions: its true_positive does not count towards minAgreeingMembers, its
 * false_positive or disputed does not filter, while a member not suspended still counts. The opinions are
 * still listed in the match (they replicate; only this node's verdict leaves them out).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ReplicaStore } from '../../src/store/replica-store.js'
import { MemoryKeyValueStore } from '../../src/store/memory-kv.js'
import { Matcher } from '../../src/match/matcher.js'
import { LocalControls } from '../../src/match/local-controls.js'
import { decide } from '../../src/match/policy.js'
import { createRecord, type ChainPosition } from '../../src/record/build.js'
import type { Signer } from '../../src/record/crypto.js'
import type { OpinionValue } from '../../src/record/types.js'
import { memberFromByte, randomPdqHex, signalsBody } from '../helpers/records.js'

const settings = { enabled: true, limits: { burst: 1e6, signalsPerMinute: 1e6, signalsPerHour: 1e6 }, incidentLimits: { burst: 1e6, signalsPerMinute: 1e6, signalsPerHour: 1e6 }, autoRelease: false }

async function setup(policy: { minAgreeingMembers: number; ignoreFalsePositive: boolean; ignoreDisputed: boolean }) {
  const kv = new MemoryKeyValueStore()
  const store = await ReplicaStore.openWith(kv)
  const controls = await LocalControls.open(store, kv, settings, memberFromByte(1).publicKeyHex)
  const matcher = new Matcher(store, { policy: { members: null, minQuality: 50, actOnEquivocated: false, ...policy }, pdqThreshold: 31, isMember: () => true, memberName: () => undefined, local: controls })
  await matcher.rebuild()
  const heads = new Map<string, ChainPosition>()
  const append = async (signer: Signer, make: (head: ChainPosition) => ReturnType<typeof createRecord>) => {
    const rec = make(heads.get(signer.publicKeyHex) ?? { seq: 0, id: null })
    heads.set(signer.publicKeyHex, { seq: rec.record.seq, id: rec.record.id })
    const [result] = await store.appendVerified([rec])
    assert.equal(result!.verdict, 'accepted')
  }
  const contribute = (signer: Signer, value: string) => append(signer, (head) => createRecord(signer, head, 'signals', signalsBody([value])))
  const opine = (signer: Signer, value: string, opinion: OpinionValue) => append(signer, (head) => createRecord(signer, head, 'opinion', { signal: { type: 'pdq', value }, opinion }))
  const suspend = (signer: Signer) => controls.switches.set({ kind: 'member', target: signer.publicKeyHex, at: Date.now(), by: 'duty-officer', until: null, reason: 'stolen key suspected' })
  const resume = (signer: Signer) => controls.switches.resume('member', signer.publicKeyHex)
  const matchOne = async (value: string) => {
    const [m] = await matcher.match([{ type: 'pdq', value }])
    assert.ok(m, `a match for ${value}`)
    return m
  }
  return { contribute, opine, suspend, resume, matchOne }
}

const [alpha, bravo, charlie] = [memberFromByte(2), memberFromByte(3), memberFromByte(4)]

test('a suspended member\'s true_positive no longer makes up minAgreeingMembers; another member\'s still does', async () => {
  const { contribute, opine, suspend, resume, matchOne } = await setup({ minAgreeingMembers: 2, ignoreFalsePositive: false, ignoreDisputed: false })
  const value = randomPdqHex()
  await contribute(alpha, value)
  await opine(bravo, value, 'true_positive')
  assert.equal((await matchOne(value)).status, 'actionable', 'Alpha and Bravo agree')

  await suspend(bravo)
  const suspended = await matchOne(value)
  assert.equal(suspended.status, 'filtered')
  assert.deepEqual(suspended.reasons, ['1 of 2 required members agree'])
  assert.equal(suspended.agreeingMembers, 1)
  assert.deepEqual(suspended.opinions.members.map((o) => o.opinion), ['true_positive'], 'still listed')
  assert.match(String((suspended.opinions.members[0] as { ignored?: string }).ignored), /suspended locally/, 'and says why it did not count')

  await opine(charlie, value, 'true_positive')
  assert.equal((await matchOne(value)).status, 'actionable', 'Charlie, not suspended, counts')
  await resume(bravo)
  const resumed = await matchOne(value)
  assert.equal(resumed.agreeingMembers, 3, 'resumed: Bravo counts again')
  assert.equal(resumed.opinions.members.some((o) => 'ignored' in o), false)
})

test('a suspended member\'s false_positive or disputed no longer filters a signal', async () => {
  const { contribute, opine, suspend, matchOne } = await setup({ minAgreeingMembers: 1, ignoreFalsePositive: true, ignoreDisputed: true })
  const [flagged, disputed] = [randomPdqHex(), randomPdqHex()]
  await contribute(alpha, flagged)
  await contribute(alpha, disputed)
  await opine(bravo, flagged, 'false_positive')
  await opine(bravo, disputed, 'disputed')
  assert.deepEqual((await matchOne(flagged)).reasons, ['flagged false positive by a member'])
  assert.deepEqual((await matchOne(disputed)).reasons, ['disputed by a member'])

  await suspend(bravo)
  assert.equal((await matchOne(flagged)).status, 'actionable')
  assert.equal((await matchOne(disputed)).status, 'actionable')
})

test('policy: an opinion marked suppressed counts for nothing', () => {
  const policy = { members: null, minQuality: 50, ignoreDisputed: true, ignoreFalsePositive: true, minAgreeingMembers: 2, actOnEquivocated: false }
  const carriers = [{ author: 'a' }]
  assert.equal(decide(policy, carriers, [{ member: 'b', opinion: 'true_positive' }], () => true).status, 'actionable')
  const off = decide(policy, carriers, [{ member: 'b', opinion: 'true_positive', suppressed: 'member feed suspended locally' }, { member: 'c', opinion: 'disputed', suppressed: 'member feed suspended locally' }], () => true)
  assert.deepEqual(off.reasons, ['1 of 2 required members agree'])
})

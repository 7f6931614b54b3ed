import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ReplicaStore } from '../../src/store/replica-store.js'
import { MemoryKeyValueStore } from '../../src/store/memory-kv.js'
import { Matcher } from '../../src/match/matcher.js'
import { LocalControls } from '../../src/match/local-controls.js'
import { FloodQuarantine, type QuarantineSettings } from '../../src/match/flood-quarantine.js'
import { SwitchBook } from '../../src/match/local-switches.js'
import { createRecord, type ChainPosition } from '../../src/record/build.js'
import type { Signer } from '../../src/record/crypto.js'
import type { VerifiedRecord } from '../../src/record/types.js'
import { memberFromByte, randomPdqHex, signalsBody } from '../helpers/records.js'

const policy = { members: null, minQuality: 50, ignoreDisputed: false, ignoreFalsePositive: false, minAgreeingMembers: 1, actOnEquivocated: false }
const relaxed: QuarantineSettings = {
  enabled: true,
  limits: { burst: 1e6, signalsPerMinute: 1e6, signalsPerHour: 1e6 },
  incidentLimits: { burst: 1e6, signalsPerMinute: 1e6, signalsPerHour: 1e6 },
  autoRelease: false,
}

async function setup(settings: QuarantineSettings = relaxed, incidentOf?: (r: VerifiedRecord['record']) => string | undefined) {
  const kv = new MemoryKeyValueStore()
  const store = await ReplicaStore.openWith(kv)
  const own = memberFromByte(1)
  const controls = await LocalControls.open(store, kv, settings, own.publicKeyHex, incidentOf)
  const matcher = new Matcher(store, { policy, pdqThreshold: 31, isMember: () => true, memberName: () => undefined, local: controls })
  await matcher.rebuild()
  const heads = new Map<string, ChainPosition>()
  const add = async (signer: Signer, values: string[], timestamp = Date.now(), note?: string) => {
    const head = heads.get(signer.publicKeyHex) ?? { seq: 0, id: null }
    const rec = createRecord(signer, head, 'signals', { ...signalsBody(values), ...(note ? { note } : {}) }, timestamp)
    heads.set(signer.publicKeyHex, { seq: rec.record.seq, id: rec.record.id })
    await store.appendVerified([rec])
    return rec.record
  }
  const matchOne = async (value: string) => {
    const [m] = await matcher.match([{ type: 'pdq', value }])
    assert.ok(m, `a match for ${value}`)
    return m
  }
  return { kv, store, controls, matcher, add, matchOne, own }
}

test('switches: suspend a member, disable a signal or a record, until a time or until resumed; explained; survive a reopen', async () => {
  const { kv, store, controls, add, matchOne } = await setup()
  try {
    const alpha = memberFromByte(2)
    const bravo = memberFromByte(3)
    const [shared, bravoOnly] = [randomPdqHex(), randomPdqHex()]
    await add(alpha, [shared])
    const bravoRecord = await add(bravo, [shared, bravoOnly])
    assert.equal((await matchOne(bravoOnly)).status, 'actionable')

    const started = performance.now()
    await controls.switches.set({ kind: 'member', target: bravo.publicKeyHex, at: Date.now(), by: 'duty-officer', until: null, reason: 'stolen key suspected' })
    const suspended = await matchOne(bravoOnly)
    assert.ok(performance.now() - started < 1000, 'in force for the next match')
    assert.equal(suspended.status, 'filtered')
    assert.match(suspended.reasons[0]!, /^member feed suspended locally at \d{4}-\d\d-\d\dT[\d:]+Z by duty-officer: stolen key suspected$/)
    assert.equal(suspended.records[0]!.local?.state, 'suspended')
    // Alpha still backs the shared hash: actionable, Bravo's record shown as switched off
    const sharedMatch = await matchOne(shared)
    assert.equal(sharedMatch.status, 'actionable')
    assert.equal(sharedMatch.records.find((r) => r.member.key === bravo.publicKeyHex)?.local?.state, 'suspended')
    assert.equal(sharedMatch.records.find((r) => r.member.key === alpha.publicKeyHex)?.local, undefined)

    // a signal disabled for 150 ms: filtered now, actionable once the time has passed
    await controls.switches.set({ kind: 'signal', target: `pdq:${shared}`, at: Date.now(), by: 'ops', until: Date.now() + 150, reason: '' })
    const disabled = await matchOne(shared)
    assert.equal(disabled.status, 'filtered')
    assert.ok(disabled.reasons.some((r) => /^signal disabled locally at .* by ops until /.test(r)), disabled.reasons.join('; '))
    await new Promise((r) => setTimeout(r, 200))
    assert.equal((await matchOne(shared)).status, 'actionable')

    // a record switch, and the book as reopened from the store
    await controls.switches.set({ kind: 'record', target: bravoRecord.id, at: Date.now(), by: 'ops', until: null, reason: 'bad batch' })
    const reopened = await SwitchBook.open(kv)
    assert.deepEqual((await reopened.list()).map((s) => `${s.kind}:${s.target}`), [`member:${bravo.publicKeyHex}`, `record:${bravoRecord.id}`])
    assert.equal(reopened.suppression(alpha.publicKeyHex, bravoRecord.id, 'pdq:x', Date.now())?.state, 'disabled')

    // resume: the member's signal matches again (its record is still switched off, so resume that too)
    assert.ok(await controls.switches.resume('member', bravo.publicKeyHex))
    assert.equal((await matchOne(bravoOnly)).status, 'filtered')
    assert.ok(await controls.switches.resume('record', bravoRecord.id))
    assert.equal((await matchOne(bravoOnly)).status, 'actionable')
    assert.equal(await controls.switches.resume('record', bravoRecord.id), undefined, 'resuming twice finds nothing')
    assert.deepEqual(await controls.switches.list(), [], 'the expired signal switch leaves with the listing')
    assert.equal(controls.switches.size, 0)
  } finally {
    await store.close()
  }
})

test('flood quarantine: over the burst limit a member\'s records are stored but not matched; released by hand or when back under', async () => {
  const settings: QuarantineSettings = { ...relaxed, limits: { burst: 3, signalsPerMinute: 5, signalsPerHour: 100 }, autoRelease: true }
  const { kv, store, controls, add, matchOne, own } = await setup(settings)
  try {
    const bravo = memberFromByte(4)
    const values = Array.from({ length: 6 }, randomPdqHex)
    const now = Date.now()
    const records = []
    for (let i = 0; i < 6; i++) records.push(await add(bravo, [values[i]!], now + i))
    // 3 fit the burst of 3; the 4th and later go over it
    assert.deepEqual(controls.quarantine.list().map((e) => e.seq), [4, 5, 6])
    assert.deepEqual(controls.quarantine.list().map((e) => e.rule), ['burst', 'burst', 'burst'])
    assert.equal(store.getCounts().records, 6, 'every record stored: the replica stays complete')
    assert.equal((await matchOne(values[2]!)).status, 'actionable')
    const held = await matchOne(values[4]!)
    assert.equal(held.status, 'filtered')
    assert.match(held.reasons[0]!, /^quarantined locally at .* by flood control: \d+ signals in any 10 s from this member, over its limit of 3$/)

    // this node's own contributions and records signed over an hour ago are never counted
    for (let i = 0; i < 5; i++) await add(own, [randomPdqHex()])
    const charlie = memberFromByte(5)
    for (let i = 0; i < 5; i++) await add(charlie, [randomPdqHex()], now - 2 * 3_600_000 + i)
    assert.equal(controls.quarantine.size, 3)

    // survives a reopen (entries from the store, windows re-seeded from them)
    const reopened = await FloodQuarantine.open(kv, settings, own.publicKeyHex)
    await controls.quarantine.flushed()
    const again = await FloodQuarantine.open(kv, settings, own.publicKeyHex)
    assert.ok(reopened.size <= 3)
    assert.deepEqual(again.list().map((e) => e.id), records.slice(3).map((r) => r.id))

    // an operator releases one record; the rest go when the member is back under every limit
    const [released] = await controls.quarantine.release({ records: [records[3]!.id] }, 'ops')
    assert.equal(released?.id, records[3]!.id)
    assert.equal((await matchOne(values[3]!)).status, 'actionable')
    assert.deepEqual(await controls.quarantine.tick(now + 30_000), [], 'still over the minute limit 30 s later')
    assert.equal((await controls.quarantine.tick(now + 61_000)).length, 2)
    assert.equal((await matchOne(values[5]!)).status, 'actionable')
    assert.deepEqual(controls.quarantine.counters, { quarantinedRecords: 3, quarantinedSignals: 3, releasedRecords: 3, autoReleasedRecords: 2 })
    await controls.quarantine.flushed()
    assert.equal((await FloodQuarantine.open(kv, settings, own.publicKeyHex)).size, 0, 'releases are stored too')
  } finally {
    await store.close()
  }
})

test('flood quarantine: incident contributions count against their own, higher limits; autoRelease off waits for an operator', async () => {
  const settings: QuarantineSettings = { enabled: true, limits: { burst: 2, signalsPerMinute: 100, signalsPerHour: 100 }, incidentLimits: { burst: 4, signalsPerMinute: 100, signalsPerHour: 100 }, autoRelease: false }
  const { store, controls, add } = await setup(settings, (r) => (r.kind === 'signals' && r.body.note === 'incident' ? 'inc-1' : undefined))
  try {
    const bravo = memberFromByte(6)
    const now = Date.now()
    for (let i = 0; i < 4; i++) await add(bravo, [randomPdqHex()], now + i, 'incident')
    assert.equal(controls.quarantine.size, 0, '4 incident signals fit the incident burst of 4')
    await add(bravo, [randomPdqHex()], now + 5, 'incident')
    await add(bravo, [randomPdqHex(), randomPdqHex()], now + 6)
    await add(bravo, [randomPdqHex()], now + 7)
    assert.deepEqual(controls.quarantine.list().map((e) => [e.seq, e.incident ?? null]), [[5, 'inc-1'], [7, null]])
    assert.deepEqual(await controls.quarantine.tick(now + 3_600_000 * 2), [], 'autoRelease off: nothing leaves by itself')
    assert.equal((await controls.quarantine.release({ all: true }, 'ops')).length, 2)
  } finally {
    await store.close()
  }
})

/** The node-side parts of the console: the 24 h activity ring and roster proposals signed from the console. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ACTIVITY_MINUTES, ActivityLog } from '../../src/node/activity.js'
import { RosterProposals, rosterChanges } from '../../src/node/roster-proposals.js'
import { RosterState } from '../../src/node/roster-state.js'
import { encodeSignedRoster, rosterFromJson, rosterId, rosterToJson, signRoster, type RosterDocument } from '../../src/record/roster.js'
import type { RosterJson } from '../../src/node/contract.js'
import { isHashmeshError } from '../../src/errors.js'
import { memberFromByte } from '../helpers/records.js'
import type { SignedRecord } from '../../src/record/types.js'

const MINUTE = 60_000

test('activity: per-minute counts of records by author (not our own), delays, matches; a 24 h ring', () => {
  let now = 1_000 * MINUTE + 5_000
  const log = new ActivityLog('own', () => now)
  const rec = (author: string, timestamp: number) => ({ author, timestamp }) as SignedRecord
  log.recordsCommitted([rec('own', now), rec('bob', now - 2_000), rec('bob', now - 4_000), rec('carol', now - 1_000)])
  log.matched(3, 1)
  now += MINUTE
  log.matched(2, 0)
  const view = log.view(3)
  assert.equal(view.minutes.length, 3)
  assert.deepEqual(view.minutes.map((m) => m.at), [999 * MINUTE, 1000 * MINUTE, 1001 * MINUTE])
  assert.deepEqual(view.minutes[1]!.received, { bob: 2, carol: 1 })
  assert.equal(view.minutes[1]!.delayMeanMs, Math.round(7_000 / 3))
  assert.equal(view.minutes[1]!.delayMaxMs, 4_000)
  assert.deepEqual([view.minutes[1]!.matchRequests, view.minutes[1]!.matchHits], [3, 1])
  assert.deepEqual([view.minutes[2]!.matchRequests, view.minutes[2]!.delayMeanMs], [2, null])
  // a day later the slot is reused: old counts are gone, not added to
  now += ACTIVITY_MINUTES * MINUTE - MINUTE
  log.matched(1, 1)
  const later = log.view(1)
  assert.deepEqual([later.minutes[0]!.at, later.minutes[0]!.matchRequests, later.minutes[0]!.received], [now - (now % MINUTE), 1, {}])
  assert.equal(log.view(ACTIVITY_MINUTES * 10).minutes.length, ACTIVITY_MINUTES, 'never more than the ring holds')
  assert.equal(log.view(0).minutes.length, 1)
})

test('activity: the heads each peer announced at its last sync; a failed session keeps the previous heads', () => {
  const log = new ActivityLog('own', () => 5)
  log.synced({ peerId: 'p1', ok: true, peerHeads: [{ feed: 'f', seq: 7 }], missingAtStart: 3, records: { accepted: 3 } })
  log.synced({ peerId: 'p1', ok: false, missingAtStart: 0, records: { accepted: 0 } })
  assert.deepEqual(log.view(1).peers, [{ peerId: 'p1', at: 5, ok: false, heads: [{ feed: 'f', seq: 7 }], missingAtStart: 0, accepted: 0 }])
})

const [a, b, c, d] = [memberFromByte(21), memberFromByte(22), memberFromByte(23), memberFromByte(24)]
const peer = (n: number) => '12D3KooW' + 'B'.repeat(43) + String.fromCharCode(65 + n)
const genesisDoc: RosterDocument = { federation: 'test', serial: 1, prev: null, createdAt: 1, members: [a, b, c].map((m, i) => ({ name: `m${i}`, key: m.publicKeyHex, peers: [peer(i)] })) }
const genesis = [a, b, c].reduce((r, m) => signRoster(r, m), { document: genesisDoc, signatures: [] } as Parameters<typeof signRoster>[0])
const asJson = (r: Parameters<typeof rosterToJson>[0]) => JSON.parse(rosterToJson(r)) as RosterJson

test('roster proposals: what changes, votes, and installed once this member makes the majority', async () => {
  const state = new RosterState(rosterId(genesisDoc), a.publicKeyHex)
  assert.equal(state.accept(encodeSignedRoster(genesis)).verdict, 'accepted')
  const installs: string[] = []
  const proposals = new RosterProposals({
    current: () => state.current,
    signer: a,
    install: async (json) => {
      const r = state.accept(encodeSignedRoster(rosterFromJson(JSON.stringify(json))))
      installs.push(r.verdict)
      return r
    },
  })
  const members = [{ ...genesisDoc.members[0]!, name: 'm0-renamed' }, { ...genesisDoc.members[1]!, peers: [peer(9)] }, { name: 'm3', key: d.publicKeyHex, peers: [] }]
  const next: RosterDocument = { ...genesisDoc, serial: 2, prev: rosterId(genesisDoc), createdAt: 2, members }
  const view = proposals.add(asJson(signRoster({ document: next, signatures: [] }, b)))
  assert.deepEqual(view.changes.added.map((m) => m.name), ['m3'])
  assert.deepEqual(view.changes.removed.map((m) => m.name), ['m2'])
  assert.deepEqual(view.changes.renamed, [{ key: a.publicKeyHex, from: 'm0', to: 'm0-renamed' }])
  assert.deepEqual(view.changes.peersChanged, [{ name: 'm1', key: b.publicKeyHex, added: [peer(9)], removed: [peer(1)] }])
  assert.deepEqual([view.votes, view.needed, view.signedByMe, view.followsCurrent], [1, 2, false, true])
  assert.equal((await proposals.list()).length, 1)
  const signed = await proposals.sign(view.id)
  assert.equal(signed.installed, true)
  assert.deepEqual(installs, ['accepted'])
  assert.equal(state.current?.document.serial, 2)
  assert.equal(proposals.list().length, 0, 'an installed proposal is no longer pending')
})

test('roster proposals: refused input is a typed error; signing alone short of a majority installs nothing', async () => {
  const state = new RosterState(rosterId(genesisDoc), a.publicKeyHex)
  const deps = { current: () => state.current, signer: a, install: async () => { throw new Error('must not install') } }
  const proposals = new RosterProposals(deps)
  const next: RosterDocument = { ...genesisDoc, serial: 2, prev: rosterId(genesisDoc), createdAt: 2 }
  const code = (f: () => unknown) => { try { f(); return 'none' } catch (err) { return isHashmeshError(err) ? err.code : String(err) } }
  assert.equal(code(() => proposals.add(asJson({ document: next, signatures: [] }))), 'ROSTER_INVALID', 'no roster installed yet')
  state.accept(encodeSignedRoster(genesis))
  assert.equal(code(() => proposals.add(asJson(genesis))), 'ROSTER_INVALID', 'not newer')
  assert.equal(code(() => proposals.add({ document: { nonsense: true }, signatures: [] })), 'ROSTER_INVALID')
  assert.equal(code(() => proposals.add(asJson({ document: { ...next, federation: 'other' }, signatures: [] }))), 'ROSTER_INVALID')
  await assert.rejects(proposals.sign('f'.repeat(64)), (err) => isHashmeshError(err, 'NOT_FOUND'))
  // four members: a's signature alone is 1 of 3 needed
  const bigger = new RosterState(null, a.publicKeyHex)
  const doc4: RosterDocument = { ...genesisDoc, members: [...genesisDoc.members, { name: 'm3', key: d.publicKeyHex, peers: [] }] }
  assert.equal(bigger.accept(encodeSignedRoster([a, b, c, d].reduce((r, m) => signRoster(r, m), { document: doc4, signatures: [] } as Parameters<typeof signRoster>[0])), true).verdict, 'accepted')
  const p4 = new RosterProposals({ ...deps, current: () => bigger.current })
  const view = p4.add(asJson({ document: { ...doc4, serial: 2, prev: bigger.current!.id, createdAt: 3, members: doc4.members.slice(0, 3) }, signatures: [] }))
  const signed = await p4.sign(view.id)
  assert.deepEqual([signed.installed, signed.proposal.votes, signed.proposal.needed, signed.proposal.signedByMe], [false, 1, 3, true])
  assert.equal(rosterChanges(undefined, genesisDoc).added.length, 3)
})

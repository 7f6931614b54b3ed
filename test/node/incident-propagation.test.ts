/** Which members hold an incident contribution: its author, this node, and members whose peers reported it in sync. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { IncidentPropagation } from '../../src/node/incident-propagation.js'
import type { IncidentBook, IncidentContribution, IncidentState } from '../../src/node/incidents.js'

const A = 'a'.repeat(64)
const B = 'b'.repeat(64)
const C = 'c'.repeat(64)
const SELF = 'e'.repeat(64)

function fakeBook(states: Array<{ open: boolean; contributions: IncidentContribution[] }>): IncidentBook {
  const all = states.map((s) => ({ open: s.open, state: { contributions: new Map(s.contributions.map((c) => [c.record, c])) } as unknown as IncidentState }))
  return {
    all: () => all.map((s) => s.state),
    stateOf: (state: IncidentState) => (all.find((s) => s.state === state)!.open ? 'open' : 'closed'),
  } as unknown as IncidentBook
}

test('the author since signing, this node since arrival, a peer member by the first sync report showing its head at or past the record', () => {
  const c: IncidentContribution = { record: 'r1', author: A, seq: 5, signals: 1, timestamp: 1000, receivedAt: 1100 }
  const open = { open: true, contributions: [c] }
  let now = 2000
  const p = new IncidentPropagation(fakeBook([open]), () => now)
  assert.deepEqual(p.holders(c, SELF), [{ member: A, at: 1000, how: 'signed' }, { member: SELF, at: 1100, how: 'received' }])
  p.peerHeads(B, [{ feed: A, seq: 4 }]) // behind: not yet
  p.peerHeads(undefined, [{ feed: A, seq: 9 }]) // a peer of no member: ignored
  assert.equal(p.holders(c, SELF).length, 2)
  now = 3000
  p.peerHeads(B, [{ feed: A, seq: 5 }])
  now = 4000
  p.peerHeads(B, [{ feed: A, seq: 6 }]) // later reports keep the first time
  p.peerHeads(C, [{ feed: B, seq: 6 }, { feed: A, seq: 7 }])
  assert.deepEqual(p.holders(c, SELF), [
    { member: A, at: 1000, how: 'signed' }, { member: SELF, at: 1100, how: 'received' },
    { member: B, at: 3000, how: 'peer-sync' }, { member: C, at: 4000, how: 'peer-sync' },
  ])
  // this node's own contribution: it is the author, listed once
  assert.deepEqual(p.holders({ ...c, author: SELF }, SELF).map((h) => [h.member, h.how]), [[SELF, 'signed'], [B, 'peer-sync'], [C, 'peer-sync']])
})

test('a contribution learnt of after a peer reported its heads is held by that report; closed incidents are forgotten', () => {
  const early: IncidentContribution = { record: 'r2', author: A, seq: 3, signals: 1, timestamp: 500, receivedAt: 900 }
  const incident = { open: true, contributions: [] as IncidentContribution[] }
  let now = 700
  const book = fakeBook([incident])
  const p = new IncidentPropagation(book, () => now)
  p.peerHeads(B, [{ feed: A, seq: 3 }]) // before this node had the contribution
  ;(book.all()[0]!.contributions as Map<string, IncidentContribution>).set('r2', early)
  assert.deepEqual(p.holders(early, SELF).find((h) => h.member === B), { member: B, at: 700, how: 'peer-sync' })
  now = 800
  p.peerHeads(C, [{ feed: A, seq: 3 }])
  assert.deepEqual(p.holders(early, SELF).map((h) => h.member), [A, B, C, SELF])
})

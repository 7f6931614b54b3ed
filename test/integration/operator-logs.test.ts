/**
 * The info log tells an operator's story (issue 15): peers connecting and leaving, a catch-up with its
 * counts, source and duration, contributions signed, roster versions installed, and on a member removed
 * from the roster one plain "not in the current roster" line, after which it stops dialling and syncing.
 */
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { runNode } from '../../src/api/run-node.js'
import type { LogLevel } from '../../src/node/log.js'
import { Signer } from '../../src/record/crypto.js'
import { encodeSignedRoster, signRoster, type RosterDocument } from '../../src/record/roster.js'
import { testFederation, waitFor } from '../helpers/federation.js'
import { randomPdqHex } from '../helpers/records.js'

interface Line { level: LogLevel; event: string; fields: Record<string, unknown>; at: number }

const fed = await testFederation(['Alpha', 'Bravo', 'Charlie'], 300)
after(() => fed.close())
const logs = new Map<string, Line[]>()
const lines = (name: string, event?: string, level?: LogLevel) => (logs.get(name) ?? []).filter((l) => (!event || l.event === event) && (!level || l.level === level))
const msgs = (name: string, event: string) => lines(name, event).map((l) => String(l.fields.msg))

async function start(name: string): Promise<void> {
  const member = fed.members.find((m) => m.name === name)!
  const log: Line[] = logs.get(name) ?? []
  logs.set(name, log)
  const running = await runNode(member.dataDir, { log: (level, event, fields = {}) => log.push({ level, event, fields, at: Date.now() }) })
  fed.running.set(name, running)
}

test('peers connecting and disconnecting are info lines naming the member', async () => {
  await start('Alpha')
  await start('Bravo')
  await waitFor('Alpha logs Bravo connected', () => lines('Alpha', 'peer.connected', 'info').some((l) => /connected to Bravo \(12D3/.test(String(l.fields.msg))))
  await waitFor('Bravo logs Alpha connected', () => msgs('Bravo', 'peer.connected').some((m) => m.includes('Alpha')))
})

test('contributions signed and a catch-up (records, from whom, how long) are info lines', async () => {
  const alpha = fed.node('Alpha').node
  await alpha.contribute({ signals: Array.from({ length: 5 }, () => ({ type: 'pdq' as const, value: randomPdqHex(), quality: 100 })) })
  await alpha.contribute({ signals: [{ type: 'md5', value: 'a'.repeat(32) }] })
  const signed = lines('Alpha', 'contribution.signed', 'info')
  assert.equal(signed.length, 2)
  assert.match(String(signed[0]!.fields.msg), /^signed 1 record with 5 signals up to seq 1$/)
  assert.equal(signed[0]!.fields.signals, 5)

  await start('Charlie')
  // Charlie syncs with Alpha and Bravo at once: the two records may arrive one by each session, so each
  // line counts what its own session stored and together they count both
  const caughtUp = () => lines('Charlie', 'catchup.finished', 'info')
  await waitFor('Charlie caught up', () => caughtUp().reduce((n, l) => n + Number(l.fields.records), 0) >= 2, 15_000)
  for (const finished of caughtUp()) {
    assert.match(String(finished.fields.msg), /^caught up from (Alpha|Bravo) \(12D3.*\): \d+ records.* in \d+ ms$/)
    assert.equal(typeof finished.fields.durationMs, 'number')
  }
  const started = lines('Charlie', 'catchup.started', 'info')
  assert.ok(started.length >= 1, 'catch-up started is logged')
  assert.match(String(started[0]!.fields.msg), /^catch-up from (Alpha|Bravo) .*: \d+ records missing in \d+ feeds$/)
})

test('a roster change is logged everywhere; the removed member says "not in the current roster" once and stops retrying', async () => {
  await waitFor('Charlie meshed', () => fed.node('Charlie').network!.peers().length >= 2, 15_000)
  const [alphaM, bravoM, charlieM] = fed.members
  const current = fed.node('Alpha').node.rosterView().current!
  const document: RosterDocument = {
    federation: current.document.federation,
    serial: 2,
    prev: current.id,
    members: current.document.members.filter((m) => m.key !== charlieM!.identity.memberKey),
    createdAt: Date.now(),
  }
  let signed = signRoster({ document, signatures: [] }, new Signer(alphaM!.identity.memberKeyPair))
  signed = signRoster(signed, new Signer(bravoM!.identity.memberKeyPair))
  const bytes = encodeSignedRoster(signed)
  assert.equal((await fed.node('Alpha').node.installRoster(bytes)).verdict, 'accepted')
  // Charlie may get it by gossip before it is cut off; its operator installs it in any case
  await fed.node('Charlie').node.installRoster(bytes)
  for (const name of ['Alpha', 'Bravo', 'Charlie']) {
    const line = await waitFor(`${name} logs roster 2`, () => lines(name, 'roster.installed', 'info').find((l) => l.fields.serial === 2), 15_000)
    assert.match(String(line.fields.msg), /^roster version 2 installed: 2 members \(Alpha, Bravo\)$/)
  }
  const removed = await waitFor('Charlie says it was removed', () => lines('Charlie', 'roster.removed')[0])
  assert.match(String(removed.fields.msg), /not in the current roster \(serial 2\)/)
  assert.match(String(removed.fields.msg), /roster propose --add/)
  await waitFor('Alpha drops Charlie', () => !fed.node('Alpha').network!.peers().some((p) => p.peerId === charlieM!.identity.peerId), 15_000)
  // the member that removed Charlie still names it
  const dropped = await waitFor('Alpha logs the disconnection', () => lines('Alpha', 'peer.disconnected', 'info').filter((l) => l.fields.peer === charlieM!.identity.peerId).at(-1))
  assert.match(String(dropped.fields.msg), /^disconnected from Charlie \(12D3KooW…/)

  // sessions already under way end; then, ten sync intervals later: no session started, no dial, one removal line
  await new Promise((r) => setTimeout(r, 1_000))
  const sessions = fed.node('Charlie').network!.metrics().sync.sessionsStarted
  const dials = fed.node('Charlie').network!.metrics().rosterDials
  const before = lines('Charlie').length
  await new Promise((r) => setTimeout(r, 3_000))
  assert.equal(fed.node('Charlie').network!.metrics().sync.sessionsStarted, sessions, 'no sync session after removal')
  assert.equal(fed.node('Charlie').network!.metrics().rosterDials, dials, 'no roster dial after removal')
  assert.equal(lines('Charlie', 'roster.removed').length, 1)
  const later = lines('Charlie').slice(before).filter((l) => l.level !== 'debug' && l.level !== 'trace')
  assert.ok(later.length <= 2, `Charlie is quiet once removed: ${JSON.stringify(later.map((l) => l.event))}`)
})

test('repeated sync failures with a peer that went away are one line with a count, not one per attempt', async () => {
  const bravo = fed.members[1]!.identity.peerId
  await fed.stop('Bravo')
  const alpha = fed.node('Alpha').network!
  const before = lines('Alpha', 'sync.session.failed').filter((l) => l.fields.peerId === bravo).length
  for (let i = 0; i < 10; i++) {
    const report = await alpha.syncNow(bravo)
    assert.equal(report.failed, 1)
  }
  const failures = lines('Alpha', 'sync.session.failed').filter((l) => l.fields.peerId === bravo)
  assert.ok(failures.length - before <= 1, `${failures.length - before} lines for 10 failures`)
  assert.equal(failures.at(-1)!.level, 'warn')
  assert.match(String(failures.at(-1)!.fields.msg), /^sync with Bravo \(12D3.*\) failed/)
})

test('no node logged more than one sync failure line per peer per minute', () => {
  for (const name of ['Alpha', 'Bravo', 'Charlie']) {
    const byPeer = new Map<string, number[]>()
    for (const l of lines(name, 'sync.session.failed')) byPeer.set(String(l.fields.peerId), [...(byPeer.get(String(l.fields.peerId)) ?? []), l.at])
    for (const [peer, times] of byPeer) {
      for (let i = 1; i < times.length; i++) assert.ok(times[i]! - times[i - 1]! >= 60_000, `${name}: two failure lines for ${peer} within a minute`)
    }
  }
})

test('sample: the info log of the removed member', () => {
  for (const l of lines('Charlie').filter((x) => x.level !== 'debug' && x.level !== 'trace')) {
    console.log(`${new Date(l.at).toISOString()} ${l.level.toUpperCase().padEnd(5)} ${String(l.fields.msg ?? l.event)}  [${l.event}]`)
  }
})

/**
 * The incidents fast path across real member processes (scripts/lib/devnet.ts: each `hashmesh start`):
 * a declaration and a contribution naming it reach the other member on the incidents topic (the sync
 * interval is a minute, so periodic sync cannot be what delivers them); a member that joins mid-incident
 * gets the open incident from the catch-up protocol and the contribution from its first sync, and acts on
 * it under incident.autoAct although minAgreeingMembers is 2.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { apiClient, createDevnet } from '../../scripts/lib/devnet.js'
import { waitFor } from '../helpers/federation.js'
import { randomPdqHex } from '../helpers/records.js'
import { cliAsync } from '../helpers/cli.js'

interface Incident { id: string; state: string; contributions: Array<{ record: string; latencyMs: number; heldBy: Array<{ member: { name: string | null }; how: string }> }> }
interface Match { status: string; reasons: string[]; records: Array<{ incident?: string }> }

test('incidents: declared and contributed on one member, on the others within seconds by the priority topic; a member joining mid-incident catches up', { timeout: 180_000 }, async () => {
  const devnet = await createDevnet({ names: ['Alpha', 'Bravo', 'Charlie'], syncIntervalMs: 60_000, config: { match: { minAgreeingMembers: 2 }, incident: { autoAct: true } } })
  try {
    await Promise.all([devnet.start('Alpha'), devnet.start('Bravo')])
    const alpha = apiClient(devnet.member('Alpha'))
    const bravo = apiClient(devnet.member('Bravo'))
    await waitFor('Alpha and Bravo connected', async () => (await alpha.get<{ peers: unknown[] }>('/v1/peers')).peers.length > 0, 30_000, 200)

    const incident = await alpha.post<Incident>('/v1/incidents', { title: 'Live-streamed attack', severity: 'critical' })
    const seen = await waitFor('Bravo has the incident', async () => (await bravo.get<{ incidents: Incident[] }>('/v1/incidents')).incidents.find((i) => i.id === incident.id), 15_000, 50)
    assert.equal(seen.state, 'open')

    const value = randomPdqHex()
    const signedAt = Date.now()
    const contributed = await alpha.post<{ records: Array<{ id: string }> }>('/v1/contributions', { signals: [{ type: 'pdq', value, quality: 95 }], labels: [`incident:${incident.id}`] })
    const matched = await waitFor('Bravo matches the contribution', async () => {
      const m = (await bravo.post<{ matches: Match[] }>('/v1/match', { signals: [{ type: 'pdq', value }] })).matches[0]
      return m?.status === 'actionable' ? m : undefined
    }, 15_000, 25)
    const elapsed = Date.now() - signedAt
    assert.equal(matched.records[0]!.incident, incident.id, 'autoAct: actionable with 1 of 2 members, because it names the open incident')
    const status = await bravo.get<{ network: { metrics: { priority?: { accepted: number } } } }>('/v1/status')
    assert.ok((status.network.metrics.priority?.accepted ?? 0) >= 1, 'Bravo took them from the incidents topic')
    const onBravo = (await bravo.get<Incident>(`/v1/incidents/${incident.id}`)).contributions
    assert.deepEqual(onBravo.map((c) => c.record), [contributed.records[0]!.id])
    console.log(`# contribution matchable on Bravo ${elapsed} ms after signing (Bravo's own count: ${onBravo[0]!.latencyMs} ms)`)

    // Charlie joins mid-incident
    const joinedAt = Date.now()
    await devnet.start('Charlie')
    const charlie = apiClient(devnet.member('Charlie'))
    await waitFor('Charlie has the open incident', async () => (await charlie.get<{ incidents: Incident[] }>('/v1/incidents')).incidents.some((i) => i.id === incident.id), 30_000, 50)
    const onCharlie = await waitFor('Charlie matches the contribution', async () => {
      const m = (await charlie.post<{ matches: Match[] }>('/v1/match', { signals: [{ type: 'pdq', value }] })).matches[0]
      return m?.status === 'actionable' ? m : undefined
    }, 30_000, 50)
    assert.equal(onCharlie.records[0]!.incident, incident.id)
    // propagation as Charlie sees it: Alpha signed it, Charlie has it, Bravo's head (reported in Charlie's sync with Bravo) covers it
    const heldBy = await waitFor('Charlie knows who holds the contribution', async () => {
      const c = (await charlie.get<Incident>(`/v1/incidents/${incident.id}`)).contributions[0]
      return c && c.heldBy.length === 3 ? c.heldBy : undefined
    }, 30_000, 100)
    assert.deepEqual(heldBy.map((h) => [h.member.name, h.how]).sort(), [['Alpha', 'signed'], ['Bravo', 'peer-sync'], ['Charlie', 'received']])
    console.log(`# Charlie, started mid-incident, acts on it ${Date.now() - joinedAt} ms after its start began`)

    // an operator on Charlie suspends Alpha's feed with the CLI (over Charlie's API): off for the next match, nothing sent
    const suspended = await cliAsync(['switch', 'suspend', devnet.member('Alpha').identity.memberKey, '--reason', 'key compromise suspected', '--by', 'duty-officer', '--data', devnet.member('Charlie').dataDir])
    assert.equal(suspended.code, 0, suspended.stderr)
    const off = (await charlie.post<{ matches: Match[] }>('/v1/match', { signals: [{ type: 'pdq', value }] })).matches[0]!
    assert.equal(off.status, 'filtered')
    assert.match(off.reasons[0]!, /^member feed suspended locally at .* by duty-officer: key compromise suspected$/)
    assert.equal((await bravo.post<{ matches: Match[] }>('/v1/match', { signals: [{ type: 'pdq', value }] })).matches[0]!.status, 'actionable', 'on Charlie only')

    // bad input across the API: a contribution naming an unknown incident, a declaration already expired
    await assert.rejects(charlie.post('/v1/contributions', { signals: [{ type: 'pdq', value: randomPdqHex() }], labels: [`incident:${'0'.repeat(32)}`] }), /404 NOT_FOUND/)
    await assert.rejects(charlie.post('/v1/incidents', { title: 'late', severity: 'low', start: Date.now() - 7_200_000, expiry: Date.now() - 3_600_000 }), /400 RECORD_INVALID/)
  } finally {
    await devnet.close()
  }
})

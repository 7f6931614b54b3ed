/**
 * The incidents fast path when a contribution overtakes its author's previous record (issue 18,
 * Performance): two real nodes (LevelDB, libp2p on 127.0.0.1) with a sync interval of a minute; Alpha signs
 * an ordinary record that never reaches Bravo (its gossip is withheld), then a contribution naming an open
 * incident. A feed is a hash chain, so Bravo can store the contribution only after that record: the
 * contribution must still be matchable on Bravo within seconds, carried ahead of it on the incidents topic,
 * not at the next sync a minute later.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { apiClient } from '../../scripts/lib/devnet.js'
import { testFederation, waitFor } from '../helpers/federation.js'
import { randomPdqHex } from '../helpers/records.js'

test('incidents: a contribution whose author\'s previous record never reached a member is matchable there within seconds', { timeout: 90_000 }, async () => {
  const fed = await testFederation(['Alpha', 'Bravo'], 60_000)
  try {
    const [alphaRun, bravoRun] = [await fed.start('Alpha'), await fed.start('Bravo')]
    const client = (name: string, apiUrl: string) => apiClient({ apiUrl, token: readFileSync(join(fed.members.find((m) => m.name === name)!.dataDir, 'api.token'), 'utf8').trim() })
    const alpha = client('Alpha', alphaRun.apiUrl)
    const bravo = client('Bravo', bravoRun.apiUrl)
    await waitFor('Alpha and Bravo connected', () => alphaRun.network!.peers().length > 0, 30_000, 50)
    const incident = await alpha.post<{ id: string }>('/v1/incidents', { title: 'Live-streamed attack', severity: 'critical' })
    await waitFor('Bravo has the incident', async () => (await bravo.get<{ incidents: Array<{ id: string }> }>('/v1/incidents')).incidents.some((i) => i.id === incident.id), 15_000, 50)
    // the sync round the notice started on Bravo is over (it would fetch the record withheld below)
    const idle = (run: typeof bravoRun) => {
      const { sessionsStarted, sessionsSucceeded, sessionsFailed } = run.network!.metrics().sync
      return sessionsStarted === sessionsSucceeded + sessionsFailed
    }
    await new Promise((r) => setTimeout(r, 500))
    await waitFor('no sync session running', () => idle(bravoRun) && idle(alphaRun), 15_000, 25)

    // an ordinary record of Alpha's that Bravo never gets by gossip (and no sync comes for a minute)
    const net = alphaRun.network! as { publish: (record: Uint8Array) => Promise<void> }
    const publish = net.publish
    net.publish = async () => undefined
    let withheld: string
    try {
      withheld = (await alpha.post<{ records: Array<{ id: string }> }>('/v1/contributions', { signals: [{ type: 'pdq', value: randomPdqHex(), quality: 90 }], labels: [] })).records[0]!.id
    } finally {
      net.publish = publish
    }
    await new Promise((r) => setTimeout(r, 300))
    await assert.rejects(bravo.get(`/v1/records/${withheld}`), /404/, 'Bravo does not have the withheld record')

    const value = randomPdqHex()
    const signedAt = Date.now()
    const contribution = (await alpha.post<{ records: Array<{ id: string }> }>('/v1/contributions', { signals: [{ type: 'pdq', value, quality: 95 }], labels: [`incident:${incident.id}`] })).records[0]!.id
    await waitFor('Bravo matches the contribution', async () => (await bravo.post<{ matches: unknown[] }>('/v1/match', { signals: [{ type: 'pdq', value }] })).matches.length > 0, 10_000, 25)
    const elapsed = Date.now() - signedAt
    console.log(`# matchable on Bravo ${elapsed} ms after signing, its previous record withheld from gossip`)
    assert.ok(elapsed < 10_000)
    const onBravo = await bravo.get<{ contributions: Array<{ record: string }> }>(`/v1/incidents/${incident.id}`)
    assert.deepEqual(onBravo.contributions.map((c) => c.record), [contribution])
    await bravo.get(`/v1/records/${withheld}`) // carried on the incidents topic, ahead of the contribution
  } finally {
    await fed.close()
  }
})

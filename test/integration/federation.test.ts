import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { testFederation, waitFor } from '../helpers/federation.js'
import { randomPdqHex } from '../helpers/records.js'

const fed = await testFederation(['Alpha', 'Bravo', 'Charlie'])
after(() => fed.close())

const matchOn = async (name: string, value: string) => fed.node(name).node.match([{ type: 'pdq', value }])

test('a contribution on A is matchable on C within seconds (gossip, or the 500 ms sync)', async () => {
  for (const name of ['Alpha', 'Bravo', 'Charlie']) await fed.start(name)
  await waitFor('mesh', () => fed.node('Alpha').network!.peers().length >= 2, 15_000)
  await waitFor('C connected', () => fed.node('Charlie').network!.peers().length >= 2, 15_000)
  const value = randomPdqHex()
  const started = Date.now()
  await fed.node('Alpha').node.contribute({ signals: [{ type: 'pdq', value, quality: 100 }], labels: ['behavior:recruitment'] })
  const matches = await waitFor('match on C', async () => {
    const m = await matchOn('Charlie', value)
    return m.length > 0 ? m : undefined
  }, 5_000, 10)
  // A bound, not the figure: propagation is measured by scripts/bench-sync.ts. This failed at 1 s once on a
  // loaded CI machine (1,299 ms at load 14).
  const elapsed = Date.now() - started
  assert.ok(elapsed < 3000, `took ${elapsed} ms`)
  assert.equal(matches[0]!.records[0]!.member.name, 'Alpha')
  assert.equal(matches[0]!.records[0]!.signatureVerified, true)
  assert.deepEqual(matches[0]!.records[0]!.labels, ['behavior:recruitment'])
})

test('a node stopped for a while catches up after restart, including an offline member\'s records', async () => {
  await fed.stop('Charlie')
  const more = [randomPdqHex(), randomPdqHex()]
  await fed.node('Alpha').node.contribute({ signals: more.map((value) => ({ type: 'pdq', value, quality: 90 })) })
  await fed.node('Bravo').node.contribute({ signals: [{ type: 'md5', value: 'aa'.repeat(16) }] })
  const alphaHead = fed.node('Alpha').node.head(fed.node('Alpha').node.memberKey)!
  await waitFor('B has A\'s records', () => fed.node('Bravo').node.head(fed.node('Alpha').node.memberKey)?.seq === alphaHead.seq)
  await fed.stop('Alpha') // A is offline: C must get A's records from B
  const charlie = await fed.start('Charlie')
  await waitFor('C caught up on A via B', () => charlie.node.head(fed.members[0]!.identity.memberKey)?.seq === alphaHead.seq, 15_000)
  assert.ok((await matchOn('Charlie', more[1]!)).some((m) => m.value === more[1] && m.distance === 0))
  const bravoKey = fed.members[1]!.identity.memberKey
  await waitFor('C has B\'s record', () => charlie.node.head(bravoKey)?.seq === fed.node('Bravo').node.head(bravoKey)?.seq)
})

test('revocation on A removes the match on C', async () => {
  const alpha = await fed.start('Alpha')
  const value = randomPdqHex()
  const { records } = await alpha.node.contribute({ signals: [{ type: 'pdq', value, quality: 95 }] })
  await waitFor('C sees it', async () => (await matchOn('Charlie', value)).length === 1, 15_000)
  await alpha.node.revoke(records[0]!.id, { reason: 'false_positive' })
  await waitFor('match gone on C', async () => (await matchOn('Charlie', value)).length === 0, 15_000)
})

import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { testFederation, waitFor } from '../helpers/federation.js'
import { randomPdqHex } from '../helpers/records.js'

const names = ['Alpha', 'Bravo', 'Charlie', 'Delta']
const fed = await testFederation(names)
after(() => fed.close())
const addr = (name: string) => fed.members.find((m) => m.name === name)!.multiaddr
const headsOf = (name: string) => JSON.stringify(fed.node(name).node.feedHeads().sort((a, b) => a.feed.localeCompare(b.feed)))

test('a partition (two groups disconnected) heals to identical heads on all nodes', async () => {
  // {Alpha, Bravo} and {Charlie, Delta} only know each other
  await fed.start('Alpha', { p2p: { bootstrap: [addr('Bravo')] } })
  await fed.start('Bravo', { p2p: { bootstrap: [addr('Alpha')] } })
  await fed.start('Charlie', { p2p: { bootstrap: [addr('Delta')] } })
  await fed.start('Delta', { p2p: { bootstrap: [addr('Charlie')] } })
  await waitFor('groups formed', () => fed.node('Alpha').network!.peers().length === 1 && fed.node('Charlie').network!.peers().length === 1, 15_000)

  for (const name of names) {
    await fed.node(name).node.contribute({ signals: Array.from({ length: 3 }, () => ({ type: 'pdq', value: randomPdqHex(), quality: 80 })) })
    await fed.node(name).node.contribute({ signals: [{ type: 'sha256', value: randomPdqHex() }] })
  }
  await waitFor('each group converged', () => headsOf('Alpha') === headsOf('Bravo') && headsOf('Charlie') === headsOf('Delta'), 15_000)
  assert.equal(fed.node('Alpha').node.feedHeads().length, 2)
  assert.notEqual(headsOf('Alpha'), headsOf('Charlie'))

  await fed.node('Bravo').network!.dial(addr('Delta'))
  await waitFor('all identical', () => names.every((n) => headsOf(n) === headsOf('Alpha')), 20_000)
  assert.equal(fed.node('Charlie').node.feedHeads().length, 4)
  for (const name of names) assert.equal(fed.node(name).node.counts().records, 8)
})

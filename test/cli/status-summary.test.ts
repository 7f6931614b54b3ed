/** `hashmesh status` as lines a person reads: feeds under the replica line, peers by member name. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { statusSummary } from '../../src/cli/commands/read.js'
import type { StatusView } from '../../src/node/contract.js'

const ALPHA_PEER = '12D3KooWEReJLTSmdy525xuPKrqeWfTErLsHt1g8b63xQnPkBWyR'
const STRANGER_PEER = '12D3KooWAdgKm16AQMquy6pmQxxPgRhhukRZVnCHvFMm1gn9YsPa'

const status = {
  member: { name: 'Bravo', key: 'b'.repeat(64) },
  peerId: '12D3KooWF7zGZhvGMJtUtqSACgNEdcYpHinrfJpRzg4xpj5Ry1hx',
  roster: { federation: 'walk', serial: 2, members: 2, id: 'c'.repeat(64) },
  records: 4, recordsByKind: { signals: 3, revoke: 1 }, signals: 9, feeds: 2, pending: 0,
  index: { ready: true, pdqHashes: 3, memoryBytes: 1024 },
  heads: [
    { feed: 'a'.repeat(64), seq: 4, member: 'Alpha', equivocating: false },
    { feed: 'd'.repeat(64), seq: 1, equivocating: false },
  ],
  network: {
    peers: 2,
    peerList: [{ peerId: ALPHA_PEER, direction: 'inbound' }, { peerId: STRANGER_PEER, direction: 'outbound' }],
    sync: { sessionsSucceeded: 3, sessionsFailed: 0 },
    addresses: [],
  },
  replicaDigest: 'e'.repeat(64),
} as unknown as StatusView

test('feed lines follow the replica line, not the forked line', () => {
  const lines = statusSummary(status, 'remote')
  const replica = lines.findIndex((l) => l.startsWith('replica'))
  assert.match(lines[replica + 1]!, /^ {2}feed {6}Alpha a{16}… seq 4$/)
  assert.match(lines[replica + 2]!, /^ {2}feed {6}\(not in roster\) d{16}… seq 1$/)
  const forked = lines.findIndex((l) => l.startsWith('forked'))
  assert.ok(!lines[forked + 1]!.startsWith('  feed'), 'no feed line under "forked"')
})

test('peers are named after their members when the roster knows them', () => {
  const lines = statusSummary(status, 'remote', new Map([[ALPHA_PEER, 'Alpha']]))
  assert.equal(lines.find((l) => l.startsWith('peers')), 'peers       2 connected: Alpha (inbound), 1gn9YsPa (outbound)')
})

/** Bans outlive a restart (issue 12, item 3): the network's BanStore, the file behind it, and real nodes. */
import '../../src/shim.js'
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { banFile, BANS_FILE } from '../../src/node/ban-file.js'
import { isHashmeshError } from '../../src/errors.js'
import { BAN_DURATION_MS, type BanEntry, type BanStore } from '../../src/net/index.js'
import { feedKey, makeBadRecord, makeRecord } from './fake-replica.js'
import { newKey, startNode, stopAll, waitFor, type TestNode } from './helpers.js'

const nodes: TestNode[] = []
after(() => stopAll(nodes))
const tempDir = (): string => mkdtempSync(join(tmpdir(), 'hashmesh-bans-'))

test('the ban file round-trips, is private, and is replaced whole', async () => {
  const dir = tempDir()
  const store = banFile(dir)
  assert.deepEqual(store.load(), [], 'no file yet: no bans')
  const { peerId } = await newKey()
  const bans: BanEntry[] = [{ peerId, until: Date.now() + 60_000, reason: 'gossip: invalid record' }]
  store.save(bans)
  assert.deepEqual(store.load(), bans)
  assert.equal(statSync(join(dir, BANS_FILE)).mode & 0o777, 0o600)
  store.save([])
  assert.deepEqual(store.load(), [])
  assert.deepEqual(readdirSync(dir), [BANS_FILE], 'no temp file left behind')
})

test('a damaged ban file is refused with CONFIG_INVALID; malformed entries are skipped', async () => {
  const dir = tempDir()
  const path = join(dir, BANS_FILE)
  writeFileSync(path, '{"version": 1, "bans": [')
  assert.throws(() => banFile(dir).load(), (err) => isHashmeshError(err, 'CONFIG_INVALID'))
  writeFileSync(path, JSON.stringify({ version: 2, bans: [] }))
  assert.throws(() => banFile(dir).load(), (err) => isHashmeshError(err, 'CONFIG_INVALID'))
  const { peerId } = await newKey()
  const good = { peerId, until: Date.now() + 60_000, reason: 'x' }
  writeFileSync(path, JSON.stringify({ version: 1, bans: [good, { peerId: 'not a peer id', until: 1, reason: '' }, { peerId, until: 'soon' }, null] }))
  assert.deepEqual(banFile(dir).load(), [good])
})

test('a peer banned before a restart is still refused after it, in both directions', { timeout: 30_000 }, async () => {
  const dir = tempDir()
  const rogue = await startNode()
  rogue.replica.trustEverything = true
  const feed = feedKey('poisoned')
  rogue.replica.appendRaw(feed, makeRecord(feed, 1, 'fine'))
  for (let seq = 2; seq <= 40; seq++) rogue.replica.appendRaw(feed, makeBadRecord(feed, seq, `bad ${seq}`))
  nodes.push(rogue)

  const honestKey = await newKey()
  const first = await startNode({ peerPrivateKey: honestKey.key, bans: banFile(dir) })
  await first.net.dial(rogue.addr)
  await first.net.syncNow(rogue.peerId)
  assert.ok(first.net.metrics().hygiene.bannedUntil[rogue.peerId]! > Date.now(), 'banned for serving invalid records')
  const saved = JSON.parse(readFileSync(join(dir, BANS_FILE), 'utf8'))
  assert.equal(saved.bans[0].peerId, rogue.peerId)
  assert.ok(saved.bans[0].until > Date.now() + BAN_DURATION_MS - 60_000)
  assert.match(saved.bans[0].reason, /\w/)
  await first.net.stop()
  await waitFor('the rogue sees the old node gone', () => rogue.net.peers().length === 0)

  // the same node restarts with the same data directory
  const logs: string[] = []
  const again = await startNode({ peerPrivateKey: honestKey.key, bans: banFile(dir), logger: (event) => logs.push(event) })
  nodes.push(again)
  assert.ok(logs.includes('bans.restored'))
  assert.equal(again.net.metrics().hygiene.bannedUntil[rogue.peerId], saved.bans[0].until)
  await assert.rejects(again.net.dial(rogue.addr), (err) => isHashmeshError(err, 'PEER_BANNED'))
  await rogue.net.dial(again.addr).catch(() => undefined)
  await waitFor('the inbound attempt refused as banned', () => again.net.metrics().connectionsRefusedByReason.banned >= 1)
  await waitFor('the rogue is dropped', () => again.net.peers().length === 0)
})

test('a ban store that fails is logged and never stops the network', async () => {
  const logs: string[] = []
  const broken: BanStore = {
    load: () => { throw new Error('disk on fire') },
    save: () => { throw new Error('disk on fire') },
  }
  const node = await startNode({ bans: broken, logger: (event) => logs.push(event) })
  nodes.push(node)
  assert.ok(logs.includes('bans.load.failed'))
  assert.deepEqual(node.net.metrics().hygiene.bannedUntil, {})
})

/**
 * The pre-authentication lock-out (issue 12, item 2): an outsider holds stalled TCP sockets that sent the
 * multistream header and nothing more; a roster member must still connect and sync. Real libp2p nodes on
 * 127.0.0.1; the attacker binds its sockets to 127.0.0.2..127.0.0.6 (loopback is a /8 on Linux).
 */
import '../../src/shim.js'
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { INBOUND_UPGRADE_TIMEOUT_MS, PENDING_PER_ADDRESS } from '../../src/net/index.js'
import { startNode, stopAll, waitFor, type TestNode } from './helpers.js'
import { holdStalledSockets, type StalledAttacker } from './stalled-attacker.js'

const nodes: TestNode[] = []
const attackers: StalledAttacker[] = []
after(async () => {
  for (const a of attackers) a.stop()
  await stopAll(nodes)
})

const RECORDS = 50
/** Long enough for the attacker to fill whatever it can before the member dials. */
const ATTACK_SETTLE_MS = 2_000

const portOf = (addr: string): number => Number(/\/tcp\/(\d+)/.exec(addr)![1])

async function victimAndMember(): Promise<{ victim: TestNode; member: TestNode }> {
  const member = await startNode()
  const victim = await startNode({ isAllowedPeer: (id) => id === member.peerId })
  nodes.push(member, victim)
  for (let i = 0; i < RECORDS; i++) member.replica.append('member', `signal ${i}`)
  return { victim, member }
}

/** The most inbound handshakes the victim held at once while the attack ran (sampled every 50 ms). */
function samplePending(victim: TestNode): { peak(): number; stop(): void } {
  let peak = 0
  const timer = setInterval(() => (peak = Math.max(peak, victim.net.metrics().inbound.pending)), 50)
  return { peak: () => peak, stop: () => clearInterval(timer) }
}

/** The member dials the victim and the victim syncs its records; returns the two durations. */
async function memberConnectsAndSyncs(victim: TestNode, member: TestNode): Promise<{ dialMs: number; syncMs: number }> {
  const started = performance.now()
  await member.net.dial(victim.addr)
  const dialMs = performance.now() - started
  await waitFor('the victim synced the member', () => victim.replica.count('member') === RECORDS, 15_000)
  return { dialMs: Math.round(dialMs), syncMs: Math.round(performance.now() - started) }
}

test('a member connects and syncs while an outsider keeps 200 stalled sockets open from one address', { timeout: 60_000 }, async (t) => {
  const { victim, member } = await victimAndMember()
  const attacker = holdStalledSockets(portOf(victim.addr), ['127.0.0.2'], 200)
  attackers.push(attacker)
  const pending = samplePending(victim)
  await new Promise((r) => setTimeout(r, ATTACK_SETTLE_MS))
  const during = attacker.stats()
  const timing = await memberConnectsAndSyncs(victim, member)
  const m = victim.net.metrics()
  pending.stop()
  t.diagnostic(`attacker sockets open when the member dialled (its view, TCP): ${during.open} ${JSON.stringify(during.openBySource)}; connections made so far ${during.opened}`)
  t.diagnostic(`victim: at most ${pending.peak()} handshakes in progress at once; member dial ${timing.dialMs} ms, dial+sync ${timing.syncMs} ms`)
  t.diagnostic(`victim: ${JSON.stringify(m.inbound)} refused ${JSON.stringify(m.connectionsRefusedByReason)}`)
  assert.ok(during.opened > 200, 'the attacker kept re-opening')
  assert.ok(pending.peak() <= PENDING_PER_ADDRESS + 1, 'the outsider holds at most its per-address share (+ the member)')
  assert.ok(m.connectionsRefusedByReason.ipLimit + m.connectionsRefusedByReason.rateLimit > 0)
  // the stalled sockets the node did admit are closed by the handshake timeout, and counted
  await waitFor('handshake timeouts counted', () => victim.net.metrics().connectionsRefusedByReason.handshakeTimeout >= PENDING_PER_ADDRESS, INBOUND_UPGRADE_TIMEOUT_MS + 5_000)
  attacker.stop()
  t.diagnostic(`victim after ${INBOUND_UPGRADE_TIMEOUT_MS} ms: refused ${JSON.stringify(victim.net.metrics().connectionsRefusedByReason)}`)
  assert.equal(victim.net.metrics().connectionsRefusedByReason.notInRoster, 0)
})

test('a member connects and syncs while an outsider holds 100 stalled sockets from five addresses', { timeout: 60_000 }, async (t) => {
  const { victim, member } = await victimAndMember()
  const sources = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6']
  const attacker = holdStalledSockets(portOf(victim.addr), sources, 100)
  attackers.push(attacker)
  const pending = samplePending(victim)
  await new Promise((r) => setTimeout(r, ATTACK_SETTLE_MS))
  const during = attacker.stats()
  const timing = await memberConnectsAndSyncs(victim, member)
  const m = victim.net.metrics()
  pending.stop()
  t.diagnostic(`attacker sockets open when the member dialled (its view, TCP): ${during.open} ${JSON.stringify(during.openBySource)}; connections made so far ${during.opened}`)
  t.diagnostic(`victim: at most ${pending.peak()} handshakes in progress at once; member dial ${timing.dialMs} ms, dial+sync ${timing.syncMs} ms`)
  t.diagnostic(`victim: ${JSON.stringify(m.inbound)} refused ${JSON.stringify(m.connectionsRefusedByReason)}`)
  attacker.stop()
  assert.ok(during.opened > 100, 'the attacker kept re-opening')
  assert.equal(Object.keys(during.openBySource).length, sources.length)
  assert.ok(m.inbound.pendingAddresses <= sources.length + 1)
  assert.ok(pending.peak() <= sources.length * PENDING_PER_ADDRESS + 1)
})

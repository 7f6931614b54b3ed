/**
 * Scenario e: the stalled-socket attack of issue 12 (no lock-out before authentication).
 *
 * An outsider opens TCP connections to a member node's p2p port, sends the multistream-select header
 * (the varint-prefixed line "/multistream/1.0.0\n") and then nothing; whenever the node drops one, it is
 * opened again (after 50 ms). While the sockets are held, another roster member starts (a fresh
 * process whose bootstrap list names the target; the target's own bootstrap list is empty and it has
 * never seen the member, so the member's inbound dial is the only way in) and must connect and sync a
 * record the target contributed meanwhile. The target runs throughout; each phase has its own member,
 * started for that phase only. Phases:
 *   control      no attack (checks the set-up itself)
 *   one address  100 stalled sockets from 127.0.0.2 (the member dials from 127.0.0.1)
 *   5 addresses  100 stalled sockets from 127.0.0.2 .. 127.0.0.6 (20 each)
 */
import { connect, type Socket } from 'node:net'
import { Cluster } from './cluster.js'
import { api, pollUntil, sleep, type Scenario, type ScenarioContext, type ScenarioResult } from './common.js'

const MULTISTREAM_HEADER = Buffer.concat([Buffer.from([19]), Buffer.from('/multistream/1.0.0\n')])

/** Holds `count` stalled sockets to 127.0.0.1:port, spread over `from` source addresses, re-opening dropped ones. */
export class StalledSockets {
  private readonly sockets = new Set<Socket>()
  private running = true
  opened = 0
  dropped = 0

  constructor(private readonly port: number, from: string[], count: number) {
    for (let i = 0; i < count; i++) this.open(from[i % from.length]!)
  }

  private open(localAddress: string): void {
    if (!this.running) return
    const socket = connect({ host: '127.0.0.1', port: this.port, localAddress })
    this.sockets.add(socket)
    this.opened++
    socket.setNoDelay(true)
    socket.on('connect', () => socket.write(MULTISTREAM_HEADER))
    socket.on('data', () => undefined) // read and ignore whatever the node says; never answer
    socket.on('error', () => undefined)
    socket.on('close', () => {
      this.sockets.delete(socket)
      if (!this.running) return
      this.dropped++
      setTimeout(() => this.open(localAddress), 10).unref()
    })
  }

  /** Sockets currently connected. */
  held(): number {
    let n = 0
    for (const s of this.sockets) if (!s.connecting && !s.destroyed) n++
    return n
  }

  stop(): void {
    this.running = false
    for (const s of this.sockets) s.destroy()
    this.sockets.clear()
  }
}

interface Phase { name: string; member: string; from: string[]; sockets: number }

export async function stalledSockets(ctx: ScenarioContext, o: { sockets: number; memberWaitMs: number; control: boolean }): Promise<Omit<ScenarioResult, 'id' | 'name' | 'seconds'>> {
  const notes: string[] = []
  const phases: Phase[] = [
    ...(o.control ? [{ name: 'control', member: 'Member0', from: [], sockets: 0 }] : []),
    { name: `${o.sockets} sockets from 1 address`, member: 'Member1', from: ['127.0.0.2'], sockets: o.sockets },
    { name: `${o.sockets} sockets from 5 addresses`, member: 'Member2', from: ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6'], sockets: o.sockets },
  ]
  // One member per phase, each started only for its phase: the target has never seen it, so it cannot
  // dial it; the member's inbound dial is the only way in.
  const cluster = await Cluster.create(ctx, { names: ['Target', ...phases.map((p) => p.member)], syncIntervalMs: 2000 })
  cluster.setBootstrap('Target', [])
  for (const p of phases) cluster.setBootstrap(p.member, ['Target'])
  const port = cluster.member('Target').p2pPort
  const feed = cluster.memberKeyOf('Target')
  const outcomes: Array<{ phase: string; synced: boolean; ms?: number; held: number; opened: number; dropped: number; targetPeers: number; bans: number }> = []
  let bans = 0
  if (!(await cluster.start('Target'))) {
    return { runs: '0 phases', lost: null, crashes: cluster.crashes.length, forks: 'n/a', honestBanned: null, ok: false, notes: ['Target failed to start', ...cluster.crashes.map((c) => `${c.name} ${c.what}`)], details: {} }
  }
  for (const phase of phases) {
    const attack = phase.sockets > 0 ? new StalledSockets(port, phase.from, phase.sockets) : undefined
    ctx.onCleanup(() => attack?.stop())
    if (attack) {
      await pollUntil(ctx, Date.now() + 5_000, 100, () => attack.held() >= phase.sockets)
      await sleep(1_000, ctx.signal)
    }
    const { records } = await api<{ records: Array<{ id: string; seq: number }> }>(cluster.target('Target'), 'POST', '/v1/contributions', { signals: [{ type: 'pdq', value: randomHex(), quality: 90 }], labels: ['behavior:glorification'] })
    const want = records[0]!
    let synced = false
    let ms = 0
    let held = attack?.held() ?? 0
    if (await cluster.start(phase.member)) {
      // from the moment the member's process is up (its start-up is not the target's fault)
      const started = Date.now()
      held = attack?.held() ?? 0
      synced = !!(await pollUntil(ctx, started + o.memberWaitMs, 200, async () => (await cluster.head(phase.member, feed)).id === want.id))
      ms = Date.now() - started
    } else {
      notes.push(`${phase.name}: ${phase.member} failed to start`)
    }
    const targetStatus = await cluster.status('Target').catch(() => undefined)
    const memberPeers = new Set(phases.map((p) => cluster.peerIdOf(p.member)))
    const phaseBans = Object.keys(targetStatus?.network?.metrics.hygiene.bannedUntil ?? {}).filter((p) => memberPeers.has(p)).length
    bans = Math.max(bans, phaseBans)
    outcomes.push({ phase: phase.name, synced, ms: synced ? ms : undefined, held, opened: attack?.opened ?? 0, dropped: attack?.dropped ?? 0, targetPeers: targetStatus?.network?.peers ?? 0, bans: phaseBans })
    ctx.log(`${phase.name}: ${phase.member} ${synced ? `connected and synced ${ms} ms after its start` : `did NOT sync within ${o.memberWaitMs} ms of its start`}; ${held} stalled sockets held, ${attack?.dropped ?? 0} dropped and re-opened`)
    if (!synced) notes.push(phase.name === 'control' ? 'control: the member did not sync without any attack (set-up broken)' : `${phase.name}: the member did not connect and sync within ${Math.round(o.memberWaitMs / 1000)} s (${held} sockets held)`)
    attack?.stop()
    await cluster.stop(phase.member)
  }
  for (const c of cluster.crashes) notes.push(`${c.name} ${c.what}`)
  const passed = outcomes.filter((x) => x.synced).length
  return {
    runs: `${outcomes.length} phases`,
    lost: null,
    crashes: cluster.crashes.length,
    forks: 'n/a',
    honestBanned: bans,
    ok: outcomes.length === phases.length && passed === phases.length && cluster.crashes.length === 0 && bans === 0,
    notes,
    details: { phases: outcomes },
  }
}

function randomHex(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex')
}

export const scenarioE: Scenario = {
  id: 'e',
  name: 'stalled-socket attack',
  deadlineMs: { full: 5 * 60_000, quick: 180_000 },
  run: (ctx) => stalledSockets(ctx, {
    sockets: ctx.params.sockets ?? 100,
    memberWaitMs: ctx.params.memberWaitMs ?? (ctx.quick ? 15_000 : 30_000),
    control: (ctx.params.control ?? 1) !== 0,
  }),
}

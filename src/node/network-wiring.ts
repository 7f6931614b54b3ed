/**
 * The network side of the composition root: what replication may see of the replica (ReplicaAccess),
 * the libp2p network built from the node's config and roster, and the events that tie them together
 * (own records and roster versions are gossiped, equivocation proofs are gossiped, the roster is
 * re-enforced on every change). A gossiped record walks net -> here (replicaAccess.receive) -> node's
 * receive -> store -> match, with no stop in api/.
 */
import { readFileSync } from 'node:fs'
import type { Network, NetMetrics } from '../net/index.js'
import { recordIdOf } from '../record/codec.js'
import type { ReplicaStore } from '../store/replica-store.js'
import { encodeProofExtra, encodeRosterExtra } from '../sync/extras-wire.js'
import type { ReceiveResult, ReplicaAccess } from '../sync/types.js'
import type { VerifiedRecord } from '../record/types.js'
import type { Config } from '../config.js'
import type { Identity } from './identity.js'
import type { NodeLog } from './log.js'
import type { RosterState } from './roster-state.js'
import type { IncidentWiring } from './incident-wiring.js'

/** How long connections a new roster version no longer allows stay open after it is gossiped. */
const ROSTER_ENFORCE_GRACE_MS = 3_000

/** What the network wiring needs from the node; the node passes its private parts in. */
export interface WiringParts {
  identity: Identity
  config: Config
  store: ReplicaStore
  roster: RosterState
  receive(records: Uint8Array[]): Promise<ReceiveResult[]>
  extras(): Promise<Uint8Array[]>
  receiveExtra(bytes: Uint8Array): Promise<ReceiveResult>
  onOwnRecords(listener: (records: VerifiedRecord[]) => void): void
  onRosterChange(listener: (roster: Uint8Array) => void): void
  /** The incidents fast path (incident-wiring.ts). */
  incidents?: IncidentWiring
}

export function replicaAccess(parts: WiringParts): ReplicaAccess {
  const { store } = parts
  return {
    heads: async () => store.feedHeads(),
    readRange: (feed, fromSeq, limit) => store.readRange(feed, fromSeq, limit),
    receive: (records) => parts.receive(records),
    extras: () => parts.extras(),
    receiveExtra: (bytes) => parts.receiveExtra(bytes),
    idAt: (feed, seq) => store.idAtSeq(feed, seq),
    idOf: (bytes) => recordIdOf(bytes),
    forks: async () => store.forks(),
  }
}

/** Net events that an operator needs at the default level; the rest are debug lines. */
function levelOf(event: string): 'warn' | 'info' | 'debug' {
  if (event.includes('fail') || event.includes('banned')) return 'warn'
  if (event.startsWith('peer.refused') || event.startsWith('feed.fork') || event === 'bans.restored' || event === 'peer.disconnect.roster' || event === 'catchup.started') return 'info'
  return 'debug'
}

/** A readable sentence for the info lines (`msg`), next to the event's fields. */
function sentenceOf(event: string, fields: Record<string, unknown>, who: (peer: unknown) => string): string | undefined {
  switch (event) {
    case 'peer.refused':
      return `refused ${fields.direction} connection ${fields.peer ? `${fields.direction === 'outbound' ? 'to' : 'from'} ${who(fields.peer)}` : `from ${String(fields.address)}`}: ${fields.removed ? 'this node is not in the current roster' : String(fields.reason)}${Number(fields.unsaidSinceLast) > 0 ? ` (and ${String(fields.unsaidSinceLast)} more since the last line)` : ''}`
    case 'peer.disconnect.roster':
      return fields.removed ? `disconnected ${who(fields.peer)}: this node is not in the current roster` : `disconnected ${who(fields.peer)}: not in the current roster`
    case 'peer.banned':
      return `banned ${who(fields.peer)} until ${new Date(Number(fields.until)).toISOString()}: ${String(fields.reason)}`
    case 'catchup.started':
      return `catch-up from ${who(fields.peer)}: ${String(fields.missing)} records missing in ${String(fields.feeds)} feeds`
    case 'sync.session.failed': {
      const error = fields.error as { code?: string; message?: string } | undefined
      return `sync with ${who(fields.peerId)} failed${Number(fields.failures) > 1 ? ` ${String(fields.failures)} times in the last ${Math.round(Number(fields.sinceMs) / 1000)} s` : ''}: ${error?.code ?? 'ERROR'} ${error?.message ?? ''}`.trim()
    }
    default:
      return undefined
  }
}

/** Whether the installed roster lists this node: our member key, with our peer id among its peers. */
function listsUs(parts: WiringParts): boolean {
  const current = parts.roster.current
  return current?.document.members.some((m) => m.key === parts.identity.memberKey && m.peers.includes(parts.identity.peerId)) ?? false
}

/** Starts the network when a roster is installed (undefined, with a warning, when none is). */
export async function startNetwork(parts: WiringParts, log: NodeLog, traceRecords: boolean): Promise<Network | undefined> {
  const { config, identity, store, roster } = parts
  const current = roster.current
  if (!current) {
    log('warn', 'p2p.disabled', { reason: 'no roster installed: run "hashmesh roster install FILE"' })
    return undefined
  }
  const { p2p } = config
  // names of every member node seen in a roster version since start: a member just removed is still
  // named in the lines that disconnect and refuse it
  const formerNames = new Map<string, string>()
  const rememberNames = (): void => {
    for (const m of roster.current?.document.members ?? []) for (const p of m.peers) formerNames.set(p, m.name)
  }
  rememberNames()
  /** "Name (12D3…abcd)" for a peer id, or the id alone when no roster since start knew it. */
  const who = (peer: unknown): string => {
    const id = String(peer)
    const key = roster.memberOfPeer(id)
    const name = key ? roster.memberName(key) : formerNames.get(id)
    return name ? `${name} (${id.slice(0, 8)}…${id.slice(-4)})` : id
  }
  const netLog = (event: string, fields: Record<string, unknown>): void => {
    const level = levelOf(event)
    // a removed node refuses every peer itself (below): its lines say that it is the one not listed
    if (!inRoster && (event === 'peer.refused' || event === 'peer.disconnect.roster')) fields = { ...fields, removed: true }
    const msg = level === 'debug' ? undefined : sentenceOf(event, fields, who)
    log(level, event, msg ? { msg, ...fields } : fields)
  }
  // Removed from the roster: say so once, plainly, and stop dialling and syncing (members refuse us
  // anyway) until a roster that lists us again is installed.
  let inRoster = listsUs(parts)
  const sayRemoved = (): void => {
    const serial = roster.current?.document.serial
    log('warn', 'roster.removed', {
      msg: `this node is not in the current roster (serial ${serial}): members refuse its connections, so it stops dialling and syncing. To rejoin, send your member card (hashmesh init prints it) to a member, who proposes a roster adding you ("hashmesh roster propose --add CARD"); once a majority signed it, install it here with "hashmesh roster install FILE --data DIR"`,
      serial,
      memberKey: identity.memberKey,
      peerId: identity.peerId,
    })
  }
  // libp2p is loaded here, when a node starts its network: the commands that only open the data directory
  // (import, export, bank, verify, …) started ~1 s sooner without it.
  const [{ createNetwork }, { banFile }] = await Promise.all([import('../net/index.js'), import('./ban-file.js')])
  const network = await createNetwork({
    peerPrivateKey: identity.peerKey,
    listen: p2p.listen,
    announce: p2p.announce,
    bootstrap: p2p.bootstrap,
    allowPrivateAddresses: p2p.allowPrivateAddresses,
    psk: p2p.pskFile ? new Uint8Array(readFileSync(p2p.pskFile)) : undefined,
    federationId: current.document.federation,
    // Removed: the members refuse us after each handshake, and libp2p's reconnects (peers it keeps alive)
    // then looped, ~10 connections a second. A removed node refuses every peer, both ways, until a roster
    // that lists it again is installed here (doc: "Removed from the roster").
    isAllowedPeer: (peerId) => inRoster && roster.isAllowedPeer(peerId),
    rosterPeers: () => roster.allowedPeers(),
    replica: replicaAccess(parts),
    syncIntervalMs: p2p.syncIntervalMs,
    meshDegree: p2p.meshDegree,
    bans: banFile(identity.dataDir),
    logger: netLog,
    dormant: () => !inRoster,
    priority: parts.incidents?.access,
  })
  if (!inRoster) sayRemoved()
  // One line per stored record at trace level: when it arrived here (benchmarks measure propagation with
  // it). Only when trace lines are kept: this runs for every record a catch-up stores.
  if (traceRecords) {
    store.onCommit((records) => {
      for (const r of records) log('trace', 'record.stored', { feed: r.author, seq: r.seq })
    })
  }
  const published = (what: string) => (err: Error) => log('warn', 'gossip.publish.failed', { what, message: err.message })
  parts.onOwnRecords((records) => {
    for (const { bytes } of records) void network.publish(bytes).catch(published('record'))
    for (const envelope of parts.incidents?.priorityOf(records) ?? []) void network.publishPriority?.(envelope)
    logSigned(log, records)
  })
  network.on('peer:connect', ({ peerId }) => log('info', 'peer.connected', { msg: `connected to ${who(peerId)}`, peer: peerId }))
  network.on('peer:disconnect', ({ peerId }) => log('info', 'peer.disconnected', { msg: `disconnected from ${who(peerId)}`, peer: peerId }))
  network.on('synced', (report) => {
    if (report.records.accepted === 0 && report.extras.accepted === 0) return
    log('info', 'catchup.finished', {
      msg: `caught up from ${who(report.peerId)}: ${report.records.accepted} records${report.extras.accepted ? `, ${report.extras.accepted} roster versions or proofs` : ''} in ${report.durationMs} ms${report.ok ? '' : ` (then failed: ${report.error?.code})`}`,
      peer: report.peerId,
      records: report.records.accepted,
      extras: report.extras.accepted,
      durationMs: report.durationMs,
      ok: report.ok,
    })
  })
  parts.incidents?.onNotice((envelope) => void network.publishPriority?.(envelope))
  parts.onRosterChange((rosterBytes) => {
    rememberNames()
    const current = roster.current
    if (current) {
      const { serial, members } = current.document
      log('info', 'roster.installed', { msg: `roster version ${serial} installed: ${members.length} members (${members.map((m) => m.name).join(', ')})`, serial, id: current.id, members: members.map((m) => m.name) })
    }
    const wasIn = inRoster
    inRoster = listsUs(parts)
    if (wasIn && !inRoster) sayRemoved()
    if (!wasIn && inRoster) log('info', 'roster.rejoined', { msg: `this node is in the current roster again (serial ${current?.document.serial}): dialling and syncing resume`, serial: current?.document.serial })
    // Gossip the version first and close connections it no longer allows a moment later: a member it
    // removes then hears of it over the connection still open and stops by itself (new connections are
    // refused at once). Cut off at once, a removed node never learnt it and kept redialling.
    const enforce = (): void => void network.enforceRoster().catch((err: Error) => log('warn', 'roster.enforce.failed', { message: err.message }))
    void network.publishExtra(encodeRosterExtra(rosterBytes)).catch(published('roster')).finally(() => {
      if (!inRoster) return enforce() // this node was removed: nothing to tell its former peers
      setTimeout(enforce, ROSTER_ENFORCE_GRACE_MS).unref()
    })
  })
  store.onEquivocation((proof) => {
    log('warn', 'feed.equivocation', { msg: `equivocation: ${roster.memberName(proof.feed) ?? proof.feed} signed two different records at seq ${proof.seq}; its feed is frozen there`, feed: proof.feed, seq: proof.seq })
    void network.publishExtra(encodeProofExtra(proof)).catch(published('equivocation proof'))
  })
  await network.start()
  return network
}

/** One line per batch of our own new records: what was signed. */
function logSigned(log: NodeLog, records: VerifiedRecord[]): void {
  const byKind = new Map<string, number>()
  let signals = 0
  for (const { record } of records) {
    byKind.set(record.kind, (byKind.get(record.kind) ?? 0) + 1)
    if (record.kind === 'signals') signals += record.body.signals.length
  }
  // "signed 1 record with 3 signals", "signed 3 records (2 with 150 signals, 1 revoke)"
  const parts = [...byKind].map(([kind, n]) => (kind === 'signals' ? `${n} with ${signals} signals` : `${n} ${kind}`))
  const what = byKind.size === 1 && byKind.has('signals') ? ` with ${signals} signals` : ` (${parts.join(', ')})`
  const last = records.at(-1)?.record
  log('info', 'contribution.signed', { msg: `signed ${records.length} record${records.length === 1 ? '' : 's'}${what} up to seq ${last?.seq}`, records: records.length, signals, kinds: Object.fromEntries(byKind), seq: last?.seq })
}

/** What the API shows of the network: peers, sync state and flat counters for /metrics. */
export interface NetworkView {
  peerId: string
  addresses: string[]
  peers: number
  peerList: Array<{ peerId: string; direction: string; lastSyncAt: number | null; invalid: number }>
  sync: { sessionsStarted: number; sessionsSucceeded: number; sessionsFailed: number; recordsReceived: NetMetrics['sync']['records'] }
  metrics: NetMetrics
}

export function networkView(network: Network): NetworkView {
  const metrics = network.metrics()
  const peers = network.peers()
  return {
    peerId: network.peerId,
    addresses: network.multiaddrs(),
    peers: peers.length,
    peerList: peers.map((p) => ({ peerId: p.peerId, direction: p.direction, lastSyncAt: p.lastSyncAt ?? null, invalid: p.invalid })),
    sync: { sessionsStarted: metrics.sync.sessionsStarted, sessionsSucceeded: metrics.sync.sessionsSucceeded, sessionsFailed: metrics.sync.sessionsFailed, recordsReceived: metrics.sync.records },
    metrics,
  }
}

/** Network counters as flat `a_b_c` names (per-peer maps left out: they belong on /v1/peers). */
export function flatCounters(value: Record<string, unknown>, prefix = ''): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [key, v] of Object.entries(value)) {
    const name = prefix ? `${prefix}_${key}` : key
    if (typeof v === 'number') out[name] = v
    else if (v && typeof v === 'object' && !name.endsWith('ByPeer') && !name.endsWith('bannedUntil')) Object.assign(out, flatCounters(v as Record<string, unknown>, name))
  }
  return out
}

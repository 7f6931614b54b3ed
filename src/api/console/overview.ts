/**
 * The console's overview as one JSON document, built from the node's use cases (status, peers,
 * equivocations, activity): identity, federation, peers with latency and last sync, each member's feed
 * head here against what peers announced, catch-up, index, alerts, and chart series. Cheap on purpose:
 * the page asks for it every few seconds, so it reads counters and heads, never records.
 */
import type { ActivityView } from '../../node/activity.js'
import type { NodeService } from '../../node/service.js'

/** Minutes of per-minute chart data the overview carries; longer spans are asked for separately. */
export const OVERVIEW_MINUTES = 60

export interface ChartSeries {
  /** Unix seconds of each bucket's start. */
  t: number[]
  matchRequests: number[]
  matchHits: number[]
  delayMeanMs: Array<number | null>
  /** Records received per member (by name, or key prefix), one count per bucket. */
  received: Record<string, number[]>
}

export interface OverviewOptions {
  minutes?: number
  bucketMinutes?: number
  /** Records held in the flood quarantine, when the node has one. */
  quarantined?: () => Promise<number>
  /** Incidents declared and still open, when the node has incidents. */
  openIncidents?: () => Promise<Array<{ id: string; title: string; severity: string }>>
}

export async function buildOverview(service: NodeService, options: OverviewOptions = {}) {
  const { minutes = OVERVIEW_MINUTES, bucketMinutes = 1 } = options
  const [status, peers, equivocations, activity, quarantined, incidents] = await Promise.all([service.status(), service.peers(), service.equivocations(), service.activity(minutes), options.quarantined?.() ?? null, options.openIncidents?.() ?? null])
  const nameOfKey = new Map(status.heads.map((h) => [h.feed, h.member]))
  const roster = await service.roster()
  const current = roster.versions.at(-1)
  const memberOfPeer = new Map<string, string>()
  for (const m of current?.document.members ?? []) {
    nameOfKey.set(m.key, m.name)
    for (const p of m.peers) memberOfPeer.set(p, m.name)
  }
  const lastSync = new Map(activity.peers.map((p) => [p.peerId, p]))
  const network = status.network
  const metrics = network?.metrics
  const bannedUntil = metrics?.hygiene.bannedUntil ?? {}
  const now = Date.now()

  const members = (current?.document.members ?? []).map((m) => {
    const here = status.heads.find((h) => h.feed === m.key)
    const reported = activity.peers
      .map((p) => ({ peer: p.peerId, member: memberOfPeer.get(p.peerId) ?? null, seq: p.heads.find((h) => h.feed === m.key)?.seq ?? 0, at: p.at }))
      .filter((r) => r.seq > 0)
    const best = reported.reduce((n, r) => Math.max(n, r.seq), 0)
    const seq = here?.seq ?? 0
    return { name: m.name, key: m.key, own: m.key === status.member.key, here: seq, peersReport: reported, behind: Math.max(0, best - seq), equivocating: here?.equivocating ?? false }
  })

  return {
    generatedAt: now,
    identity: { name: status.member.name, key: status.member.key, peerId: status.peerId, addresses: network?.addresses ?? [] },
    federation: status.roster ? { id: status.roster.federation, rosterSerial: status.roster.serial, rosterId: status.roster.id, members: status.roster.members } : null,
    counts: { records: status.records, signals: status.signals, feeds: status.feeds, pending: status.pending, recordsByKind: status.recordsByKind },
    index: status.index,
    peers: peers.map((p) => ({
      peerId: p.peerId,
      member: memberOfPeer.get(p.peerId) ?? null,
      direction: p.direction,
      addresses: p.addresses,
      rttMs: p.rttMs ?? null,
      lastSyncAt: p.lastSyncAt ?? null,
      lastSyncOk: lastSync.get(p.peerId)?.ok ?? null,
      invalid: p.invalid,
    })),
    members,
    catchUp: {
      behind: members.reduce((n, m) => n + m.behind, 0),
      sessions: activity.peers.map((p) => ({ peerId: p.peerId, member: memberOfPeer.get(p.peerId) ?? null, at: p.at, ok: p.ok, missingAtStart: p.missingAtStart, accepted: p.accepted })),
    },
    alerts: {
      equivocations: equivocations.map((e) => ({ feed: e.feed, member: e.member, seq: e.seq, ids: e.ids })),
      bans: Object.entries(bannedUntil).filter(([, until]) => until > now).map(([peerId, until]) => ({ peerId, member: memberOfPeer.get(peerId) ?? null, until })),
      refusedConnections: metrics?.connectionsRefused ?? 0,
      refusedByReason: Object.fromEntries(Object.entries(metrics?.connectionsRefusedByReason ?? {}).filter(([, n]) => n > 0)),
      /** Other members' records held by the flood quarantine (null: the node has none). */
      quarantined,
      /** Open incidents (null: the node has none). */
      incidents,
    },
    sync: network?.sync ?? null,
    charts: chartSeries(activity, (key) => nameOfKey.get(key) ?? key.slice(0, 8), bucketMinutes),
  }
}

export function chartSeries(activity: ActivityView, nameOf: (key: string) => string, bucketMinutes = 1): ChartSeries {
  const size = Math.max(1, Math.floor(bucketMinutes))
  const out: ChartSeries = { t: [], matchRequests: [], matchHits: [], delayMeanMs: [], received: {} }
  const authors = new Set(activity.minutes.flatMap((m) => Object.keys(m.received)))
  for (const key of authors) out.received[nameOf(key)] = []
  for (let i = 0; i < activity.minutes.length; i += size) {
    const group = activity.minutes.slice(i, i + size)
    out.t.push(Math.floor(group[0]!.at / 1000))
    out.matchRequests.push(group.reduce((n, m) => n + m.matchRequests, 0))
    out.matchHits.push(group.reduce((n, m) => n + m.matchHits, 0))
    const delays = group.filter((m) => m.delayMeanMs !== null)
    out.delayMeanMs.push(delays.length > 0 ? Math.round(delays.reduce((n, m) => n + m.delayMeanMs!, 0) / delays.length) : null)
    for (const key of authors) out.received[nameOf(key)]!.push(group.reduce((n, m) => n + (m.received[key] ?? 0), 0))
  }
  return out
}

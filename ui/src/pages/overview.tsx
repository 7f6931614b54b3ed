/** Overview: who we are, the federation, peers, feeds here vs peers, catch-up, index, alerts, charts; refreshed every 5 s. */
import { useEffect, useMemo, useState } from 'preact/hooks'
import { api, ConsoleError, prefetched } from '../api.js'
import { TimeChart } from '../chart.js'
import { ago, bytes, count, short, when } from '../format.js'
import { Link } from '../router.js'

/** How often the page asks for a new overview (the node keeps no state per viewer): under 5 s with the answer's time. */
export const REFRESH_MS = 4000

interface Charts { t: number[]; matchRequests: number[]; matchHits: number[]; delayMeanMs: Array<number | null>; received: Record<string, number[]> }
interface Overview {
  generatedAt: number
  identity: { name: string; key: string; peerId: string; addresses: string[] }
  federation: { id: string; rosterSerial: number; rosterId: string; members: number } | null
  counts: { records: number; signals: number; feeds: number; pending: number }
  index: { ready: boolean; pdqHashes: number; memoryBytes: number }
  peers: Array<{ peerId: string; member: string | null; direction: string; rttMs: number | null; lastSyncAt: number | null; lastSyncOk: boolean | null; invalid: number }>
  members: Array<{ name: string; key: string; own: boolean; here: number; behind: number; equivocating: boolean; peersReport: Array<{ peer: string; member: string | null; seq: number }> }>
  catchUp: { behind: number; sessions: Array<{ peerId: string; member: string | null; at: number; ok: boolean; missingAtStart: number; accepted: number }> }
  alerts: { equivocations: Array<{ feed: string; member: string | null; seq: number }>; bans: Array<{ peerId: string; member: string | null; until: number }>; refusedConnections: number; refusedByReason: Record<string, number>; quarantined: null | number; incidents: null | Array<{ id: string; title: string; severity: string }> }
  charts: Charts
}

export function Overview() {
  const [data, setData] = useState<Overview>()
  const [error, setError] = useState<string>()
  const [span, setSpan] = useState<'1h' | '24h'>('1h')
  const [day, setDay] = useState<Charts>()
  useEffect(() => {
    let stopped = false
    let first = prefetched<Overview>('/overview')
    const load = () => (first ?? api.get<Overview>('/overview')).finally(() => { first = undefined }).then((o) => { if (!stopped) { setData(o); setError(undefined) } }, (e) => setError(e instanceof ConsoleError ? e.message : String(e)))
    void load()
    const timer = setInterval(load, REFRESH_MS)
    return () => { stopped = true; clearInterval(timer) }
  }, [])
  useEffect(() => {
    if (span === '24h') void api.get<Charts>('/activity?minutes=1440&bucket=15').then(setDay)
  }, [span, data?.generatedAt && Math.floor(data.generatedAt / 60_000)])
  const charts = span === '24h' && day ? day : data?.charts
  const series = useMemo(() => {
    if (!charts) return undefined
    const members = Object.keys(charts.received).sort()
    return {
      members,
      received: [charts.t, ...members.map((m) => charts.received[m]!)],
      matches: [charts.t, charts.matchRequests, charts.matchHits],
      delay: [charts.t, charts.delayMeanMs.map((v) => (v === null ? null : v / 1000))],
    }
  }, [charts])
  if (!data) return <p>{error ?? 'Loading the overview…'}</p>
  const { identity, federation, alerts } = data
  const alertCount = alerts.equivocations.length + alerts.bans.length + (alerts.refusedConnections > 0 ? 1 : 0) + (alerts.quarantined ? 1 : 0) + (alerts.incidents?.length ?? 0)
  return (
    <div class="overview" data-testid="overview">
      <h1>Overview</h1>
      {error && <p class="error">Last refresh failed: {error}</p>}
      <section class="cards">
        <div class="card"><h3>This node</h3><p class="big">{identity.name}</p><p class="mono" title={identity.key}>member {short(identity.key, 16)}</p><p class="mono" title={identity.peerId}>peer {short(identity.peerId, 16)}</p></div>
        <div class="card"><h3>Federation</h3>{federation ? <><p class="big">{federation.id}</p><p>roster v{federation.rosterSerial}, {federation.members} members</p><p class="mono" title={federation.rosterId}>{short(federation.rosterId, 16)}</p></> : <p>No roster installed</p>}</div>
        <div class="card"><h3>Store</h3><p class="big" data-testid="signals">{count(data.counts.signals, 'signal')}</p><p>{count(data.counts.records, 'record')} in {count(data.counts.feeds, 'feed')}{data.counts.pending > 0 ? `, ${data.counts.pending} pending` : ''}</p></div>
        <div class="card"><h3>Index</h3><p class="big">{data.index.ready ? 'ready' : 'building…'}</p><p>{data.index.pdqHashes.toLocaleString('en')} PDQ hashes, {bytes(data.index.memoryBytes)}</p></div>
        <div class={`card ${data.catchUp.behind > 0 ? 'warn' : ''}`}><h3>Catch-up</h3><p class="big">{data.catchUp.behind === 0 ? 'in step' : `${data.catchUp.behind.toLocaleString('en')} behind`}</p><p>{count(data.peers.length, 'peer')} connected</p></div>
      </section>

      <section>
        <h2>Alerts</h2>
        <ul class="alerts" data-testid="alerts">
          {alerts.equivocations.map((e) => <li class="bad" key={e.feed}>Equivocation: {e.member ?? short(e.feed)} signed two records at seq {e.seq}; its feed is frozen there.</li>)}
          {alerts.bans.map((b) => <li class="bad" key={b.peerId}>Banned peer {b.member ?? ''} {short(b.peerId, 12)} until {when(b.until)}</li>)}
          {alerts.refusedConnections > 0 && <li class="warn">Refused connections: {alerts.refusedConnections} ({Object.entries(alerts.refusedByReason).map(([r, n]) => `${r} ${n}`).join(', ')})</li>}
          {alerts.incidents?.map((i) => <li class="bad" key={i.id}>Open incident ({i.severity}): {i.title} — <Link href="/ui/incidents">see it</Link></li>)}
          {alerts.quarantined ? <li class="warn">{alerts.quarantined} records of other members held in quarantine (not matched): <Link href="/ui/quarantine">review</Link></li> : null}
          {alertCount === 0 && <li class="ok">No alerts: no equivocation, no ban, no refused connection{alerts.quarantined === 0 ? ', nothing in quarantine' : ''}.</li>}
        </ul>
      </section>

      <section>
        <h2>Peers</h2>
        <table data-testid="peers">
          <thead><tr><th>member</th><th>peer id</th><th>direction</th><th>latency</th><th>last sync</th><th>invalid items</th></tr></thead>
          <tbody>
            {data.peers.map((p) => (
              <tr key={p.peerId}><td>{p.member ?? 'unknown'}</td><td class="mono" title={p.peerId}>{short(p.peerId, 16)}</td><td>{p.direction}</td><td>{p.rttMs === null ? '—' : `${p.rttMs} ms`}</td><td>{ago(p.lastSyncAt)}{p.lastSyncOk === false ? ' (failed)' : ''}</td><td>{p.invalid}</td></tr>
            ))}
            {data.peers.length === 0 && <tr><td colSpan={6}>No peer connected.</td></tr>}
          </tbody>
        </table>
      </section>

      <section>
        <h2>Feeds here vs peers</h2>
        <table data-testid="members">
          <thead><tr><th>member</th><th>head here</th><th>peers report</th><th>state</th></tr></thead>
          <tbody>
            {data.members.map((m) => (
              <tr key={m.key} class={m.equivocating ? 'bad' : ''}>
                <td>{m.name}{m.own ? ' (us)' : ''}</td>
                <td>{m.here}</td>
                <td>{m.peersReport.length === 0 ? '—' : m.peersReport.map((r) => `${r.member ?? short(r.peer, 8)}: ${r.seq}`).join(', ')}</td>
                <td>{m.equivocating ? 'frozen (equivocation)' : m.behind > 0 ? `${m.behind} behind` : 'in step'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      <section>
        <h2>Activity <span class="switch"><button class={span === '1h' ? 'on' : ''} onClick={() => setSpan('1h')}>last hour</button><button class={span === '24h' ? 'on' : ''} onClick={() => setSpan('24h')}>last 24 h</button></span></h2>
        {series && (
          <div class="charts">
            <TimeChart title="Records received per member" series={series.members.length > 0 ? series.members : ['(none)']} data={series.members.length > 0 ? series.received : [series.received[0]!, series.received[0]!.map(() => 0)]} testid="chart-received" />
            <TimeChart title="Match requests and hits" series={['requests', 'hits']} data={series.matches} testid="chart-matches" />
            <TimeChart title="Propagation delay (s, mean)" series={['delay']} data={series.delay} testid="chart-delay" />
          </div>
        )}
        <p class="hint">Kept by the node in memory for the last 24 h, per minute; updated every {REFRESH_MS / 1000} s.</p>
      </section>
    </div>
  )
}

/** Incidents: declared incidents (the crisis fast path), their state, who declared them and the contributions naming them. */
import { useEffect, useState } from 'preact/hooks'
import { api } from '../api.js'
import { Link } from '../router.js'
import { short, when } from '../format.js'

interface Incident {
  id: string; state: 'open' | 'closed' | 'expired'; title: string; severity: string; start: number; expiry: number; description: string; reference: string | null
  declaredBy: { key: string; name: string | null }; revision: number
  contributions: Array<{
    record: string; member: { key: string; name: string | null }; seq: number; signals: number; latencyMs: number; signedAt: number
    heldBy: Array<{ member: { key: string; name: string | null }; at: number; how: 'signed' | 'received' | 'peer-sync' }>
  }>
}

export function Incidents() {
  const [all, setAll] = useState(false)
  const [data, setData] = useState<{ available: boolean; incidents: Incident[] }>()
  const [error, setError] = useState<string>()
  useEffect(() => void api.get<{ available: boolean; incidents: Incident[] }>(`/incidents${all ? '?all=true' : ''}`).then(setData, (e) => setError(String(e))), [all])
  if (!data) return <p>{error ?? 'Loading…'}</p>
  if (!data.available) return <div><h1>Incidents</h1><p>This node has no incidents capability.</p></div>
  return (
    <div>
      <h1>Incidents</h1>
      <p class="hint">Declared with "hashmesh incident declare" (or /v1/incidents); contributions that name one travel on the fast path.
        {' '}<label class="chip"><input type="checkbox" checked={all} onChange={() => setAll(!all)} /> closed and expired too</label></p>
      {data.incidents.length === 0 && <p data-testid="incidents">No {all ? '' : 'open '}incident.</p>}
      {data.incidents.map((i) => (
        <section class={`proposal incident ${i.state}`} key={i.id} data-testid="incidents">
          <h3>{i.title} <span class="mono">{short(i.id, 12)}</span></h3>
          <p><strong>{i.severity}</strong>, {i.state}; declared by {i.declaredBy.name ?? short(i.declaredBy.key)} (revision {i.revision}); {when(i.start)} to {when(i.expiry)}{i.reference ? `; ${i.reference}` : ''}</p>
          {i.description && <p>{i.description}</p>}
          <p>{i.contributions.length} contribution(s){i.contributions.length > 0 ? `, median latency ${Math.round([...i.contributions].sort((a, b) => a.latencyMs - b.latencyMs)[Math.floor(i.contributions.length / 2)]!.latencyMs)} ms` : ''}</p>
          {i.contributions.length > 0 && (
            <table>
              <thead><tr><th>member</th><th>seq</th><th>signals</th><th>arrived here after</th><th title="members known to hold it: the author, this node, and those whose peers reported it in a sync session (held by then at the latest)">held by</th><th>record</th></tr></thead>
              <tbody>{i.contributions.slice(-20).map((c) => (
                <tr key={c.record}>
                  <td>{c.member.name ?? short(c.member.key)}</td><td>{c.seq}</td><td>{c.signals}</td><td>{c.latencyMs} ms</td>
                  <td data-testid="held-by">{c.heldBy.map((h) => `${h.member.name ?? short(h.member.key)} ${h.how === 'signed' ? '(author)' : `${h.how === 'peer-sync' ? 'by ' : ''}+${h.at - c.signedAt} ms`}`).join(', ')}</td>
                  <td><Link href={`/ui/records/${c.record}`}>{short(c.record)}</Link></td>
                </tr>
              ))}</tbody>
            </table>
          )}
        </section>
      ))}
    </div>
  )
}

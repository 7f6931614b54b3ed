/** Records and feeds: every member's feed, a page of its records, one record with its signals, labels, signature and canonical bytes; revoke our own, give an opinion on anyone's (each confirmed first). */
import { useEffect, useState } from 'preact/hooks'
import { api, ConsoleError } from '../api.js'
import { Link, navigate } from '../router.js'
import { short, when } from '../format.js'

interface Signal { type: string; value: string; quality?: number }
interface RecordJson {
  id: string; kind: 'signals' | 'revoke' | 'opinion'; author: string; seq: number; prev: string | null; timestamp: number; signature: string
  body: { signals?: Signal[]; labels?: string[]; contentType?: string; note?: string; target?: string; signal?: number | Signal; reason?: string; opinion?: string; record?: string }
}
interface RecordPageJson { record: RecordJson; bytes: string; own: boolean; author: string | null; signature: { verified: boolean; error?: { code: string; message: string } } }
interface FeedsJson { own: string; feeds: Array<{ feed: string; seq: number; id: string; member: string | null }> }
interface FeedJson { feed: string; head: { seq: number; id: string }; records: Array<{ record: RecordJson; bytes: string }> }

const PAGE = 50
const OPINIONS = ['seen', 'true_positive', 'false_positive', 'disputed']
const REVOKE_REASONS = ['false_positive', 'policy_change', 'legal', 'duplicate', 'mistake', 'other']

function errorText(err: unknown): string {
  return err instanceof ConsoleError ? `${err.code}: ${err.message}` : String(err)
}

function summary(r: RecordJson): string {
  if (r.kind === 'signals') return `${r.body.signals?.length ?? 0} signal(s); ${(r.body.labels ?? []).join(', ') || 'no labels'}`
  if (r.kind === 'revoke') return `revokes ${short(r.body.target ?? '')}${typeof r.body.signal === 'number' ? ` signal ${r.body.signal}` : ''} (${r.body.reason})`
  const s = r.body.signal as Signal | undefined
  return `${r.body.opinion} on ${s?.type ?? ''} ${short(s?.value ?? '')}`
}

export function Feeds() {
  const [data, setData] = useState<FeedsJson>()
  const [error, setError] = useState<string>()
  useEffect(() => void api.get<FeedsJson>('/feeds').then(setData, (e) => setError(errorText(e))), [])
  return (
    <div>
      <h1>Records &amp; feeds</h1>
      <form class="inline" onSubmit={(e) => { e.preventDefault(); const id = ((e.target as HTMLFormElement).elements.namedItem('id') as HTMLInputElement).value.trim(); if (id) navigate(`/ui/records/${id}`) }}>
        <label>Record id <input name="id" size={66} /></label> <button type="submit">Open</button>
      </form>
      {error && <p class="error">{error}</p>}
      <table data-testid="feeds">
        <thead><tr><th>member</th><th>feed key</th><th>records</th><th>head</th></tr></thead>
        <tbody>
          {data?.feeds.map((f) => (
            <tr key={f.feed}><td><Link href={`/ui/feeds/${f.feed}`}>{f.member ?? 'unknown member'}{f.feed === data.own ? ' (us)' : ''}</Link></td><td class="mono">{short(f.feed, 16)}</td><td>{f.seq}</td><td class="mono">{short(f.id)}</td></tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}

export function FeedPage({ feed }: { feed: string }) {
  const [from, setFrom] = useState<number>()
  const [data, setData] = useState<FeedJson>()
  const [error, setError] = useState<string>()
  useEffect(() => {
    // newest page first
    api.get<FeedJson>(`/feeds/${feed}?limit=1`).then((first) => {
      const start = from ?? Math.max(1, first.head.seq - PAGE + 1)
      return api.get<FeedJson>(`/feeds/${feed}?from=${start}&limit=${PAGE}`)
    }).then(setData, (e) => setError(errorText(e)))
  }, [feed, from])
  if (error) return <p class="error">{error}</p>
  if (!data) return <p>Loading…</p>
  const first = data.records[0]?.record.seq ?? 1
  return (
    <div>
      <h1>Feed {short(feed, 16)}</h1>
      <p>{data.head.seq} records. Showing {first}–{first + data.records.length - 1}.
        {first > 1 && <button onClick={() => setFrom(Math.max(1, first - PAGE))}>older</button>}
        {first + data.records.length - 1 < data.head.seq && <button onClick={() => setFrom(first + PAGE)}>newer</button>}
      </p>
      <table data-testid="feed-records">
        <thead><tr><th>seq</th><th>kind</th><th>what</th><th>when</th><th>id</th></tr></thead>
        <tbody>
          {[...data.records].reverse().map(({ record: r }) => (
            <tr key={r.id}><td>{r.seq}</td><td>{r.kind}</td><td>{summary(r)}</td><td>{when(r.timestamp)}</td><td><Link href={`/ui/records/${r.id}`}>{short(r.id)}</Link></td></tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}

/** A two-step button: the first click asks, the second (Confirm) acts. */
function Confirmed({ label, question, act, testid }: { label: string; question: string; act: () => Promise<void>; testid: string }) {
  const [asking, setAsking] = useState(false)
  const [busy, setBusy] = useState(false)
  if (!asking) return <button onClick={() => setAsking(true)} data-testid={testid}>{label}</button>
  return (
    <span class="confirm" role="alertdialog">
      {question}{' '}
      <button disabled={busy} data-testid={`${testid}-confirm`} onClick={async () => { setBusy(true); try { await act() } finally { setBusy(false); setAsking(false) } }}>Confirm</button>{' '}
      <button onClick={() => setAsking(false)}>Cancel</button>
    </span>
  )
}

export function RecordPage({ id }: { id: string }) {
  const [data, setData] = useState<RecordPageJson>()
  const [error, setError] = useState<string>()
  const [done, setDone] = useState<string>()
  const [reason, setReason] = useState('mistake')
  const [opinion, setOpinion] = useState('true_positive')
  const [signalIndex, setSignalIndex] = useState(0)
  useEffect(() => {
    setData(undefined)
    setDone(undefined)
    api.get<RecordPageJson>(`/records/${id}`).then(setData, (e) => setError(errorText(e)))
  }, [id])
  if (error) return <p class="error">{error}</p>
  if (!data) return <p>Loading…</p>
  const r = data.record
  const signals = r.body.signals ?? []
  const revoke = async () => {
    try {
      const made = await api.post<{ record: RecordJson }>(`/records/${r.id}/revoke`, { reason })
      setDone(`Revoked: record ${made.record.id} (seq ${made.record.seq}) is signed and on its way to the federation.`)
    } catch (err) { setError(errorText(err)) }
  }
  const giveOpinion = async () => {
    try {
      const s = signals[signalIndex]!
      const made = await api.post<{ record: RecordJson }>('/opinions', { signal: { type: s.type, value: s.value }, opinion, record: r.id })
      setDone(`Opinion recorded: record ${made.record.id}.`)
    } catch (err) { setError(errorText(err)) }
  }
  return (
    <div data-testid="record">
      <h1>Record {short(r.id, 16)}</h1>
      <dl class="facts">
        <dt>id</dt><dd class="mono">{r.id}</dd>
        <dt>kind</dt><dd>{r.kind}</dd>
        <dt>author</dt><dd>{data.author ?? 'unknown'}{data.own ? ' (us)' : ''} <Link href={`/ui/feeds/${r.author}`}>{short(r.author, 16)}</Link>, seq {r.seq}</dd>
        <dt>signed</dt><dd>{when(r.timestamp)}</dd>
        <dt>signature</dt><dd class={data.signature.verified ? 'ok' : 'bad'} data-testid="signature">{data.signature.verified ? 'verified (Ed25519 over the canonical bytes)' : `NOT verified: ${data.signature.error?.message}`}</dd>
        {r.kind === 'signals' && <><dt>labels</dt><dd>{(r.body.labels ?? []).join(', ') || '—'}</dd><dt>content type</dt><dd>{r.body.contentType}</dd></>}
        {r.body.note && <><dt>note</dt><dd>{r.body.note}</dd></>}
        {r.kind !== 'signals' && <><dt>what</dt><dd>{summary(r)}{r.body.target && <> — <Link href={`/ui/records/${r.body.target}`}>target</Link></>}</dd></>}
      </dl>
      {signals.length > 0 && (
        <table data-testid="signals">
          <thead><tr><th>#</th><th>type</th><th>value</th><th>quality</th></tr></thead>
          <tbody>{signals.map((s, i) => <tr key={i}><td>{i}</td><td>{s.type}</td><td class="mono">{s.value}</td><td>{s.quality ?? '—'}</td></tr>)}</tbody>
        </table>
      )}
      <section class="actions">
        {data.own && r.kind === 'signals' && (
          <p>
            <label>Reason <select value={reason} onChange={(e) => setReason((e.target as HTMLSelectElement).value)}>{REVOKE_REASONS.map((x) => <option key={x}>{x}</option>)}</select></label>{' '}
            <Confirmed label="Revoke this contribution" question="Revoke every signal of this record? Members stop matching it once they receive the revocation." act={revoke} testid="revoke" />
          </p>
        )}
        {!data.own && signals.length > 0 && (
          <p>
            <label>Signal <select value={signalIndex} onChange={(e) => setSignalIndex(Number((e.target as HTMLSelectElement).value))}>{signals.map((s, i) => <option key={i} value={i}>{i}: {s.type} {short(s.value)}</option>)}</select></label>{' '}
            <label>Opinion <select value={opinion} onChange={(e) => setOpinion((e.target as HTMLSelectElement).value)}>{OPINIONS.map((x) => <option key={x}>{x}</option>)}</select></label>{' '}
            <Confirmed label="Sign this opinion" question={`Sign "${opinion}" on this signal? It is shared with every member.`} act={giveOpinion} testid="opinion" />
          </p>
        )}
        {done && <p class="ok" role="status" data-testid="done">{done}</p>}
      </section>
      <details>
        <summary>Canonical bytes ({data.bytes.length / 2} bytes, hex)</summary>
        <pre class="hex" data-testid="bytes">{data.bytes}</pre>
      </details>
    </div>
  )
}

/** Quarantine: other members' records held back from matching by the flood quarantine (issue 18); release one, confirmed first. */
import { useEffect, useState } from 'preact/hooks'
import { api, ConsoleError } from '../api.js'
import { Link } from '../router.js'
import { short, when } from '../format.js'

interface Entry { id: string; author: string; memberName: string | null; seq: number; signals: number; at: number; rule: string; count: number; limit: number }
interface QuarantineJson {
  available: boolean
  records?: Entry[]
  members?: Array<{ member: string; memberName: string | null; records: number; signals: number; overLimit: boolean }>
  counters?: { quarantinedRecords: number; releasedRecords: number; autoReleasedRecords: number }
  autoRelease?: boolean
}

export function Quarantine() {
  const [data, setData] = useState<QuarantineJson>()
  const [asking, setAsking] = useState<string>()
  const [message, setMessage] = useState<string>()
  const [error, setError] = useState<string>()
  const load = () => api.get<QuarantineJson>('/quarantine').then(setData, (e) => setError(String(e)))
  useEffect(() => void load(), [])
  const release = async (id: string) => {
    setAsking(undefined)
    try {
      const r = await api.post<{ released: Entry[] }>('/quarantine/release', { records: [id] })
      setMessage(`Released ${r.released.length} record(s): they match again from now on.`)
      await load()
    } catch (err) {
      setError(err instanceof ConsoleError ? `${err.code}: ${err.message}` : String(err))
    }
  }
  if (!data) return <p>{error ?? 'Loading…'}</p>
  if (!data.available) return <div><h1>Quarantine</h1><p>This node has no flood quarantine.</p></div>
  return (
    <div>
      <h1>Quarantine</h1>
      <p class="hint">Records of other members that came faster than the flood limits allow are stored and passed on, but not matched here until released{data.autoRelease ? ' (released by themselves once the member is back under its limits)' : ''}.</p>
      {message && <p class="ok" role="status">{message}</p>}
      {error && <p class="error" role="alert">{error}</p>}
      <table data-testid="quarantine">
        <thead><tr><th>member</th><th>seq</th><th>signals</th><th>rule</th><th>held since</th><th>record</th><th></th></tr></thead>
        <tbody>
          {data.records!.map((e) => (
            <tr key={e.id}>
              <td>{e.memberName ?? short(e.author)}</td><td>{e.seq}</td><td>{e.signals}</td><td>{e.rule}: {e.count} over {e.limit}</td><td>{when(e.at)}</td>
              <td><Link href={`/ui/records/${e.id}`}>{short(e.id)}</Link></td>
              <td>{asking === e.id
                ? <span class="confirm" role="alertdialog">Match it again? <button onClick={() => release(e.id)}>Confirm</button> <button onClick={() => setAsking(undefined)}>Cancel</button></span>
                : <button onClick={() => setAsking(e.id)}>Release…</button>}</td>
            </tr>
          ))}
          {data.records!.length === 0 && <tr><td colSpan={7}>Nothing held.</td></tr>}
        </tbody>
      </table>
      {data.counters && <p class="hint">Since start: {data.counters.quarantinedRecords} held, {data.counters.releasedRecords} released by hand, {data.counters.autoReleasedRecords} released by themselves.</p>}
    </div>
  )
}

/** Banks (src/bank, managed through the HMA /c/ routes and /v1/banks). */
import { useEffect, useState } from 'preact/hooks'
import { api } from '../api.js'

interface Bank { name: string; kind?: string; matchingEnabledRatio?: number; member?: string; createdAt?: number }

export function Banks() {
  const [data, setData] = useState<{ available: boolean; banks: Bank[] }>()
  useEffect(() => void api.get<{ available: boolean; banks: Bank[] }>('/banks').then(setData), [])
  if (!data) return <p>Loading…</p>
  return (
    <div>
      <h1>Banks</h1>
      <p class="hint">Banks are managed with HMA's /c/ routes (docs/hma.md); this page lists them.</p>
      <table data-testid="banks">
        <thead><tr><th>name</th><th>kind</th><th>matching enabled</th></tr></thead>
        <tbody>
          {data.banks.map((b) => <tr key={b.name}><td>{b.name}</td><td>{b.kind ?? '—'}</td><td>{b.matchingEnabledRatio === undefined ? '—' : `${Math.round(b.matchingEnabledRatio * 100)} %`}</td></tr>)}
          {data.banks.length === 0 && <tr><td colSpan={3}>No bank yet.</td></tr>}
        </tbody>
      </table>
    </div>
  )
}


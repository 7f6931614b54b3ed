/** Contribute: media (hashed on the node) or hashes, with labels picked from the taxonomy; shows the signed record. */
import { useEffect, useState } from 'preact/hooks'
import { api, ConsoleError } from '../api.js'
import { Link } from '../router.js'
import { short } from '../format.js'
import { signalsOf } from './search.js'

interface Taxonomy { contentTypes: string[]; namespaces: Record<string, { values?: string[]; free?: boolean; pattern?: string }> }
interface Contributed { records: Array<{ id: string; seq: number; signals: number }>; skipped: Array<{ type: string; value: string; reason: string }>; signed: Array<{ record: { id: string; seq: number; body: { labels: string[] } }; bytes: string }> }

export function Contribute() {
  const [taxonomy, setTaxonomy] = useState<Taxonomy>()
  const [contentType, setContentType] = useState('photo')
  const [chosen, setChosen] = useState<Set<string>>(new Set())
  const [free, setFree] = useState<Record<string, string>>({})
  const [hashes, setHashes] = useState('')
  const [file, setFile] = useState<File>()
  const [note, setNote] = useState('')
  const [result, setResult] = useState<Contributed>()
  const [error, setError] = useState<string>()
  useEffect(() => void api.get<Taxonomy>('/taxonomy').then(setTaxonomy), [])
  if (!taxonomy) return <p>Loading the taxonomy…</p>

  const labels = () => [...chosen, ...Object.entries(free).flatMap(([ns, v]) => v.split(',').map((x) => x.trim()).filter(Boolean).map((x) => `${ns}:${x}`))]
  const toggle = (label: string) => setChosen((s) => { const n = new Set(s); if (n.has(label)) n.delete(label); else n.add(label); return n })
  const submit = async (e: Event) => {
    e.preventDefault()
    setError(undefined)
    setResult(undefined)
    try {
      if (file) {
        const q = new URLSearchParams({ labels: labels().join(','), contentType })
        if (note) q.set('note', note)
        setResult(await api.post<Contributed>(`/contributions?${q}`, file, file.type || 'application/octet-stream'))
      } else {
        // a 64-digit value is PDQ unless typed (sha256:…)
        const signals = signalsOf(hashes).filter((s, i, all) => !(s.type === 'sha256' && all[i - 1]?.type === 'pdq' && all[i - 1]?.value === s.value))
        setResult(await api.post<Contributed>('/contributions', { signals, labels: labels(), contentType, ...(note ? { note } : {}) }))
      }
    } catch (err) {
      setError(err instanceof ConsoleError ? `${err.code}: ${err.message}` : String(err))
    }
  }
  return (
    <div>
      <h1>Contribute</h1>
      <form class="contribute" onSubmit={submit}>
        <fieldset>
          <legend>What</legend>
          <label>Media file (hashed on this node; the file is not shared) <input type="file" accept="image/*,video/*" onChange={(e) => setFile((e.target as HTMLInputElement).files?.[0])} data-testid="contribute-file" /></label>
          <label>or hashes (one per line; PDQ for 64 hex digits unless written sha256:…)
            <textarea rows={3} value={hashes} onInput={(e) => setHashes((e.target as HTMLTextAreaElement).value)} disabled={!!file} name="hashes" /></label>
        </fieldset>
        <fieldset>
          <legend>Labels (taxonomy)</legend>
          <label>Content type <select value={contentType} onChange={(e) => setContentType((e.target as HTMLSelectElement).value)} name="contentType">{taxonomy.contentTypes.map((t) => <option key={t}>{t}</option>)}</select></label>
          {Object.entries(taxonomy.namespaces).map(([ns, def]) => (
            <div class="namespace" key={ns}>
              <span class="ns">{ns}</span>
              {def.values?.map((v) => (
                <label class="chip" key={v}><input type="checkbox" checked={chosen.has(`${ns}:${v}`)} onChange={() => toggle(`${ns}:${v}`)} name={`${ns}:${v}`} /> {v}</label>
              ))}
              {def.free && <input placeholder={`${ns} (comma-separated)`} value={free[ns] ?? ''} onInput={(e) => setFree({ ...free, [ns]: (e.target as HTMLInputElement).value })} />}
            </div>
          ))}
          <label>Note <input value={note} onInput={(e) => setNote((e.target as HTMLInputElement).value)} maxLength={280} /></label>
        </fieldset>
        <p>Labels: {labels().join(', ') || 'none'}</p>
        <button type="submit" data-testid="contribute-submit">Sign and share</button>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      {result && (
        <section data-testid="contributed">
          <h2>Signed</h2>
          {result.signed.map((s) => (
            <div key={s.record.id}>
              <p>Record <Link href={`/ui/records/${s.record.id}`}>{short(s.record.id, 16)}</Link> (seq {s.record.seq}), labels {s.record.body.labels.join(', ') || 'none'}</p>
              <pre class="hex">{JSON.stringify(s.record, null, 2)}</pre>
            </div>
          ))}
          {result.skipped.length > 0 && <ul>{result.skipped.map((s) => <li key={s.value}>skipped {s.type} {short(s.value)}: {s.reason}</li>)}</ul>}
        </section>
      )}
    </div>
  )
}

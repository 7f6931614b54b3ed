/**
 * Search: paste hashes or drop images and videos. Results are explained as the API explains them
 * (member, labels, distance, signature, opinions, policy verdict). Dropped media is shown blurred and
 * greyscale until the reviewer reveals that item; the choice is kept for this browser tab's session only.
 */
import { useState } from 'preact/hooks'
import { api, ConsoleError } from '../api.js'
import { Link } from '../router.js'
import { short, when } from '../format.js'

export interface MatchRecord { id: string; member: { key: string; name: string | null }; labels: string[]; contentType: string; timestamp: number; quality: number | null; signatureVerified: boolean; equivocated: boolean; local?: { reason?: string } }
export interface Matched {
  type: string; value: string; distance: number; query: { type: string; value: string }
  records: MatchRecord[]; status: string; reasons: string[]; agreeingMembers: number
  opinions: { summary: Record<string, number>; members: Array<{ member: string; name: string | null; opinion: string; ignored?: string }> }
  frames?: unknown[]
}
export interface BankHit { type: string; value: string; banks: Array<{ bank: string; kind: string; distance: number; contentId?: number }>; suppressedBy: string[] }
interface MediaResult { query: { kind: string; pdq?: { hash: string; quality: number }; md5?: string; sha256?: string }; matches: Matched[]; banks?: BankHit[] }
interface Dropped { key: string; name: string; url: string; video: boolean; result?: MediaResult; error?: string }

const REVEALED = 'hashmesh.revealed'

function revealedSet(): Set<string> {
  try {
    return new Set(JSON.parse(sessionStorage.getItem(REVEALED) ?? '[]') as string[])
  } catch {
    return new Set()
  }
}

function remember(key: string): void {
  const s = revealedSet()
  s.add(key)
  sessionStorage.setItem(REVEALED, JSON.stringify([...s]))
}

async function digest(file: Blob): Promise<string> {
  const hash = await crypto.subtle.digest('SHA-256', await file.arrayBuffer())
  return [...new Uint8Array(hash)].map((b) => b.toString(16).padStart(2, '0')).join('')
}

/** Hash types a pasted value can be: 32 hex digits is MD5; 64 is PDQ or SHA-256 (both asked). */
export function signalsOf(text: string): Array<{ type: string; value: string }> {
  const out: Array<{ type: string; value: string }> = []
  for (const raw of text.split(/[\s,]+/)) {
    const token = raw.trim()
    if (!token) continue
    const typed = /^(pdq|md5|sha256|vpdq):(.+)$/i.exec(token)
    if (typed) out.push({ type: typed[1]!.toLowerCase(), value: typed[2]! })
    else if (/^[0-9a-f]{32}$/i.test(token)) out.push({ type: 'md5', value: token })
    else if (/^[0-9a-f]{64}$/i.test(token)) out.push({ type: 'pdq', value: token }, { type: 'sha256', value: token })
    else out.push({ type: 'pdq', value: token }) // the node says why it is not a hash
  }
  return out
}

export function Explained({ matches }: { matches: Matched[] }) {
  if (matches.length === 0) return <p class="nomatch" data-testid="no-match">No match in this node's replica.</p>
  return (
    <ul class="matches" data-testid="matches">
      {matches.map((m) => (
        <li key={`${m.type}:${m.value}`} class={`match ${m.status}`} data-testid="match">
          <p class="verdict"><strong>{m.status}</strong> — {m.type.toUpperCase()} {short(m.value, 16)} at distance {m.distance}; {m.agreeingMembers} member{m.agreeingMembers === 1 ? '' : 's'} agree</p>
          {m.reasons.length > 0 && <ul class="reasons">{m.reasons.map((r) => <li key={r}>{r}</li>)}</ul>}
          <table>
            <thead><tr><th>member</th><th>labels</th><th>content</th><th>signature</th><th>when</th><th>record</th></tr></thead>
            <tbody>
              {m.records.map((r) => (
                <tr key={r.id}>
                  <td>{r.member.name ?? short(r.member.key)}</td>
                  <td>{r.labels.join(', ') || '—'}</td>
                  <td>{r.contentType}{r.quality !== null ? `, quality ${r.quality}` : ''}</td>
                  <td class={r.signatureVerified ? 'ok' : 'bad'}>{r.signatureVerified ? 'verified' : 'NOT verified'}{r.equivocated ? ' (author equivocated)' : ''}{r.local ? ` (left out here: ${r.local.reason ?? 'local switch'})` : ''}</td>
                  <td>{when(r.timestamp)}</td>
                  <td><Link href={`/ui/records/${r.id}`}>{short(r.id)}</Link></td>
                </tr>
              ))}
            </tbody>
          </table>
          <p class="opinions">Opinions: {Object.values(m.opinions.summary).every((n) => n === 0) ? 'none yet' : Object.entries(m.opinions.summary).filter(([, n]) => n > 0).map(([o, n]) => `${o} ${n}`).join(', ')}{m.opinions.members.length > 0 ? ` (${m.opinions.members.map((o) => `${o.name ?? short(o.member)}: ${o.opinion}${o.ignored ? ` (not counted: ${o.ignored})` : ''}`).join('; ')})` : ''}</p>
        </li>
      ))}
    </ul>
  )
}

/** Matches in this node's own banks (src/bank), as HMA's lookup explains them. */
export function BankHits({ hits }: { hits?: BankHit[] }) {
  if (!hits || hits.length === 0) return null
  return (
    <ul class="bankhits" data-testid="bank-hits">
      {hits.map((h) => (
        <li key={`${h.type}:${h.value}`}>
          Banks — {h.type.toUpperCase()} {short(h.value, 16)}: {h.banks.map((b) => `${b.bank} (${b.kind}, distance ${b.distance}${b.contentId !== undefined ? `, content ${b.contentId}` : ''})`).join('; ')}
          {h.suppressedBy.length > 0 && <strong> — withheld by negative bank {h.suppressedBy.join(', ')}</strong>}
        </li>
      ))}
    </ul>
  )
}

export function Search() {
  const [text, setText] = useState('')
  const [hashResult, setHashResult] = useState<{ matches: Matched[]; banks?: BankHit[] }>()
  const [error, setError] = useState<string>()
  const [dropped, setDropped] = useState<Dropped[]>([])
  const [revealed, setRevealed] = useState(revealedSet)
  const [over, setOver] = useState(false)

  const searchHashes = async (e: Event) => {
    e.preventDefault()
    setError(undefined)
    try {
      setHashResult(await api.post<{ matches: Matched[]; banks?: BankHit[] }>('/match', { signals: signalsOf(text) }))
    } catch (err) {
      setError(err instanceof ConsoleError ? `${err.code}: ${err.message}` : String(err))
    }
  }

  const addFiles = async (files: FileList | null) => {
    for (const file of Array.from(files ?? [])) {
      const item: Dropped = { key: await digest(file), name: file.name, url: URL.createObjectURL(file), video: file.type.startsWith('video/') }
      setDropped((d) => [item, ...d])
      try {
        item.result = await api.post<MediaResult>('/match', file, file.type || 'application/octet-stream')
      } catch (err) {
        item.error = err instanceof ConsoleError ? `${err.code}: ${err.message}` : String(err)
      }
      setDropped((d) => d.map((x) => (x === item ? { ...item } : x)))
    }
  }

  const reveal = (key: string) => {
    remember(key)
    setRevealed(revealedSet())
  }

  return (
    <div>
      <h1>Search</h1>
      <form class="search" onSubmit={searchHashes}>
        <label>Hashes (PDQ, MD5 or SHA-256; one per line, or type:value)
          <textarea name="hashes" rows={3} value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
        </label>
        <button type="submit">Search</button>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      {hashResult && <section data-testid="hash-results"><h2>Hash results</h2><Explained matches={hashResult.matches} /><BankHits hits={hashResult.banks} /></section>}

      <div
        class={`dropzone ${over ? 'over' : ''}`}
        data-testid="dropzone"
        onDragOver={(e) => { e.preventDefault(); setOver(true) }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => { e.preventDefault(); setOver(false); void addFiles(e.dataTransfer?.files ?? null) }}
      >
        <p>Drop images or videos here, or <label class="filelabel">choose files<input type="file" accept="image/*,video/*" multiple onChange={(e) => void addFiles((e.target as HTMLInputElement).files)} /></label>.</p>
        <p class="hint">The media stays on this node: it is hashed here and never sent to other members. It is shown blurred and greyscale until you reveal it.</p>
      </div>

      {dropped.map((d) => {
        const shown = revealed.has(d.key)
        return (
          <section class="dropped" key={d.key + d.name} data-testid="dropped">
            <div class="media">
              {d.video
                ? <video src={d.url} class={shown ? '' : 'shielded'} controls={shown} muted data-testid="media" />
                : <img src={d.url} alt={d.name} class={shown ? '' : 'shielded'} data-testid="media" />}
              {!shown && <button class="reveal" onClick={() => reveal(d.key)} data-testid="reveal">Reveal</button>}
            </div>
            <div class="explain">
              <h3>{d.name}</h3>
              {d.result?.query.pdq && <p class="mono">PDQ {d.result.query.pdq.hash} (quality {d.result.query.pdq.quality})</p>}
              {d.error ? <p class="error">{d.error}</p> : d.result ? <><Explained matches={d.result.matches} /><BankHits hits={d.result.banks} /></> : <p>Hashing and matching…</p>}
            </div>
          </section>
        )
      })}
    </div>
  )
}

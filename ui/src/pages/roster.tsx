/** Roster: members, versions, proposals with what each changes, and signing one (confirmed first). */
import { useEffect, useState } from 'preact/hooks'
import { api, ConsoleError } from '../api.js'
import { short, when } from '../format.js'

interface Member { name: string; key: string; peers: string[] }
interface Change { added: Member[]; removed: Array<{ name: string; key: string }>; renamed: Array<{ key: string; from: string; to: string }>; peersChanged: Array<{ name: string; key: string; added: string[]; removed: string[] }> }
interface Proposal { id: string; serial: number; followsCurrent: boolean; changes: Change; signedBy: Array<{ key: string; name: string | null }>; signedByMe: boolean; votes: number; needed: number; json: unknown }
interface RosterJson { pin: string | null; me: string; current: { id: string; document: { federation: string; serial: number; members: Member[]; createdAt: number }; signatures: Array<{ key: string }> } | null; history: Array<{ serial: number; id: string; members: number; createdAt: number }>; proposals: Proposal[] }

function ChangeList({ c }: { c: Change }) {
  const items = [
    ...c.added.map((m) => `add member ${m.name} (${short(m.key)}) with ${m.peers.length} peer id(s)`),
    ...c.removed.map((m) => `remove member ${m.name} (${short(m.key)})`),
    ...c.renamed.map((m) => `rename ${m.from} to ${m.to}`),
    ...c.peersChanged.map((m) => `${m.name}: peer ids ${m.added.map((p) => `+${short(p, 12)}`).concat(m.removed.map((p) => `−${short(p, 12)}`)).join(' ')}`),
  ]
  return <ul class="changes" data-testid="changes">{items.length === 0 ? <li>no change to the members</li> : items.map((i) => <li key={i}>{i}</li>)}</ul>
}

export function Roster() {
  const [data, setData] = useState<RosterJson>()
  const [error, setError] = useState<string>()
  const [text, setText] = useState('')
  const [asking, setAsking] = useState<string>()
  const [message, setMessage] = useState<string>()
  const load = () => api.get<RosterJson>('/roster').then(setData, (e) => setError(String(e)))
  useEffect(() => void load(), [])
  const fail = (err: unknown) => setError(err instanceof ConsoleError ? `${err.code}: ${err.message}` : String(err))
  const add = async (e: Event) => {
    e.preventDefault()
    setError(undefined)
    try {
      await api.post('/roster/proposals', JSON.parse(text))
      setText('')
      await load()
    } catch (err) { fail(err instanceof SyntaxError ? new Error('that is not JSON: paste a roster file written by "hashmesh roster propose"') : err) }
  }
  const sign = async (id: string) => {
    setAsking(undefined)
    try {
      const r = await api.post<{ installed: boolean; proposal: Proposal; install?: { verdict: string; message?: string } }>(`/roster/proposals/${id}/sign`)
      setMessage(r.installed ? `Signed; with ${r.proposal.votes} of ${r.proposal.needed} needed signatures it is installed as roster v${r.proposal.serial}.` : `Signed (${r.proposal.votes} of ${r.proposal.needed} needed). Download it and pass it on to the next member.`)
      await load()
    } catch (err) { fail(err) }
  }
  if (!data) return <p>{error ?? 'Loading…'}</p>
  const cur = data.current
  return (
    <div>
      <h1>Roster</h1>
      {cur ? <p>Federation <strong>{cur.document.federation}</strong>, version {cur.document.serial} of {when(cur.document.createdAt)}, signed by {cur.signatures.length}. <span class="mono">{short(cur.id, 16)}</span></p> : <p>No roster installed.</p>}
      <table data-testid="roster-members">
        <thead><tr><th>member</th><th>key</th><th>peer ids</th></tr></thead>
        <tbody>{cur?.document.members.map((m) => <tr key={m.key}><td>{m.name}{m.key === data.me ? ' (us)' : ''}</td><td class="mono">{short(m.key, 16)}</td><td class="mono">{m.peers.map((p) => short(p, 14)).join(', ')}</td></tr>)}</tbody>
      </table>
      <h2>Pending proposals</h2>
      {message && <p class="ok" role="status" data-testid="roster-message">{message}</p>}
      {error && <p class="error" role="alert">{error}</p>}
      {data.proposals.length === 0 && <p>None. Paste one below.</p>}
      {data.proposals.map((p) => (
        <section class="proposal" key={p.id} data-testid="proposal">
          <h3>Version {p.serial} <span class="mono">{short(p.id, 16)}</span>{p.followsCurrent ? '' : ' — does not follow the current version'}</h3>
          <ChangeList c={p.changes} />
          <p>Signatures: {p.votes} of {p.needed} needed ({p.signedBy.map((s) => s.name ?? short(s.key)).join(', ') || 'none yet'})</p>
          {p.signedByMe ? <p>You signed it.</p> : asking === p.id ? (
            <p class="confirm" role="alertdialog">Sign version {p.serial} with your member key, approving the changes above? <button onClick={() => sign(p.id)} data-testid="sign-confirm">Confirm</button> <button onClick={() => setAsking(undefined)}>Cancel</button></p>
          ) : <button onClick={() => setAsking(p.id)} data-testid="sign">Sign…</button>}
          <p><a download={`roster-${p.serial}.json`} href={URL.createObjectURL(new Blob([JSON.stringify(p.json, null, 2)], { type: 'application/json' }))}>Download with its signatures</a></p>
        </section>
      ))}
      <form onSubmit={add}>
        <label>Add a proposal (roster JSON from "hashmesh roster propose")<textarea rows={4} value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} name="proposal" /></label>
        <button type="submit" data-testid="add-proposal">Add</button>
      </form>
      <h2>Versions</h2>
      <ul>{data.history.map((v) => <li key={v.id}>v{v.serial}: {v.members} members, {when(v.createdAt)} <span class="mono">{short(v.id)}</span></li>)}</ul>
    </div>
  )
}

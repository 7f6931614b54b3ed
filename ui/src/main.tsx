/** The console's entry: session check, login, the navigation and a page per path under /ui. */
import { render } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { api, prefetch, prefetched, setCsrf, whenUnauthorized, ConsoleError } from './api.js'
import { navigate, usePath, Link } from './router.js'
import { Overview } from './pages/overview.js'
import { Search } from './pages/search.js'
import { Feeds, FeedPage, RecordPage } from './pages/records.js'
import { Contribute } from './pages/contribute.js'
import { Roster } from './pages/roster.js'
import { Banks } from './pages/banks.js'
import { Quarantine } from './pages/quarantine.js'
import { Incidents } from './pages/incidents.js'
import './app.css'

interface SessionInfo { authenticated: boolean; csrf?: string; expiresAt?: number; login?: 'token' | 'password' }

/** Navigation: the pages there are, and slots for capabilities still to come (greyed, never hidden). */
const NAV: Array<{ path: string; label: string; ready: boolean }> = [
  { path: '/ui/overview', label: 'Overview', ready: true },
  { path: '/ui/search', label: 'Search', ready: true },
  { path: '/ui/records', label: 'Records & feeds', ready: true },
  { path: '/ui/contribute', label: 'Contribute', ready: true },
  { path: '/ui/roster', label: 'Roster', ready: true },
  { path: '/ui/banks', label: 'Banks', ready: true },
  { path: '/ui/incidents', label: 'Incidents', ready: true },
  { path: '/ui/quarantine', label: 'Quarantine', ready: true },
]

function Login({ onLogin, kind }: { onLogin: (s: SessionInfo) => void; kind: 'token' | 'password' }) {
  const [token, setToken] = useState('')
  const [error, setError] = useState<string>()
  const submit = async (e: Event) => {
    e.preventDefault()
    setError(undefined)
    try {
      const session = await api.post<SessionInfo>('/login', { token })
      setToken('')
      onLogin(session)
    } catch (err) {
      setError(err instanceof ConsoleError ? err.message : String(err))
    }
  }
  return (
    <main class="login">
      <h1>hashmesh console</h1>
      <form onSubmit={submit} data-testid="login-form">
        <label>
          {kind === 'password' ? 'Console password' : 'API token'}
          <input type="password" name="token" autocomplete="current-password" value={token} onInput={(e) => setToken((e.target as HTMLInputElement).value)} required />
        </label>
        <p class="hint">{kind === 'password' ? 'The password in DIR/console.password' : 'The token in DIR/api.token'}. It is sent once; the console then keeps a session cookie, never the {kind}.</p>
        <button type="submit">Log in</button>
        {error && <p class="error" role="alert">{error}</p>}
      </form>
    </main>
  )
}

function Page({ path }: { path: string }) {
  const rest = path.replace(/^\/ui\/?/, '')
  const [head, ...tail] = rest.split('/')
  switch (head) {
    case '':
    case 'overview':
      return <Overview />
    case 'search':
      return <Search />
    case 'records':
      return tail[0] ? <RecordPage id={tail[0]} /> : <Feeds />
    case 'feeds':
      return <FeedPage feed={tail[0] ?? ''} />
    case 'contribute':
      return <Contribute />
    case 'roster':
      return <Roster />
    case 'banks':
      return <Banks />
    case 'incidents':
      return <Incidents />
    case 'quarantine':
      return <Quarantine />
    default:
      return <p>No page {path}. <Link href="/ui/overview">Overview</Link></p>
  }
}

function App() {
  const [session, setSession] = useState<SessionInfo>()
  const path = usePath()
  useEffect(() => {
    whenUnauthorized(() => {
      setCsrf(undefined)
      setSession({ authenticated: false })
    })
    api.get<SessionInfo>('/session').then((s) => {
      if (!s.authenticated) void prefetched('/overview') // asked before we knew: dropped
      setCsrf(s.csrf)
      setSession(s)
    }, () => setSession({ authenticated: false }))
  }, [])
  if (!session) return <p class="loading">Loading…</p>
  if (!session.authenticated) {
    return <Login kind={session.login ?? 'token'} onLogin={(s) => { setCsrf(s.csrf); setSession(s); if (path === '/ui/login') navigate('/ui/overview') }} />
  }
  const logout = async () => {
    await api.post('/logout').catch(() => undefined)
    setCsrf(undefined)
    setSession(await api.get<SessionInfo>('/session').catch(() => ({ authenticated: false })))
  }
  return (
    <div class="shell">
      <nav class="nav" aria-label="console">
        <span class="brand">hashmesh</span>
        {NAV.map((item) =>
          item.ready ? (
            <Link key={item.path} href={item.path} class={path.startsWith(item.path) || (item.path === '/ui/overview' && (path === '/ui' || path === '/ui/')) ? 'active' : ''}>{item.label}</Link>
          ) : (
            <Link key={item.path} href={item.path} class="later" title="not available on this node yet">{item.label}</Link>
          ),
        )}
        <button class="logout" onClick={logout} data-testid="logout">Log out</button>
      </nav>
      <main class="page"><Page path={path} /></main>
    </div>
  )
}

if (/^\/ui(\/|\/overview)?$/.test(location.pathname)) prefetch('/overview')
render(<App />, document.getElementById('app')!)

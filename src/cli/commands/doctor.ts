/**
 * doctor: checks a data directory the way an operator would on the first day, and prints what to fix:
 * key file permissions, config, roster (installed, and lists us), API port (free, or our node answers),
 * p2p listen addresses (bindable, reachable by others), and with a running node its peers. Exit 1 when
 * anything is wrong; warnings alone exit 0.
 */
import { existsSync, statSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { join, resolve } from 'node:path'
import type { Command } from 'commander'
import { dataOption } from '../common.js'
import { printLine } from '../output.js'

type Verdict = 'ok' | 'warn' | 'fail'
interface Finding { verdict: Verdict; what: string; fix?: string }

/** Whether host:port can be bound now (false: something else listens there). */
function canBind(host: string, port: number): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((done) => {
    const server = createServer()
    server.once('error', (err: NodeJS.ErrnoException) => done(err))
    server.listen(port, host, () => server.close(() => done(undefined)))
  })
}

/** Whether a TCP connection to host:port opens within 2 s (undefined) or why not. */
function tcpProbe(host: string, port: number): Promise<string | undefined> {
  return new Promise((done) => {
    const socket = connect({ host, port, timeout: 2_000 })
    const end = (why: string | undefined) => {
      socket.destroy()
      done(why)
    }
    socket.once('connect', () => end(undefined))
    socket.once('timeout', () => end('no answer within 2 s'))
    socket.once('error', (err: NodeJS.ErrnoException) => end(err.code ?? err.message))
  })
}

const LOOPBACK = /^(127\.|::1$|localhost$)/

async function diagnose(dataDir: string, out: Finding[]): Promise<void> {
  const add = (verdict: Verdict, what: string, fix?: string): void => {
    out.push({ verdict, what, ...(fix ? { fix } : {}) })
  }
  const { FILES, loadIdentity } = await import('../../node/identity.js')
  const { isHashmeshError } = await import('../../errors.js')
  const dir = resolve(dataDir)
  if (!existsSync(join(dir, FILES.identity))) return add('fail', `${dir} holds no hashmesh identity`, `hashmesh init --data ${dataDir} --name ORG`)

  // 1. secrets readable by their owner only
  let secretsOk = true
  for (const file of [FILES.memberKey, FILES.peerKey, FILES.apiToken]) {
    const path = join(dir, file)
    if (!existsSync(path)) {
      secretsOk = false
      add('fail', `${path} is missing`, file === FILES.apiToken ? `hashmesh token --data ${dataDir}` : 'restore it from your backup (a new key is a new member)')
      continue
    }
    const mode = statSync(path).mode & 0o777
    if (mode & 0o077) {
      secretsOk = false
      add('fail', `${path} has mode ${mode.toString(8)}: others can read a secret`, `chmod 600 ${path}`)
    }
  }
  if (secretsOk) add('ok', 'member key, peer key and API token are mode 0600')
  let identity: Awaited<ReturnType<typeof loadIdentity>>
  try {
    identity = loadIdentity(dir)
  } catch (err) {
    if (!isHashmeshError(err)) throw err
    return add('fail', `identity does not load: ${err.code}: ${err.message}`)
  }

  // 2. config
  const { loadConfig } = await import('../../config.js')
  let config: ReturnType<typeof loadConfig>
  try {
    config = loadConfig({ dataDir: dir })
    add('ok', `config valid (${join(dir, 'config.json')} over config/default.json and HASHMESH_* variables)`)
  } catch (err) {
    if (!isHashmeshError(err)) throw err
    return add('fail', `config invalid: ${err.message}`, `edit ${join(dir, 'config.json')}, or re-create it with "hashmesh init" flags on a new directory`)
  }
  const { parseAddress } = await import('../../node/identity.js')
  const { readRunningNode } = await import('../node-client.js')
  const running = readRunningNode(dir)

  // 3. p2p addresses
  const { p2p } = config
  for (const addr of p2p.bootstrap) {
    try {
      const facts = parseAddress(addr, 'p2p.bootstrap address')
      if (!facts.peerId) add('fail', `bootstrap ${addr} has no /p2p/<peerId>`, 'use the address from the other member\'s card')
      else if (facts.host && facts.port) {
        const why = await tcpProbe(facts.host, facts.port)
        if (why) add('warn', `bootstrap ${addr}: TCP port not reachable (${why})`, 'check that this member\'s node runs and that its p2p port is open to you')
        else add('ok', `bootstrap ${addr}: TCP port reachable`)
      }
    } catch (err) {
      if (!isHashmeshError(err)) throw err
      add('fail', err.message, `fix p2p.bootstrap in ${join(dir, 'config.json')}`)
    }
  }
  const listen = p2p.listen.map((a) => {
    try {
      return { addr: a, ...parseAddress(a, 'p2p.listen address') }
    } catch (err) {
      if (!isHashmeshError(err)) throw err
      add('fail', err.message, `fix p2p.listen in ${join(dir, 'config.json')}`)
      return undefined
    }
  }).filter((x) => x !== undefined)
  if (p2p.announce.length === 0 && listen.every((l) => l.port === 0 || (l.host !== undefined && LOOPBACK.test(l.host)))) {
    add('warn', `p2p listens on ${p2p.listen.join(', ')}: other members' nodes cannot reach it`, 'hashmesh init --p2p-port 4001 --announce /dns4/YOUR.HOST/tcp/4001 … on a new directory, or set p2p.listen and p2p.announce in config.json, and open the port to the other members')
  } else {
    add('ok', `p2p listens on ${p2p.listen.join(', ')}${p2p.announce.length ? `, announced as ${p2p.announce.join(', ')}` : ''}`)
  }
  if (!running) {
    for (const l of listen) {
      if (!l.port || !l.host || !/^[0-9.:]+$/.test(l.host)) continue
      const err = await canBind(l.host, l.port)
      if (err) add('fail', `cannot listen on ${l.addr}: ${err.code}`, err.code === 'EADDRINUSE' ? `another process uses port ${l.port}: stop it or choose another port` : `use an address of this host in p2p.listen`)
    }
  }
  if (p2p.bootstrap.length === 0) add('warn', 'no bootstrap peers: this node waits for others to dial it', 'nothing to do if other members bootstrap from this node (they gave its card to "hashmesh init --bootstrap"; the first founder has nobody to bootstrap from); else list another member\'s card address under p2p.bootstrap in DIR/config.json')

  // 4. API: free port, or our node answers
  const { host, port } = config.api
  if (running) {
    const answered = await fetch(`${running.apiUrl}/v1/health`, { signal: AbortSignal.timeout(3_000) }).then((r) => r.ok, () => false)
    if (answered) add('ok', `a node runs on this directory (pid ${running.pid}) and answers at ${running.apiUrl}`)
    else add('fail', `process ${running.pid} holds this directory but ${running.apiUrl} does not answer`, `check its log; restart it with "hashmesh start --data ${dataDir}"`)
  } else {
    const err = await canBind(host, port)
    if (err) add('fail', `API port ${host}:${port} is taken (${err.code}) and no node of this directory runs`, `stop what listens there, or set api.port in ${join(dir, 'config.json')} (or start with --api-port N)`)
    else add('ok', `API port ${host}:${port} is free; no node runs on this directory yet`)
  }

  // 5. roster: installed, and lists us
  const { openClient } = await import('../node-client.js')
  const client = await openClient(dir, { preferRemote: true })
  try {
    const { versions } = await client.roster()
    const current = versions.at(-1)
    if (!current) {
      add('fail', 'no roster installed: p2p stays off', `hashmesh roster install GENESIS.json [LATER.json…] --data ${dataDir} (the files the founders signed; a member can export the chain with "hashmesh roster show --all --json")`)
    } else {
      const me = current.document.members.find((m) => m.key === identity.memberKey)
      if (!me) add('fail', `roster serial ${current.document.serial} does not list this member (${identity.memberKey.slice(0, 12)}…): members refuse this node`, `send ${join(dir, 'member-card.json')} to a member, who proposes a roster adding you; install it when a majority signed`)
      else if (!me.peers.includes(identity.peerId)) add('fail', `roster serial ${current.document.serial} lists ${me.name} without this node's peer id ${identity.peerId}`, `ask a member for "hashmesh roster propose --set-peers ${identity.memberKey}=${identity.peerId}"`)
      else add('ok', `roster serial ${current.document.serial} (${current.document.federation}) lists this node as ${me.name}, with ${current.document.members.length - 1} other members`)

      // 6. peers, when a node runs
      if (running && me) {
        const status = await client.status()
        if (!status.network) add('fail', 'the running node has p2p off (it started before the roster was installed)', 'restart it')
        else {
          const connected = new Set(status.network.peerList.map((p) => p.peerId))
          for (const m of current.document.members) {
            if (m.key === identity.memberKey) continue
            const up = m.peers.some((p) => connected.has(p))
            add(up ? 'ok' : 'warn', `${m.name}: ${up ? 'connected' : 'not connected'}`, up ? undefined : `check that ${m.name}'s node runs and that its port is open to you (or add its card address to p2p.bootstrap)`)
          }
          await checkClock(client, identity.memberKey, add)
        }
      }
    }
  } finally {
    await client.close()
  }
}

/** Clock skew shows as other members' newest records dated in this host's future (one request per feed). */
const CLOCK_SKEW_MS = 5 * 60_000
async function checkClock(client: Awaited<ReturnType<typeof import('../node-client.js')['openClient']>>, self: string, add: (v: Verdict, what: string, fix?: string) => void): Promise<void> {
  const now = Date.now()
  let ahead = 0
  for (const head of (await client.feeds()).filter((f) => f.feed !== self)) {
    const { record } = await client.record(head.id)
    ahead = Math.max(ahead, record.timestamp - now)
  }
  if (ahead > CLOCK_SKEW_MS) add('warn', `other members' newest records are dated up to ${Math.round(ahead / 60_000)} min ahead of this host's clock`, 'check this host\'s clock (NTP); if it is right, a member\'s clock is ahead')
  else add('ok', 'clock agrees with the members\' newest records (none dated in the future)')
}

export function register(program: Command): void {
  program
    .command('doctor')
    .description('check a data directory (key permissions, config, roster, ports, peers) and print what to fix; exit 1 if anything is wrong')
    .addOption(dataOption())
    .action(async (opts: { data: string }) => {
      const findings: Finding[] = []
      await diagnose(opts.data, findings)
      for (const f of findings) {
        printLine(`${f.verdict === 'ok' ? 'ok  ' : f.verdict === 'warn' ? 'warn' : 'FAIL'}  ${f.what}`)
        if (f.fix) printLine(`      fix: ${f.fix}`)
      }
      const failed = findings.filter((f) => f.verdict === 'fail').length
      printLine(failed === 0 ? 'no problem found' : `${failed} problem${failed === 1 ? '' : 's'} to fix`)
      if (failed > 0) process.exitCode = 1
    })
}

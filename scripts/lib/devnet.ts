/**
 * A local federation of member nodes running as separate processes on 127.0.0.1 (each `hashmesh start`),
 * with a freshly generated and signed roster. Used by scripts/devnet.ts, the demo and bench-sync.
 */
import '../../src/shim.js'
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync, rmSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLocalFederation, type LocalMember } from '../../src/node/local-federation.js'
import { CLI_ENTRY, cliEnv } from './cli-entry.js'


export interface DevnetMember extends LocalMember {
  token: string
  apiUrl: string
  process?: ChildProcess
  log: string[]
}

export interface Devnet {
  baseDir: string
  federation: string
  members: DevnetMember[]
  member(name: string): DevnetMember
  start(name: string): Promise<DevnetMember>
  stop(name: string): Promise<void>
  stopAll(): Promise<void>
  /** Stops every node and deletes the data unless `keep`. */
  close(): Promise<void>
}

export interface DevnetOptions { names: string[]; baseDir?: string; keep?: boolean; syncIntervalMs?: number; logLevel?: string; config?: Record<string, unknown> }

export async function createDevnet(options: DevnetOptions): Promise<Devnet> {
  const baseDir = options.baseDir ?? mkdtempSync(join(tmpdir(), 'hashmesh-devnet-'))
  const fed = await createLocalFederation(baseDir, options.names, { syncIntervalMs: options.syncIntervalMs ?? 2000, config: options.config })
  const members: DevnetMember[] = fed.members.map((m) => ({
    ...m,
    token: readFileSync(join(m.dataDir, 'api.token'), 'utf8').trim(),
    apiUrl: `http://127.0.0.1:${m.apiPort}`,
    log: [],
  }))
  const member = (name: string) => {
    const m = members.find((x) => x.name === name)
    if (!m) throw new Error(`no member ${name}`)
    return m
  }
  // Whatever way this process ends (a node failing to start, an uncaught error), no member outlives it.
  process.once('exit', () => {
    for (const m of members) m.process?.kill('SIGKILL')
  })
  const devnet: Devnet = {
    baseDir,
    federation: fed.federation,
    members,
    member,
    async start(name) {
      const m = member(name)
      if (m.process) return m
      const child = spawn(process.execPath, [...nodeArgsFor(m.name), ...CLI_ENTRY, 'start', '--data', m.dataDir, '--log-level', options.logLevel ?? 'warn'], { env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
      m.process = child
      child.stderr!.on('data', (d: Buffer) => m.log.push(d.toString()))
      await new Promise<void>((resolve, reject) => {
        let out = ''
        const onData = (d: Buffer) => {
          out += d.toString()
          if (out.includes('"apiUrl"')) {
            child.stdout!.off('data', onData)
            resolve()
          }
        }
        child.stdout!.on('data', onData)
        child.once('exit', (code) => reject(new Error(`${name} exited with ${code} before starting: ${m.log.join('').slice(-2000)}`)))
      })
      child.removeAllListeners('exit')
      return m
    },
    async stop(name) {
      const m = member(name)
      const child = m.process
      if (!child) return
      m.process = undefined
      if (child.exitCode !== null) return
      const exited = new Promise((r) => child.once('exit', r))
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    },
    async stopAll() {
      await Promise.all(members.map((m) => devnet.stop(m.name)))
    },
    async close() {
      await devnet.stopAll()
      if (!options.keep) rmSync(baseDir, { recursive: true, force: true })
    },
  }
  return devnet
}

/** A small client for one member's HTTP API. */
export function apiClient(m: { apiUrl: string; token: string }) {
  const call = async <T>(method: string, path: string, body?: unknown, raw?: { bytes: Uint8Array; type: string }): Promise<T> => {
    const headers: Record<string, string> = { authorization: `Bearer ${m.token}` }
    if (raw) headers['content-type'] = raw.type
    else if (body !== undefined) headers['content-type'] = 'application/json'
    const response = await fetch(m.apiUrl + path, { method, headers, body: raw ? Buffer.from(raw.bytes) : body !== undefined ? JSON.stringify(body) : undefined })
    const json = (await response.json()) as T & { error?: { code: string; message: string } }
    if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${json.error?.code}: ${json.error?.message}`)
    return json
  }
  return {
    get: <T>(path: string) => call<T>('GET', path),
    post: <T>(path: string, body: unknown) => call<T>('POST', path, body),
    postBytes: <T>(path: string, bytes: Uint8Array, type: string) => call<T>('POST', path, undefined, { bytes, type }),
  }
}

/** Extra node flags for one member's process (profiling): DEVNET_NODE_ARGS, limited to DEVNET_NODE_ARGS_FOR when set. */
function nodeArgsFor(name: string): string[] {
  const only = process.env.DEVNET_NODE_ARGS_FOR
  if (only !== undefined && only !== name) return []
  return process.env.DEVNET_NODE_ARGS?.split(' ').filter(Boolean) ?? []
}

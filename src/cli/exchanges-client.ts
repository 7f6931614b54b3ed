/**
 * What `hashmesh exchange` needs of a node's exchanges, two ways: over the running node's /v1/exchanges
 * (loopback, bearer token) when one runs on the data directory, otherwise on the store, with the node
 * opened in this process (a fetch then runs here, through the same SSRF-safe client).
 */
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fail, ERROR_CODES, type ErrorCode } from '../errors.js'
import type { ExchangeConfig, ExchangeStatus } from '../exchange/types.js'
import { findRunningNode } from './running-node.js'

export interface ExchangeView { exchange: ExchangeConfig; status: ExchangeStatus }
export interface CreateInput { name: string; api: string; settings: Record<string, unknown>; enabled: boolean; intervalSeconds?: number }

export interface ExchangesClient {
  mode: 'remote' | 'local'
  list(): Promise<ExchangeView[]>
  get(name: string): Promise<ExchangeView>
  create(input: CreateInput): Promise<ExchangeView>
  remove(name: string): Promise<void>
  fetch(name: string): Promise<ExchangeView>
  setCredentials(api: string, credentials: Record<string, unknown>): Promise<boolean>
  close(): Promise<void>
}

const REQUEST_TIMEOUT_MS = 10 * 60_000 // a fetch answers when it is done

function remoteClient(baseUrl: string, token: string): ExchangesClient {
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    let response: Response
    try {
      response = await fetch(baseUrl + path, {
        method, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
    } catch (cause) {
      fail('NODE_UNREACHABLE', `cannot reach the node at ${baseUrl}: ${(cause as Error).message}`, { cause })
    }
    const text = await response.text()
    const json = text ? (JSON.parse(text) as unknown) : undefined
    if (!response.ok) {
      const error = (json as { error?: { code?: string; message?: string } } | undefined)?.error
      const code = (ERROR_CODES as readonly string[]).includes(error?.code ?? '') ? (error!.code as ErrorCode) : 'INTERNAL'
      fail(code, error?.message ?? `HTTP ${response.status} from ${path}`)
    }
    return json as T
  }
  const at = (name: string) => `/v1/exchanges/${encodeURIComponent(name)}`
  return {
    mode: 'remote',
    list: async () => (await call<{ exchanges: ExchangeView[] }>('GET', '/v1/exchanges')).exchanges,
    get: (name) => call('GET', at(name)),
    create: (input) => call('POST', '/v1/exchanges', input),
    remove: async (name) => void (await call('DELETE', at(name))),
    fetch: (name) => call('POST', `${at(name)}/fetch`),
    setCredentials: async (api, credentials) => (await call<{ hasCredentials: boolean }>('PUT', `/v1/exchanges/apis/${encodeURIComponent(api)}/credentials`, credentials)).hasCredentials,
    close: async () => undefined,
  }
}

async function localClient(dataDir: string): Promise<ExchangesClient> {
  const { HashmeshNode } = await import('../node/node.js')
  const { exchangesOf } = await import('../node/exchanges.js')
  const node = await HashmeshNode.open(dataDir)
  const manager = exchangesOf(node)
  const view = async (name: string): Promise<ExchangeView> => ({ exchange: await manager.get(name), status: await manager.status(name) })
  return {
    mode: 'local',
    list: async () => Promise.all((await manager.list()).map((c) => view(c.name))),
    get: view,
    create: async (input) => view((await manager.create(input)).name),
    remove: (name) => manager.remove(name),
    fetch: async (name) => ({ exchange: await manager.get(name), status: await manager.fetchNow(name) }),
    setCredentials: async (api, credentials) => {
      manager.setCredentials(api, credentials)
      return manager.apiInfo(api).hasAuthentication
    },
    close: () => node.close(),
  }
}

export async function exchangesClient(dataDir: string): Promise<ExchangesClient> {
  const running = findRunningNode(dataDir)
  if (running) return remoteClient(running.apiUrl, readFileSync(join(resolve(dataDir), 'api.token'), 'utf8').trim())
  return localClient(dataDir)
}

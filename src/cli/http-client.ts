/**
 * NodeApi over the running node's HTTP API (loopback, bearer token): what CLI commands use while a node
 * holds the data directory. Errors come back as the node's own codes; a call without a signal gets the
 * default time-out (node/abort.ts).
 */
import { fail, ERROR_CODES, type ErrorCode } from '../errors.js'
import { DEFAULT_TIMEOUTS, withDefaultTimeout, type AbortOptions } from '../node/abort.js'
import type {
  ContributionInput, ContributionResult, FeedPage, InstallRosterResult, MatchRequest, MatchResponse, MediaContributionResult, MediaMatchResponse, MediaQuery,
  NodeApi, PeerInfo, RecordView, RevokeRequest, RosterJson, RosterView, StatusView,
} from '../node/contract.js'
import type { MediaFingerprint } from '../node/media.js'
import type { EquivocationView } from '../node/status.js'
import type { OpinionBody } from '../record/types.js'
import type { FeedHead, ReceiveResult } from '../sync/types.js'
import { HttpBanksClient } from './http-banks-client.js'

interface Call { method: 'GET' | 'POST' | 'PATCH' | 'DELETE'; path: string; json?: unknown; bytes?: Uint8Array; timeoutMs?: number }

export class HttpNodeClient implements NodeApi {
  readonly mode = 'remote'
  readonly banks = new HttpBanksClient((call, options) => this.call(call, options))
  constructor(private readonly baseUrl: string, private readonly token: string) {}

  private async call<T>(call: Call, options: AbortOptions = {}): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` }
    let body: BodyInit | undefined
    if (call.bytes) {
      headers['content-type'] = 'application/octet-stream'
      body = Buffer.from(call.bytes) as unknown as BodyInit
    } else if (call.json !== undefined) {
      headers['content-type'] = 'application/json'
      body = JSON.stringify(call.json)
    }
    const signal = withDefaultTimeout(options, call.timeoutMs ?? DEFAULT_TIMEOUTS.requestMs)
    let response: Response
    try {
      response = await fetch(this.baseUrl + call.path, { method: call.method, headers, body, signal })
    } catch (cause) {
      if (signal.aborted) fail('TIMEOUT', `no answer from the node at ${this.baseUrl} for ${call.path}`, { cause })
      fail('NODE_UNREACHABLE', `cannot reach the node at ${this.baseUrl}: ${(cause as Error).message}`, { cause })
    }
    const text = await response.text()
    const json = parseJson(text)
    if (!response.ok) {
      const error = (json as { error?: { code?: string; message?: string } } | undefined)?.error
      const code = (ERROR_CODES as readonly string[]).includes(error?.code ?? '') ? (error!.code as ErrorCode) : 'INTERNAL'
      fail(code, error?.message ?? `HTTP ${response.status} from ${call.path}`)
    }
    return json as T
  }

  status(options?: AbortOptions) { return this.call<StatusView>({ method: 'GET', path: '/v1/status' }, options) }
  async peers(options?: AbortOptions) { return (await this.call<{ peers: PeerInfo[] }>({ method: 'GET', path: '/v1/peers' }, options)).peers }
  contribute(input: ContributionInput, options?: AbortOptions) {
    return this.call<ContributionResult>({ method: 'POST', path: '/v1/contributions', json: input }, options)
  }
  revoke(id: string, request: RevokeRequest, options?: AbortOptions) {
    return this.call<RecordView>({ method: 'POST', path: `/v1/contributions/${encodeURIComponent(id)}/revoke`, json: request }, options)
  }
  opinion(body: OpinionBody, options?: AbortOptions) { return this.call<RecordView>({ method: 'POST', path: '/v1/opinions', json: body }, options) }
  record(id: string, options?: AbortOptions) { return this.call<RecordView>({ method: 'GET', path: `/v1/records/${encodeURIComponent(id)}` }, options) }
  async feeds(options?: AbortOptions) { return (await this.call<{ feeds: FeedHead[] }>({ method: 'GET', path: '/v1/feeds' }, options)).feeds }
  feed(feed: string, page: { from?: number; limit?: number }, options?: AbortOptions) {
    const query = new URLSearchParams({ from: String(page.from ?? 1), limit: String(page.limit ?? 100) })
    return this.call<FeedPage>({ method: 'GET', path: `/v1/feeds/${encodeURIComponent(feed)}?${query}` }, options)
  }
  async importRecords(recordsHex: string[], options?: AbortOptions) {
    return (await this.call<{ results: ReceiveResult[] }>({ method: 'POST', path: '/v1/records', json: { records: recordsHex } }, options)).results
  }
  match(request: MatchRequest, options?: AbortOptions) { return this.call<MatchResponse>({ method: 'POST', path: '/v1/match', json: request }, options) }
  hashMedia(bytes: Uint8Array, query: MediaQuery, options?: AbortOptions) {
    return this.call<MediaFingerprint>({ method: 'POST', path: withQuery('/v1/hash', query), bytes, timeoutMs: DEFAULT_TIMEOUTS.mediaMs }, options)
  }
  matchMedia(bytes: Uint8Array, query: MediaQuery, options?: AbortOptions) {
    return this.call<MediaMatchResponse>({ method: 'POST', path: withQuery('/v1/match', query), bytes, timeoutMs: DEFAULT_TIMEOUTS.mediaMs }, options)
  }
  contributeMedia(bytes: Uint8Array, query: MediaQuery, options?: AbortOptions) {
    return this.call<MediaContributionResult>({ method: 'POST', path: withQuery('/v1/contributions', query), bytes, timeoutMs: DEFAULT_TIMEOUTS.mediaMs }, options)
  }
  roster(options?: AbortOptions) { return this.call<RosterView>({ method: 'GET', path: '/v1/roster' }, options) }
  installRoster(roster: RosterJson, options?: AbortOptions) { return this.call<InstallRosterResult>({ method: 'POST', path: '/v1/roster', json: roster }, options) }
  async equivocations(options?: AbortOptions) {
    return (await this.call<{ equivocations: EquivocationView[] }>({ method: 'GET', path: '/v1/equivocations' }, options)).equivocations
  }
  async close() {}
}

function withQuery(path: string, query: MediaQuery): string {
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value))
  const qs = params.toString()
  return qs ? `${path}?${qs}` : path
}

function parseJson(text: string): unknown {
  if (!text) return undefined
  try {
    return JSON.parse(text)
  } catch (err) {
    if (err instanceof SyntaxError) return undefined // a proxy's HTML error page: the status code speaks
    throw err
  }
}

/** NodeClient over the running node's HTTP API (loopback, bearer token). */
import { fail, ERROR_CODES, type ErrorCode } from '../errors.js'
import type { OpinionBody, RevokeReason } from '../record/types.js'
import type { ContributionResult } from '../node/node.js'
import type { RecordView } from '../node/views.js'
import type { ContributionInput } from '../node/contribute.js'
import type { FeedHead, ReceiveResult } from '../sync/types.js'
import type { NodeClient } from './node-client.js'

export class RemoteClient implements NodeClient {
  readonly mode = 'remote'
  constructor(private readonly baseUrl: string, private readonly token: string) {}

  private async call<T>(method: string, path: string, body?: unknown, raw?: { bytes: Uint8Array; contentType: string }): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` }
    let payload: BodyInit | undefined
    if (raw) {
      headers['content-type'] = raw.contentType
      payload = Buffer.from(raw.bytes) as unknown as BodyInit
    } else if (body !== undefined) {
      headers['content-type'] = 'application/json'
      payload = JSON.stringify(body)
    }
    let response: Response
    try {
      response = await fetch(this.baseUrl + path, { method, headers, body: payload })
    } catch (cause) {
      fail('NODE_UNREACHABLE', `cannot reach the node at ${this.baseUrl}: ${(cause as Error).message}`, { cause })
    }
    const text = await response.text()
    let json: unknown
    try {
      json = text ? JSON.parse(text) : undefined
    } catch {
      json = undefined
    }
    if (!response.ok) {
      const error = (json as { error?: { code?: string; message?: string } } | undefined)?.error
      const code = (ERROR_CODES as readonly string[]).includes(error?.code ?? '') ? (error!.code as ErrorCode) : 'INTERNAL'
      fail(code, error?.message ?? `HTTP ${response.status} from ${path}`)
    }
    return json as T
  }

  /** Any other route of the node's API (roster, peers). */
  get<T>(path: string) { return this.call<T>('GET', path) }
  post<T>(path: string, body: unknown) { return this.call<T>('POST', path, body) }

  status() { return this.call<Record<string, unknown>>('GET', '/v1/status') }
  contribute(input: ContributionInput) { return this.call<ContributionResult>('POST', '/v1/contributions', input) }
  revoke(id: string, options: { signal?: number; reason: RevokeReason }) {
    return this.call<RecordView>('POST', `/v1/contributions/${encodeURIComponent(id)}/revoke`, options)
  }
  opinion(body: OpinionBody) { return this.call<RecordView>('POST', '/v1/opinions', body) }
  async feeds() { return (await this.call<{ feeds: FeedHead[] }>('GET', '/v1/feeds')).feeds }
  async feedRecords(feed: string, fromSeq: number, limit: number) {
    return (await this.call<{ records: RecordView[] }>('GET', `/v1/feeds/${feed}?from=${fromSeq}&limit=${limit}`)).records
  }
  getRecord(id: string) { return this.call<RecordView>('GET', `/v1/records/${encodeURIComponent(id)}`) }
  async importRecords(bytesHex: string[]) {
    return (await this.call<{ results: ReceiveResult[] }>('POST', '/v1/records', { records: bytesHex })).results
  }
  match(request: Record<string, unknown>) { return this.call<unknown>('POST', '/v1/match', request) }
  matchBytes(bytes: Uint8Array, query: Record<string, string>) {
    const qs = new URLSearchParams(query).toString()
    return this.call<unknown>('POST', `/v1/match${qs ? '?' + qs : ''}`, undefined, { bytes, contentType: 'application/octet-stream' })
  }
  async close() {}
}


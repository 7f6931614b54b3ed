/**
 * The local controls (switches, flood quarantine) for CLI commands: the running node over HTTP when one
 * holds the data directory (the switch is then in force for its next match), otherwise the store opened
 * in process (the node applies it when it starts).
 */
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fail, ERROR_CODES, type ErrorCode } from '../errors.js'
import { DEFAULT_TIMEOUTS, withDefaultTimeout, type AbortOptions } from '../node/abort.js'
import type { LocalControlsApi, QuarantineView, QuarantinedView, ReleaseRequest, SwitchRequest, SwitchView } from '../node/local-controls-service.js'
import type { DeclareRequest, IncidentsApi, IncidentView, UpdateRequest } from '../node/incidents-service.js'
import { findRunningNode } from './running-node.js'

export type LocalControlsClient = LocalControlsApi & IncidentsApi & { mode: 'local' | 'remote'; close(): Promise<void> }

class HttpLocalControls implements LocalControlsClient {
  readonly mode = 'remote'
  constructor(private readonly baseUrl: string, private readonly token: string) {}

  private async call<T>(method: 'GET' | 'POST' | 'DELETE', path: string, json: unknown, options: AbortOptions = {}): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` }
    if (json !== undefined) headers['content-type'] = 'application/json'
    const signal = withDefaultTimeout(options, DEFAULT_TIMEOUTS.requestMs)
    let response: Response
    try {
      response = await fetch(this.baseUrl + path, { method, headers, body: json === undefined ? undefined : JSON.stringify(json), signal })
    } catch (cause) {
      if (signal.aborted) fail('TIMEOUT', `no answer from the node at ${this.baseUrl} for ${path}`, { cause })
      fail('NODE_UNREACHABLE', `cannot reach the node at ${this.baseUrl}: ${(cause as Error).message}`, { cause })
    }
    const text = await response.text()
    let body: unknown
    try {
      body = text ? JSON.parse(text) : undefined
    } catch (err) {
      if (!(err instanceof SyntaxError)) throw err
    }
    if (!response.ok) {
      const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error
      const code = (ERROR_CODES as readonly string[]).includes(error?.code ?? '') ? (error!.code as ErrorCode) : 'INTERNAL'
      fail(code, error?.message ?? `HTTP ${response.status} from ${path}`)
    }
    return body as T
  }

  async switches(options?: AbortOptions) { return (await this.call<{ switches: SwitchView[] }>('GET', '/v1/switches', undefined, options)).switches }
  setSwitch(request: SwitchRequest, options?: AbortOptions) { return this.call<SwitchView>('POST', '/v1/switches', request, options) }
  resumeSwitch(kind: string, target: string, options?: AbortOptions) {
    return this.call<SwitchView>('DELETE', `/v1/switches/${encodeURIComponent(kind)}/${encodeURIComponent(target)}`, undefined, options)
  }
  quarantine(options?: AbortOptions) { return this.call<QuarantineView>('GET', '/v1/quarantine', undefined, options) }
  releaseQuarantine(request: ReleaseRequest, options?: AbortOptions) { return this.call<{ released: QuarantinedView[] }>('POST', '/v1/quarantine/release', request, options) }
  async incidents(query: { all?: boolean } = {}, options?: AbortOptions) {
    return (await this.call<{ incidents: IncidentView[] }>('GET', `/v1/incidents${query.all ? '?all=true' : ''}`, undefined, options)).incidents
  }
  incident(id: string, options?: AbortOptions) { return this.call<IncidentView>('GET', `/v1/incidents/${encodeURIComponent(id)}`, undefined, options) }
  declareIncident(request: DeclareRequest, options?: AbortOptions) { return this.call<IncidentView>('POST', '/v1/incidents', request, options) }
  updateIncident(id: string, request: UpdateRequest, options?: AbortOptions) { return this.call<IncidentView>('POST', `/v1/incidents/${encodeURIComponent(id)}/update`, request, options) }
  closeIncident(id: string, request: { description?: string }, options?: AbortOptions) { return this.call<IncidentView>('POST', `/v1/incidents/${encodeURIComponent(id)}/close`, request, options) }
  async close() {}
}

export async function connectLocalControls(dataDir: string): Promise<LocalControlsClient> {
  const running = findRunningNode(dataDir)
  if (running) return new HttpLocalControls(running.apiUrl, readFileSync(join(resolve(dataDir), 'api.token'), 'utf8').trim())
  const [{ HashmeshNode }, { LocalControlsService }, { IncidentsService }] = await Promise.all([import('../node/node.js'), import('../node/local-controls-service.js'), import('../node/incidents-service.js')])
  const node = await HashmeshNode.open(dataDir)
  const controls = new LocalControlsService(node)
  const incidents = new IncidentsService(node)
  return {
    mode: 'local',
    close: () => node.close(),
    switches: () => controls.switches(),
    setSwitch: (r) => controls.setSwitch(r),
    resumeSwitch: (k, t) => controls.resumeSwitch(k, t),
    quarantine: () => controls.quarantine(),
    releaseQuarantine: (r) => controls.releaseQuarantine(r),
    incidents: (q) => incidents.incidents(q),
    incident: (id) => incidents.incident(id),
    declareIncident: (r) => incidents.declareIncident(r),
    updateIncident: (id, r) => incidents.updateIncident(id, r),
    closeIncident: (id, r) => incidents.closeIncident(id, r),
  }
}

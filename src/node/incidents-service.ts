/**
 * Incident use cases (issue 18): declare, update and close an incident (signed notices, node/incidents.ts),
 * and list incidents with their contributions and when each reached this node. One contract for the HTTP
 * routes (api/incident-routes.ts) and the CLI.
 */
import { randomBytes } from 'node:crypto'
import { fail } from '../errors.js'
import { INCIDENT_LIMITS, INCIDENT_SEVERITIES, signIncidentNotice, type IncidentSeverity, type IncidentNotice } from '../record/incident.js'
import { checkAborted, type AbortOptions } from './abort.js'
import type { IncidentState } from './incidents.js'
import type { HashmeshNode } from './node.js'

/** An incident lasts this long when its declaration gives no expiry. */
export const DEFAULT_INCIDENT_MS = 24 * 3600_000

export interface DeclareRequest { title: string; severity: string; description?: string; reference?: string; start?: number; expiry?: number }
export type UpdateRequest = Partial<DeclareRequest>

export interface IncidentView {
  id: string
  state: 'open' | 'closed' | 'expired'
  title: string
  severity: IncidentSeverity
  start: number
  expiry: number
  description: string
  reference: string | null
  declaredBy: { key: string; name: string | null }
  revision: number
  /** The notices this node has had (declare, updates, close), with when each arrived here. */
  notices: IncidentState['history']
  /** Contributions naming the incident, with when each reached this node and how long after its signing. */
  contributions: Array<{
    record: string; member: { key: string; name: string | null }; seq: number; signals: number; signedAt: number; receivedHere: number; latencyMs: number
    /**
     * Members known to hold it, earliest first: its author (since signing), this node (since it arrived) and
     * members whose peers reported it in a sync session (`peer-sync`: held by then at the latest).
     */
    heldBy: Array<{ member: { key: string; name: string | null }; at: number; how: 'signed' | 'received' | 'peer-sync' }>
  }>
}

export interface IncidentsApi {
  incidents(query?: { all?: boolean }, options?: AbortOptions): Promise<IncidentView[]>
  incident(id: string, options?: AbortOptions): Promise<IncidentView>
  declareIncident(request: DeclareRequest, options?: AbortOptions): Promise<IncidentView>
  updateIncident(id: string, request: UpdateRequest, options?: AbortOptions): Promise<IncidentView>
  closeIncident(id: string, request: { description?: string }, options?: AbortOptions): Promise<IncidentView>
}

const INCIDENT_ID = /^[0-9a-f]{32}$/

export class IncidentsService implements IncidentsApi {
  constructor(readonly node: HashmeshNode) {}

  private view(s: IncidentState, now = Date.now()): IncidentView {
    const n = s.notice
    const name = (key: string) => this.node.memberName(key) ?? null
    return {
      id: n.incident,
      state: this.node.incidents.stateOf(s, now),
      title: n.title,
      severity: n.severity,
      start: n.start,
      expiry: n.expiry,
      description: n.description,
      reference: n.reference ?? null,
      declaredBy: { key: n.author, name: name(n.author) },
      revision: n.revision,
      notices: s.history,
      contributions: [...s.contributions.values()]
        .sort((a, b) => a.receivedAt - b.receivedAt)
        .map((c) => ({
          record: c.record, member: { key: c.author, name: name(c.author) }, seq: c.seq, signals: c.signals, signedAt: c.timestamp, receivedHere: c.receivedAt, latencyMs: c.receivedAt - c.timestamp,
          heldBy: this.node.incidentPropagation.holders(c, this.node.memberKey).map((h) => ({ member: { key: h.member, name: name(h.member) }, at: h.at, how: h.how })),
        })),
    }
  }

  async incidents(query: { all?: boolean } = {}): Promise<IncidentView[]> {
    const now = Date.now()
    return this.node.incidents.all().filter((s) => query.all || this.node.incidents.stateOf(s, now) === 'open').map((s) => this.view(s, now))
  }

  async incident(id: string): Promise<IncidentView> {
    return this.view(this.known(id))
  }

  private known(id: string): IncidentState {
    const key = typeof id === 'string' ? id.toLowerCase() : ''
    if (!INCIDENT_ID.test(key)) fail('BAD_REQUEST', 'an incident id is 32 hex digits')
    const s = this.node.incidents.get(key)
    if (!s) fail('NOT_FOUND', `no incident ${key}`)
    return s
  }

  async declareIncident(request: DeclareRequest, options: AbortOptions = {}): Promise<IncidentView> {
    checkAborted(options.signal)
    const now = Date.now()
    const start = request.start ?? now
    return this.sign({
      action: 'declare', incident: randomBytes(16).toString('hex'), revision: 1, timestamp: now,
      title: request.title, severity: severity(request.severity), start, expiry: request.expiry ?? start + DEFAULT_INCIDENT_MS,
      description: request.description ?? '', ...(request.reference ? { reference: request.reference } : {}),
    })
  }

  async updateIncident(id: string, request: UpdateRequest, options: AbortOptions = {}): Promise<IncidentView> {
    checkAborted(options.signal)
    const n = this.own(id).notice
    const reference = request.reference ?? n.reference
    return this.sign({
      action: 'update', incident: n.incident, revision: n.revision + 1, timestamp: Date.now(),
      title: request.title ?? n.title, severity: request.severity === undefined ? n.severity : severity(request.severity),
      start: request.start ?? n.start, expiry: request.expiry ?? n.expiry, description: request.description ?? n.description,
      ...(reference ? { reference } : {}),
    })
  }

  async closeIncident(id: string, request: { description?: string } = {}, options: AbortOptions = {}): Promise<IncidentView> {
    checkAborted(options.signal)
    const n = this.own(id).notice
    return this.sign({ ...withoutSignature(n), action: 'close', revision: n.revision + 1, timestamp: Date.now(), description: request.description ?? n.description })
  }

  private own(id: string): IncidentState {
    const s = this.known(id)
    if (s.notice.author !== this.node.memberKey) fail('REVOKE_NOT_AUTHOR', `incident ${s.notice.incident} was declared by another member: only it may update or close it`)
    if (s.notice.action === 'close') fail('RECORD_INVALID', `incident ${s.notice.incident} is closed`)
    return s
  }

  private async sign(notice: Omit<IncidentNotice, 'version' | 'author'>): Promise<IncidentView> {
    if (typeof notice.title !== 'string' || notice.title.length === 0 || notice.title.length > INCIDENT_LIMITS.maxTitleLength) fail('BAD_REQUEST', `title must be 1 to ${INCIDENT_LIMITS.maxTitleLength} characters`)
    const { bytes } = signIncidentNotice(notice, this.node.signer) // field bounds: RECORD_INVALID
    const result = await this.node.incidents.receive(bytes) // the same checks as a peer's notice; then published
    if (result.verdict !== 'accepted') fail((result.code as never) ?? 'RECORD_INVALID', result.message ?? `incident notice ${result.verdict}`)
    return this.view(this.node.incidents.get(notice.incident)!)
  }
}

function severity(value: unknown): IncidentSeverity {
  if (!INCIDENT_SEVERITIES.includes(value as IncidentSeverity)) fail('BAD_REQUEST', `severity must be one of ${INCIDENT_SEVERITIES.join(', ')}`)
  return value as IncidentSeverity
}

function withoutSignature(n: IncidentNotice & { signature?: string; id?: string }): Omit<IncidentNotice, 'version' | 'author'> {
  const { version: _v, author: _a, signature: _s, id: _i, ...rest } = n
  return rest
}

/**
 * Incident notices (docs/protocol.md §9): a member declares a crisis (a live-streamed attack), updates it
 * and closes it, each step a signed object of its own. Pure: encoding, bounded canonical decoding, signing
 * and verification; which notices a node honours is node/incidents.ts.
 *
 *   wire    = { version: 1, action: "declare" | "update" | "close", incident: bytes(16), author: bytes(32),
 *               revision: uint ≥ 1, timestamp, title: text ≤ 200, severity: "low" | "medium" | "high" | "critical",
 *               start: uint, expiry: uint, description: text ≤ 4096, reference?: text ≤ 512, signature: bytes(64) }
 *   signing = utf8(INCIDENT_SIGNING_DOMAIN) || dagCbor(wire without `signature`)
 *   id      = SHA-256(signing)
 *
 * Notices are not feed records: they are not chained by seq/prev and never enter a member's feed, so a
 * node that predates them (which refuses unknown record kinds and counts them against the relay) never
 * receives one: they travel only on the incidents topic and protocol, which such a node does not speak.
 * Contributions name an incident with the label `incident:<incident id hex>` (an ordinary label, valid
 * for every node).
 */
import * as dagCbor from '@ipld/dag-cbor'
import { fail } from '../errors.js'
import { decodeCanonical } from './canonical-decode.js'
import { sha256Hex, toHex, verifySignature, type Signer } from './crypto.js'
import { hexValue, isWireMap } from './body-wire.js'

export const INCIDENT_FORMAT_VERSION = 1
/** Domain separation for incident notices (never reused for records or rosters). */
export const INCIDENT_SIGNING_DOMAIN = 'hashmesh/incident/v1\n'
export const INCIDENT_ACTIONS = ['declare', 'update', 'close'] as const
export type IncidentAction = (typeof INCIDENT_ACTIONS)[number]
export const INCIDENT_SEVERITIES = ['low', 'medium', 'high', 'critical'] as const
export type IncidentSeverity = (typeof INCIDENT_SEVERITIES)[number]
/** The label a contribution carries to name an incident: `incident:<32 hex digits>`. */
export const INCIDENT_LABEL_NAMESPACE = 'incident'

export const INCIDENT_LIMITS = {
  maxBytes: 8 * 1024,
  maxTitleLength: 200,
  maxDescriptionLength: 4096,
  maxReferenceLength: 512,
  /** An incident lasts at most this long from its start (a crisis is days, not years). */
  maxDurationMs: 30 * 24 * 3600_000,
  maxRevision: 1_000_000,
} as const

const KEYS = ['version', 'action', 'incident', 'author', 'revision', 'timestamp', 'title', 'severity', 'start', 'expiry', 'description', 'reference', 'signature']
const MAX_TIME = 2 ** 47
const DOMAIN_BYTES = new TextEncoder().encode(INCIDENT_SIGNING_DOMAIN)

export interface IncidentNotice {
  version: number
  action: IncidentAction
  /** 16 bytes, hex: chosen by the declarer, the same on every notice of one incident. */
  incident: string
  author: string
  /** 1 for the declaration; each update or close of the incident increases it. */
  revision: number
  timestamp: number
  title: string
  severity: IncidentSeverity
  start: number
  expiry: number
  description: string
  reference?: string
}

export type SignedIncidentNotice = IncidentNotice & { signature: string; id: string }
export interface EncodedIncidentNotice { notice: SignedIncidentNotice; bytes: Uint8Array }

function toWire(n: IncidentNotice): Record<string, unknown> {
  checkFields(n)
  return {
    version: n.version,
    action: n.action,
    incident: hexValue(n.incident, 16, 'incident'),
    author: hexValue(n.author, 32, 'author'),
    revision: n.revision,
    timestamp: n.timestamp,
    title: n.title,
    severity: n.severity,
    start: n.start,
    expiry: n.expiry,
    description: n.description,
    ...(n.reference !== undefined ? { reference: n.reference } : {}),
  }
}

function signingOf(unsignedWire: Record<string, unknown>): Uint8Array {
  const encoded = dagCbor.encode(unsignedWire)
  const out = new Uint8Array(DOMAIN_BYTES.length + encoded.length)
  out.set(DOMAIN_BYTES)
  out.set(encoded, DOMAIN_BYTES.length)
  return out
}

/** Signs a notice by `signer` (its author). */
export function signIncidentNotice(n: Omit<IncidentNotice, 'version' | 'author'>, signer: Signer): EncodedIncidentNotice {
  const notice: IncidentNotice = { version: INCIDENT_FORMAT_VERSION, author: signer.publicKeyHex, ...n }
  const wire = toWire(notice)
  const signing = signingOf(wire)
  const signature = signer.sign(signing)
  const bytes = dagCbor.encode({ ...wire, signature })
  if (bytes.length > INCIDENT_LIMITS.maxBytes) fail('RECORD_TOO_LARGE', `incident notice is ${bytes.length} bytes (limit ${INCIDENT_LIMITS.maxBytes})`)
  return { notice: { ...notice, signature: toHex(signature), id: sha256Hex(signing) }, bytes }
}

/** Bounded canonical decode and signature check. Throws RECORD_DECODE / RECORD_INVALID / RECORD_VERSION / SIGNATURE_INVALID. */
export function decodeIncidentNotice(bytes: Uint8Array): EncodedIncidentNotice {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) fail('RECORD_DECODE', 'incident notice is empty')
  if (bytes.length > INCIDENT_LIMITS.maxBytes) fail('RECORD_TOO_LARGE', `incident notice is ${bytes.length} bytes (limit ${INCIDENT_LIMITS.maxBytes})`)
  let wire: unknown
  try {
    wire = decodeCanonical(bytes)
  } catch (cause) {
    fail('RECORD_DECODE', `incident notice is not canonical dag-cbor: ${(cause as Error).message}`, { cause })
  }
  if (!isWireMap(wire)) fail('RECORD_DECODE', 'incident notice must be a map')
  for (const k of Object.keys(wire)) if (!KEYS.includes(k)) fail('RECORD_INVALID', `unknown incident field "${k}"`)
  if (wire.version !== INCIDENT_FORMAT_VERSION) fail('RECORD_VERSION', `unsupported incident notice version ${String(wire.version)}`)
  const bytesField = (v: unknown, length: number, what: string): Uint8Array => {
    if (!(v instanceof Uint8Array) || v.length !== length) fail('RECORD_INVALID', `${what} must be ${length} bytes`)
    return v
  }
  const incident = bytesField(wire.incident, 16, 'incident')
  const author = bytesField(wire.author, 32, 'author')
  const signature = wire.signature
  if (!(signature instanceof Uint8Array) || signature.length !== 64) fail('SIGNATURE_INVALID', 'signature must be 64 bytes')
  const notice: IncidentNotice = {
    version: INCIDENT_FORMAT_VERSION,
    action: wire.action as IncidentAction,
    incident: toHex(incident),
    author: toHex(author),
    revision: wire.revision as number,
    timestamp: wire.timestamp as number,
    title: wire.title as string,
    severity: wire.severity as IncidentSeverity,
    start: wire.start as number,
    expiry: wire.expiry as number,
    description: wire.description as string,
    ...(wire.reference !== undefined ? { reference: wire.reference as string } : {}),
  }
  checkFields(notice)
  const { signature: _s, ...unsigned } = wire
  const signing = signingOf(unsigned)
  if (!verifySignature(signing, signature, author)) fail('SIGNATURE_INVALID', `signature of incident notice by ${notice.author.slice(0, 16)}… does not verify`)
  return { notice: { ...notice, signature: toHex(signature), id: sha256Hex(signing) }, bytes }
}

/** Field types and bounds (the format's own; whether an expiry is acceptable *now* is node/incidents.ts). */
function checkFields(n: IncidentNotice): void {
  if (!INCIDENT_ACTIONS.includes(n.action)) fail('RECORD_INVALID', `action must be one of ${INCIDENT_ACTIONS.join(', ')}`)
  if (!INCIDENT_SEVERITIES.includes(n.severity)) fail('RECORD_INVALID', `severity must be one of ${INCIDENT_SEVERITIES.join(', ')}`)
  const int = (v: unknown, min: number, max: number, what: string) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail('RECORD_INVALID', `${what} must be an integer in [${min}, ${max}]`)
  }
  int(n.revision, 1, INCIDENT_LIMITS.maxRevision, 'revision')
  int(n.timestamp, 0, MAX_TIME, 'timestamp')
  int(n.start, 0, MAX_TIME, 'start')
  int(n.expiry, 0, MAX_TIME, 'expiry')
  if ((n.action === 'declare') !== (n.revision === 1)) fail('RECORD_INVALID', 'revision is 1 exactly for the declaration')
  if (n.expiry <= n.start) fail('RECORD_INVALID', 'expiry must be after start')
  if (n.expiry - n.start > INCIDENT_LIMITS.maxDurationMs) fail('RECORD_INVALID', `an incident lasts at most ${INCIDENT_LIMITS.maxDurationMs / 86_400_000} days from its start`)
  const text = (v: unknown, max: number, what: string, min = 0) => {
    if (typeof v !== 'string' || v.length < min || v.length > max) fail('RECORD_INVALID', `${what} must be text of ${min} to ${max} characters`)
  }
  text(n.title, INCIDENT_LIMITS.maxTitleLength, 'title', 1)
  text(n.description, INCIDENT_LIMITS.maxDescriptionLength, 'description')
  if (n.reference !== undefined) text(n.reference, INCIDENT_LIMITS.maxReferenceLength, 'reference', 1)
}

/** The incident a contribution names (its `incident:` label), if any. */
export function incidentLabelOf(labels: readonly string[]): string | undefined {
  for (const label of labels) if (label.startsWith(`${INCIDENT_LABEL_NAMESPACE}:`)) return label.slice(INCIDENT_LABEL_NAMESPACE.length + 1)
  return undefined
}

/**
 * The roster: who is in the federation, signed by the members themselves (no central authority).
 *
 *   document  = { version: 1, federation, serial, prev: bytes(32) | null, members: [{ name, key: bytes(32), peers: [peerId] }], createdAt }
 *   signing   = utf8(ROSTER_SIGNING_DOMAIN) || dagCbor(document);   roster id = SHA-256(signing)
 *   signed    = { document, signatures: [{ key: bytes(32), signature: bytes(64) }] }
 *
 * Genesis (serial 1, prev null) must be signed by every member it lists. Version n + 1 must name version n's
 * id as prev and be signed by a strict majority of version n's members. Nodes pin the genesis id.
 */
import * as dagCbor from '@ipld/dag-cbor'
import { ROSTER_LIMITS, ROSTER_SIGNING_DOMAIN } from '../constants.js'
import { fail } from '../errors.js'
import { sha256Hex, toHex, verifySignature, type Signer } from './crypto.js'
import { hexValue, isWireMap } from './body-wire.js'

export const ROSTER_FORMAT_VERSION = 1
const FEDERATION_RE = /^[a-z0-9][a-z0-9-]{0,62}$/
const PEER_ID_RE = /^[1-9A-HJ-NP-Za-km-z]{32,128}$/

export interface RosterMember { name: string; key: string; peers: string[] }
export interface RosterDocument {
  federation: string
  serial: number
  prev: string | null
  members: RosterMember[]
  createdAt: number
}
export interface RosterSignature { key: string; signature: string }
export interface SignedRoster { document: RosterDocument; signatures: RosterSignature[]; id: string }

const DOMAIN = new TextEncoder().encode(ROSTER_SIGNING_DOMAIN)

function documentToWire(doc: RosterDocument): Record<string, unknown> {
  return {
    version: ROSTER_FORMAT_VERSION,
    federation: doc.federation,
    serial: doc.serial,
    prev: doc.prev === null ? null : hexValue(doc.prev, 32, 'roster prev'),
    members: doc.members.map((m) => ({ name: m.name, key: hexValue(m.key, 32, 'member key'), peers: m.peers })),
    createdAt: doc.createdAt,
  }
}

export function rosterSigningBytes(doc: RosterDocument): Uint8Array {
  checkDocument(doc)
  const encoded = dagCbor.encode(documentToWire(doc))
  const out = new Uint8Array(DOMAIN.length + encoded.length)
  out.set(DOMAIN)
  out.set(encoded, DOMAIN.length)
  return out
}

export function rosterId(doc: RosterDocument): string {
  return sha256Hex(rosterSigningBytes(doc))
}

export function checkDocument(doc: RosterDocument): void {
  if (typeof doc !== 'object' || doc === null) fail('ROSTER_INVALID', 'roster document must be an object')
  if (typeof doc.federation !== 'string' || !FEDERATION_RE.test(doc.federation)) fail('ROSTER_INVALID', 'federation id must be a short lowercase name')
  if (!Number.isInteger(doc.serial) || doc.serial < 1) fail('ROSTER_INVALID', 'serial must be a positive integer')
  if ((doc.serial === 1) !== (doc.prev === null)) fail('ROSTER_INVALID', 'prev must be null exactly for the genesis version')
  if (!Array.isArray(doc.members) || doc.members.length === 0 || doc.members.length > ROSTER_LIMITS.maxMembers) {
    fail('ROSTER_INVALID', `a roster lists 1 to ${ROSTER_LIMITS.maxMembers} members`)
  }
  const keys = new Set<string>()
  const peers = new Set<string>()
  for (const m of doc.members) {
    if (typeof m.name !== 'string' || m.name.length === 0 || m.name.length > ROSTER_LIMITS.maxNameLength) fail('ROSTER_INVALID', 'member name must be 1 to 64 characters')
    hexValue(m.key, 32, `key of member ${m.name}`)
    if (keys.has(m.key)) fail('ROSTER_INVALID', `member key ${m.key} is listed twice`)
    keys.add(m.key)
    if (!Array.isArray(m.peers) || m.peers.length > ROSTER_LIMITS.maxPeersPerMember) fail('ROSTER_INVALID', `member ${m.name} lists too many peers`)
    for (const p of m.peers) {
      if (typeof p !== 'string' || !PEER_ID_RE.test(p)) fail('ROSTER_INVALID', `peer id ${JSON.stringify(p)} of ${m.name} is malformed`)
      if (peers.has(p)) fail('ROSTER_INVALID', `peer id ${p} is listed twice`)
      peers.add(p)
    }
  }
  if (!Number.isInteger(doc.createdAt) || doc.createdAt < 0) fail('ROSTER_INVALID', 'createdAt must be milliseconds since the epoch')
}

export function signRoster(roster: Omit<SignedRoster, 'id'> | SignedRoster, signer: Signer): SignedRoster {
  const signing = rosterSigningBytes(roster.document)
  if (!roster.document.members.some((m) => m.key === signer.publicKeyHex) && roster.document.serial === 1) {
    fail('ROSTER_INVALID', 'only listed members sign a genesis roster')
  }
  const others = roster.signatures.filter((s) => s.key !== signer.publicKeyHex)
  const signatures = [...others, { key: signer.publicKeyHex, signature: toHex(signer.sign(signing)) }].sort((a, b) => a.key.localeCompare(b.key))
  return { document: roster.document, signatures, id: sha256Hex(signing) }
}

/** Keys whose signatures on the document verify. */
function validSigners(roster: Omit<SignedRoster, 'id'>): Set<string> {
  const signing = rosterSigningBytes(roster.document)
  const ok = new Set<string>()
  for (const s of roster.signatures) {
    if (verifySignature(signing, hexValue(s.signature, 64, 'roster signature'), hexValue(s.key, 32, 'roster signer'))) ok.add(s.key)
  }
  return ok
}

/** Verifies a genesis roster (every listed member signed). */
export function verifyGenesis(roster: Omit<SignedRoster, 'id'>): SignedRoster {
  const doc = roster.document
  if (doc.serial !== 1) fail('ROSTER_INVALID', 'a genesis roster has serial 1')
  const signers = validSigners(roster)
  const missing = doc.members.filter((m) => !signers.has(m.key)).map((m) => m.name)
  if (missing.length > 0) fail('ROSTER_QUORUM', `genesis roster is not signed by every founder (missing: ${missing.join(', ')})`)
  return { ...roster, id: rosterId(doc) }
}

/** Verifies `next` as the successor of `current`: prev link and a strict majority of current members. */
export function verifySuccessor(current: SignedRoster, next: Omit<SignedRoster, 'id'>): SignedRoster {
  const doc = next.document
  if (doc.federation !== current.document.federation) fail('ROSTER_INVALID', 'roster belongs to another federation')
  if (doc.serial !== current.document.serial + 1) fail('ROSTER_INVALID', `expected roster serial ${current.document.serial + 1}, got ${doc.serial}`)
  if (doc.prev !== current.id) fail('ROSTER_INVALID', 'roster does not link to the current version')
  const signers = validSigners(next)
  const votes = current.document.members.filter((m) => signers.has(m.key)).length
  const needed = Math.floor(current.document.members.length / 2) + 1
  if (votes < needed) fail('ROSTER_QUORUM', `roster change signed by ${votes} of ${current.document.members.length} members; ${needed} needed`)
  return { ...next, id: rosterId(doc) }
}

// ---- wire form (what travels between nodes and sits in files) ----

export function encodeSignedRoster(roster: Omit<SignedRoster, 'id'>): Uint8Array {
  return dagCbor.encode({
    document: documentToWire(roster.document),
    signatures: roster.signatures.map((s) => ({ key: hexValue(s.key, 32, 'signer'), signature: hexValue(s.signature, 64, 'signature') })),
  })
}

export function decodeSignedRoster(bytes: Uint8Array): Omit<SignedRoster, 'id'> & { id: string } {
  if (bytes.length > ROSTER_LIMITS.maxBytes) fail('ROSTER_INVALID', 'roster is too large')
  let wire: unknown
  try {
    wire = dagCbor.decode(bytes)
  } catch (cause) {
    fail('ROSTER_INVALID', 'roster is not valid dag-cbor', { cause })
  }
  if (!isWireMap(wire) || !isWireMap(wire.document) || !Array.isArray(wire.signatures)) fail('ROSTER_INVALID', 'roster must be {document, signatures}')
  const d = wire.document
  if (d.version !== ROSTER_FORMAT_VERSION) fail('ROSTER_INVALID', `unsupported roster version ${String(d.version)}`)
  if (!Array.isArray(d.members)) fail('ROSTER_INVALID', 'members must be a list')
  const asHex = (v: unknown, n: number, what: string): string => {
    if (!(v instanceof Uint8Array) || v.length !== n) fail('ROSTER_INVALID', `${what} must be ${n} bytes`)
    return toHex(v)
  }
  const document: RosterDocument = {
    federation: String(d.federation),
    serial: d.serial as number,
    prev: d.prev === null ? null : asHex(d.prev, 32, 'prev'),
    members: d.members.slice(0, ROSTER_LIMITS.maxMembers + 1).map((m: unknown) => {
      if (!isWireMap(m) || !Array.isArray(m.peers)) fail('ROSTER_INVALID', 'member must be {name, key, peers}')
      return { name: m.name as string, key: asHex(m.key, 32, 'member key'), peers: m.peers as string[] }
    }),
    createdAt: d.createdAt as number,
  }
  checkDocument(document)
  const signatures = wire.signatures.slice(0, ROSTER_LIMITS.maxMembers).map((s: unknown) => {
    if (!isWireMap(s)) fail('ROSTER_INVALID', 'signature must be {key, signature}')
    return { key: asHex(s.key, 32, 'signer key'), signature: asHex(s.signature, 64, 'signature') }
  })
  return { document, signatures, id: rosterId(document) }
}

/** JSON form for files and the CLI (hex everywhere). */
export function rosterToJson(roster: Omit<SignedRoster, 'id'>): string {
  return JSON.stringify({ id: rosterId(roster.document), ...roster }, null, 2) + '\n'
}

export function rosterFromJson(text: string): Omit<SignedRoster, 'id'> {
  let parsed: { document?: RosterDocument; signatures?: RosterSignature[] }
  try {
    parsed = JSON.parse(text)
  } catch (cause) {
    fail('ROSTER_INVALID', 'roster file is not JSON', { cause })
  }
  if (!parsed.document || !Array.isArray(parsed.signatures)) fail('ROSTER_INVALID', 'roster file must have document and signatures')
  checkDocument(parsed.document)
  return { document: parsed.document, signatures: parsed.signatures }
}

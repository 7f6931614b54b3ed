/**
 * Equivocation proofs: two different records signed by one author at one seq. Pure, no I/O.
 *
 * A feed holds at most one proof, its *best* one: the lowest seq, and at equal seqs the pair with the
 * smaller ids. Every node keeps only the best proof it has seen and proofs travel as extras, so all
 * honest nodes that exchange extras end with the same proof per feed (and the same extras digest): a
 * proof's two records are stored and sent in ascending id order, so one proof has one encoding.
 *
 *   proof value = dagCbor([bytesLow, bytesHigh])      (ids ascending)
 */
import * as dagCbor from '@ipld/dag-cbor'
import { fail } from '../errors.js'
import { decodeAndVerify } from './codec.js'

export interface EquivocationProof {
  feed: string
  seq: number
  /** Both records, ascending by id. */
  records: [Uint8Array, Uint8Array]
  ids: [string, string]
}

export interface ProofSide { id: string; bytes: Uint8Array }

/** The canonical proof of two different records of `feed` at `seq` (order of the arguments does not matter). */
export function canonicalProof(feed: string, seq: number, a: ProofSide, b: ProofSide): EquivocationProof {
  if (a.id === b.id) fail('RECORD_INVALID', 'an equivocation proof needs two different records')
  const [low, high] = a.id < b.id ? [a, b] : [b, a]
  return { feed, seq, records: [low.bytes, high.bytes], ids: [low.id, high.id] }
}

/** True when `candidate` should replace `current` (same feed): an earlier fork, or the smaller pair at the same seq. */
export function isBetterProof(candidate: EquivocationProof, current: EquivocationProof): boolean {
  if (candidate.seq !== current.seq) return candidate.seq < current.seq
  const a = candidate.ids.join('')
  const b = current.ids.join('')
  return a < b
}

export function encodeProofPair(proof: EquivocationProof): Uint8Array {
  return dagCbor.encode(proof.records)
}

/**
 * Decodes and checks a proof from untrusted bytes (a stored value or the records of an extra): both
 * records verify, share author and seq and differ. Membership of the author is the caller's check.
 */
export function verifyProofRecords(records: unknown): EquivocationProof {
  if (!Array.isArray(records) || records.length !== 2 || !records.every((r) => r instanceof Uint8Array)) {
    fail('RECORD_DECODE', 'an equivocation proof is two encoded records')
  }
  const [a, b] = (records as Uint8Array[]).map((bytes) => decodeAndVerify(bytes))
  if (a!.record.author !== b!.record.author || a!.record.seq !== b!.record.seq || a!.record.id === b!.record.id) {
    fail('RECORD_INVALID', 'an equivocation proof needs two different records of one author at one seq')
  }
  return canonicalProof(a!.record.author, a!.record.seq, { id: a!.record.id, bytes: a!.bytes }, { id: b!.record.id, bytes: b!.bytes })
}

/** A stored proof value (written by this node, so trusted: decoded without re-verifying signatures). */
export function decodeProofPair(feed: string, seq: number, value: Uint8Array, idOf: (bytes: Uint8Array) => string): EquivocationProof {
  const [a, b] = dagCbor.decode(value) as [Uint8Array, Uint8Array]
  return canonicalProof(feed, seq, { id: idOf(a), bytes: a }, { id: idOf(b), bytes: b })
}

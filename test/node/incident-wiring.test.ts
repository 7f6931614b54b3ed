/**
 * node/incident-wiring.ts, the sending side of the incidents topic: a contribution naming an open incident
 * is preceded there by its author's recent records not yet sent on the topic (so a member that lacks them,
 * because the records topic is slower, can link the contribution at once), within the carry bounds.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { incidentWiring, CARRY_WINDOW_MS, MAX_CARRIED, MAX_CARRIED_BYTES } from '../../src/node/incident-wiring.js'
import type { IncidentBook } from '../../src/node/incidents.js'
import { createRecord, type ChainPosition } from '../../src/record/build.js'
import { decodePriorityMessage } from '../../src/record/priority-wire.js'
import { decodeRecord } from '../../src/record/codec.js'
import type { SignedRecord, VerifiedRecord } from '../../src/record/types.js'
import { memberFromByte, pdqHex, signalsBody } from '../helpers/records.js'

const INCIDENT = 'ab'.repeat(16)
const book = { incidentOf: (r: SignedRecord) => (r.kind === 'signals' && r.body.labels.includes(`incident:${INCIDENT}`) ? INCIDENT : undefined) } as unknown as IncidentBook
const signer = memberFromByte(7)

/** Our feed: `plan` is a string of n (normal record) and i (names the incident), signed at `at(k)`. */
function feed(plan: string, at: (k: number) => number = () => Date.now(), signalsEach = 1): VerifiedRecord[] {
  let head: ChainPosition = { seq: 0, id: null }
  return [...plan].map((c, k) => {
    const values = Array.from({ length: signalsEach }, (_, j) => pdqHex(k * signalsEach + j + 1))
    const body = signalsBody(values, c === 'i' ? [`incident:${INCIDENT}`] : ['behavior:glorification'])
    const r = createRecord(signer, head, 'signals', body, at(k))
    head = { seq: r.record.seq, id: r.record.id }
    return r
  })
}
const seqsOf = (envelopes: Uint8Array[]) => envelopes.map((e) => {
  const m = decodePriorityMessage(e)
  assert.equal(m.type, 'record')
  return decodeRecord(m.bytes).record.seq
})

test('a contribution on the incidents topic is preceded by the records signed since the last one sent there', () => {
  const w = incidentWiring(book, async () => [])
  const records = feed('nninnni')
  assert.deepEqual(seqsOf(w.priorityOf(records.slice(0, 1))), [], 'a normal record alone: nothing on the topic')
  assert.deepEqual(seqsOf(w.priorityOf(records.slice(1, 2))), [])
  assert.deepEqual(seqsOf(w.priorityOf(records.slice(2, 3))), [1, 2, 3], 'the contribution, after its two predecessors')
  assert.deepEqual(seqsOf(w.priorityOf(records.slice(3, 7))), [4, 5, 6, 7], 'one batch: the three before it, each once')
  const gap = incidentWiring(book, async () => [])
  gap.priorityOf(records.slice(0, 2))
  assert.deepEqual(seqsOf(gap.priorityOf(feed('nnnnnnni').slice(7))), [8], 'records that do not link up to it (seq 1, 2 before seq 8) are not carried')
})

test('what is carried stays recent, few, small and contiguous with the contribution', () => {
  const now = Date.now()
  // records stored before the window are not carried; the ones in it are, however old their timestamp
  // (a busy node's write queue may have held them for seconds after signing)
  let clock = now
  const aged = feed('nnnni', () => now - 60_000)
  const w1 = incidentWiring(book, async () => [], () => clock)
  const sent1 = aged.flatMap((r, k) => {
    clock = k < 2 ? now - CARRY_WINDOW_MS - 1_000 : now
    return w1.priorityOf([r])
  })
  assert.deepEqual(seqsOf(sent1), [3, 4, 5])

  // at most MAX_CARRIED, the newest
  const w2 = incidentWiring(book, async () => [], () => now)
  const many = feed('n'.repeat(MAX_CARRIED + 5) + 'i', () => now)
  const sent2 = many.flatMap((r) => w2.priorityOf([r]))
  assert.equal(sent2.length, MAX_CARRIED + 1)
  assert.deepEqual(seqsOf(sent2).slice(0, 2), [6, 7])
  assert.equal(seqsOf(sent2).at(-1), MAX_CARRIED + 6)

  // at most MAX_CARRIED_BYTES together: records of 1,000 signals, the newest that fit
  const w3 = incidentWiring(book, async () => [], () => now)
  const big = feed('nnnnnnnni', () => now, 1_000)
  const fit = Math.floor(MAX_CARRIED_BYTES / big[0]!.bytes.byteLength)
  assert.ok(fit >= 1 && fit < 8, `${fit} records fit`)
  assert.deepEqual(seqsOf(big.flatMap((r) => w3.priorityOf([r]))), [...Array.from({ length: fit }, (_, k) => 9 - fit + k), 9])
})

test('records received on the incidents topic go to the replica; undecodable messages are refused with a code', async () => {
  const got: Uint8Array[][] = []
  const w = incidentWiring(book, async (records) => {
    got.push(records)
    return records.map(() => ({ verdict: 'accepted' as const }))
  })
  const [envelope] = w.priorityOf(feed('i'))
  assert.deepEqual(await w.access.receive(envelope!, 'peer'), { verdict: 'accepted' })
  assert.equal(got.length, 1)
  const bad = await w.access.receive(Uint8Array.from([0xa1, 0x61, 0x78, 0x01]), 'peer')
  assert.equal(bad.verdict, 'rejected')
  assert.equal(bad.code, 'RECORD_DECODE')
})

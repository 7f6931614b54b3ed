import { test } from 'node:test'
import assert from 'node:assert/strict'
import { encode } from '@ipld/dag-cbor'
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse, type SyncResponse } from '../../src/sync/wire.js'
import { SYNC_LIMITS } from '../../src/constants.js'
import { fitBudget, pageHeads } from '../../src/sync/serve.js'
import { extrasDigest, sameDigest } from '../../src/sync/digest.js'
import { isHashmeshError } from '../../src/errors.js'

const feedHex = 'ab'.repeat(32)
const idHex = 'cd'.repeat(32)
const bytes32 = (b: number): Uint8Array => new Uint8Array(32).fill(b)
const isProtocol = (err: unknown): boolean => isHashmeshError(err, 'PROTOCOL')

test('requests round-trip', () => {
  for (const req of [
    { type: 'heads' as const },
    { type: 'heads' as const, after: feedHex },
    { type: 'range' as const, feed: feedHex, from: 1, count: 256 },
    { type: 'extras' as const, offset: 3 },
  ]) {
    assert.deepEqual(decodeRequest(encodeRequest(req)), req)
  }
})

test('responses round-trip', () => {
  const responses: SyncResponse[] = [
    { type: 'heads', heads: [{ feed: feedHex, seq: 7, id: idHex }], next: feedHex, extrasDigest: bytes32(1) },
    { type: 'heads', heads: [], extrasDigest: bytes32(2) },
    { type: 'records', feed: feedHex, from: 5, records: [new Uint8Array([1, 2]), new Uint8Array([3])] },
    { type: 'extras', items: [new Uint8Array([9])], next: 1 },
    { type: 'extras', items: [] },
    { type: 'error', code: 'RATE_LIMITED', message: 'slow down' },
  ]
  for (const res of responses) assert.deepEqual(decodeResponse(encodeResponse(res)), res)
})

test('malformed requests throw PROTOCOL', () => {
  const bad: unknown[] = [
    'not a map',
    [1, 2],
    { type: 'nope' },
    { type: 'range', feed: bytes32(1), from: 0, count: 1 }, // seq starts at 1
    { type: 'range', feed: bytes32(1), from: 1, count: SYNC_LIMITS.maxRecordsPerRequest + 1 }, // above maxRecordsPerRequest
    { type: 'range', feed: bytes32(1), from: 1, count: 0 },
    { type: 'range', feed: new Uint8Array(31), from: 1, count: 1 },
    { type: 'range', feed: bytes32(1), from: 1.5, count: 1 },
    { type: 'range', feed: bytes32(1), from: 1, count: 1, extra: true },
    { type: 'heads', after: 'ab' },
    { type: 'extras', offset: -1 },
  ]
  for (const value of bad) assert.throws(() => decodeRequest(encode(value)), isProtocol, JSON.stringify(value))
  assert.throws(() => decodeRequest(new Uint8Array([0xff, 0x00, 0x13])), isProtocol)
  assert.throws(() => decodeRequest(new Uint8Array(SYNC_LIMITS.maxMessageBytes + 1)), isProtocol)
})

test('responses beyond the count bounds throw PROTOCOL', () => {
  const tooManyHeads = Array.from({ length: SYNC_LIMITS.maxHeadsPerMessage + 1 }, (_, i) => {
    const feed = new Uint8Array(32)
    new DataView(feed.buffer).setUint32(0, i)
    return { feed, seq: 1, id: bytes32(1) }
  })
  assert.throws(() => decodeResponse(encode({ type: 'heads', heads: tooManyHeads, extrasDigest: bytes32(0) })), isProtocol)
  const dupHeads = [{ feed: bytes32(1), seq: 1, id: bytes32(2) }, { feed: bytes32(1), seq: 2, id: bytes32(2) }]
  assert.throws(() => decodeResponse(encode({ type: 'heads', heads: dupHeads, extrasDigest: bytes32(0) })), isProtocol)
  const tooManyRecords = Array.from({ length: SYNC_LIMITS.maxRecordsPerRequest + 1 }, () => new Uint8Array([1]))
  assert.throws(() => decodeResponse(encode({ type: 'records', feed: bytes32(1), from: 1, records: tooManyRecords })), isProtocol)
  const hugeRecord = new Uint8Array(SYNC_LIMITS.maxRecordBytes + 1)
  assert.throws(() => decodeResponse(encode({ type: 'records', feed: bytes32(1), from: 1, records: [hugeRecord] })), isProtocol)
  assert.throws(() => decodeResponse(encode({ type: 'records', feed: bytes32(1), from: 1, records: [new Uint8Array()] })), isProtocol)
  assert.throws(() => decodeResponse(encode({ type: 'records', feed: bytes32(1), from: 1, records: ['text'] })), isProtocol)
})

test('an unknown error code from a peer decodes as INTERNAL', () => {
  const res = decodeResponse(encode({ type: 'error', code: 'WHATEVER', message: 'x' }))
  assert.deepEqual(res, { type: 'error', code: 'INTERNAL', message: 'x' })
})

test('fitBudget keeps order, stops at the byte budget, always sends one', () => {
  const items = [new Uint8Array(600), new Uint8Array(600), new Uint8Array(600)]
  assert.equal(fitBudget(items, 10, 1000, 1000).length, 1)
  assert.equal(fitBudget(items, 10, 1000, 1200).length, 2)
  assert.equal(fitBudget(items, 2, 1000, 10_000).length, 2)
  assert.equal(fitBudget([new Uint8Array(2000)], 10, 1000, 10_000).length, 0) // oversized item never sent
})

test('pageHeads paginates in feed order', () => {
  const heads = Array.from({ length: SYNC_LIMITS.maxHeadsPerMessage + 10 }, (_, i) => ({
    feed: i.toString(16).padStart(64, '0'),
    seq: 1,
    id: idHex,
  })).reverse()
  const first = pageHeads(heads, undefined, bytes32(0))
  assert.equal(first.type, 'heads')
  if (first.type !== 'heads') return
  assert.equal(first.heads.length, SYNC_LIMITS.maxHeadsPerMessage)
  assert.ok(first.next)
  const second = pageHeads(heads, first.next, bytes32(0))
  if (second.type !== 'heads') return
  assert.equal(second.heads.length, 10)
  assert.equal(second.next, undefined)
  assert.ok(second.heads[0]!.feed > first.next!)
})

test('extrasDigest ignores order and duplicates', () => {
  const a = new Uint8Array([1]), b = new Uint8Array([2])
  assert.ok(sameDigest(extrasDigest([a, b]), extrasDigest([b, a, a])))
  assert.ok(!sameDigest(extrasDigest([a]), extrasDigest([a, b])))
})

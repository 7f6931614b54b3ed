/**
 * The sync frame decoder counts while it decodes: a frame that announces more items than any legal message
 * holds is refused at that announcement, before anything is built from it (src/sync/bounded-decode.ts).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { encode } from '@ipld/dag-cbor'
import { decodeRequest, decodeResponse, encodeResponse, type SyncResponse } from '../../src/sync/wire.js'
import { SYNC_LIMITS } from '../../src/constants.js'
import { isHashmeshError } from '../../src/errors.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

const isProtocol = (err: unknown): boolean => isHashmeshError(err, 'PROTOCOL')
const bytes32 = (b: number): Uint8Array => new Uint8Array(32).fill(b)

/** CBOR head of a list (major type 4) or map (5) announcing `n` items, in its shortest form. */
function head(major: 4 | 5, n: number): number[] {
  const m = major << 5
  if (n < 24) return [m | n]
  if (n < 0x100) return [m | 24, n]
  if (n < 0x10000) return [m | 25, n >> 8, n & 0xff]
  return [m | 26, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]
}
const text = (s: string): number[] => [0x60 | s.length, ...Buffer.from(s)]

/**
 * A records response (`{ type, feed, from, records }` in dag-cbor key order) whose records list announces
 * `n` items and holds `n` copies of `item` (give fewer with `present`).
 */
function recordsFrame(n: number, item: number[], present = n): Uint8Array {
  const prefix = [...head(5, 4), ...text('from'), 0x01, ...text('type'), ...text('records'), ...text('feed'), 0x58, 32, ...bytes32(7), ...text('records'), ...head(4, n)]
  const frame = new Uint8Array(prefix.length + present * item.length)
  frame.set(prefix)
  for (let i = 0; i < present; i++) frame.set(item, prefix.length + i * item.length)
  return frame
}

/**
 * Decodes `frame` expecting PROTOCOL, once to warm the decoder up and once measured: returns the CPU
 * milliseconds the second refusal took (CPU, not wall time: the test machine is shared) and how much the
 * heap grew meanwhile (garbage included: nothing is collected between the two readings unless the decoder
 * allocated enough to make V8 collect, and then what its lists held was still alive).
 */
function refusal(decode: (bytes: Uint8Array) => unknown, frame: Uint8Array): { ms: number; heapGrowth: number } {
  assert.throws(() => decode(frame), isProtocol)
  gc()
  const heapBefore = process.memoryUsage().heapUsed
  const cpu = process.cpuUsage()
  assert.throws(() => decode(frame), isProtocol)
  const used = process.cpuUsage(cpu)
  return { ms: (used.user + used.system) / 1000, heapGrowth: process.memoryUsage().heapUsed - heapBefore }
}

const MB = 1024 * 1024

test('a frame announcing a million records (and holding them) is refused with PROTOCOL, fast and without building the list', () => {
  const frame = recordsFrame(1_000_000, [0x41, 0x00]) // a million one-byte records: 2 MB, under maxMessageBytes
  assert.ok(frame.byteLength <= SYNC_LIMITS.maxMessageBytes)
  const { ms, heapGrowth } = refusal(decodeResponse, frame)
  assert.ok(ms < 50, `refused in ${ms.toFixed(1)} ms of CPU`)
  assert.ok(heapGrowth < 4 * MB, `heap grew by ${(heapGrowth / MB).toFixed(1)} MB`)
})

test('a heads page of a million empty maps is refused with PROTOCOL, fast and without building them', () => {
  const prefix = [...head(5, 3), ...text('type'), ...text('heads'), ...text('heads'), ...head(4, 1_000_000)]
  const frame = new Uint8Array(prefix.length + 1_000_000 + 34 + 1 + 12)
  frame.set(prefix)
  frame.fill(0xa0, prefix.length, prefix.length + 1_000_000) // {} x 1,000,000
  const { ms, heapGrowth } = refusal(decodeResponse, frame)
  assert.ok(ms < 50, `refused in ${ms.toFixed(1)} ms of CPU`)
  assert.ok(heapGrowth < 4 * MB, `heap grew by ${(heapGrowth / MB).toFixed(1)} MB`)
})

test('a list that only announces a million items is refused with PROTOCOL', () => {
  assert.throws(() => decodeResponse(recordsFrame(1_000_000, [0x41, 0x00], 3)), isProtocol)
  assert.throws(() => decodeResponse(recordsFrame(2 ** 32 - 1, [0x41, 0x00], 0)), isProtocol)
  assert.throws(() => decodeRequest(new Uint8Array(head(5, 1_000_000))), isProtocol)
})

test('many lists each within the item bound are refused once the frame holds more values than a full heads page', () => {
  // 300 lists of 4,096 zeros: 1.2 million values in 1.2 MB, every list at the bound.
  const inner = [...head(4, SYNC_LIMITS.maxFrameListItems), ...new Array<number>(SYNC_LIMITS.maxFrameListItems).fill(0)]
  const frame = recordsFrame(300, inner)
  const { ms, heapGrowth } = refusal(decodeResponse, frame)
  assert.ok(ms < 50, `refused in ${ms.toFixed(1)} ms of CPU`)
  assert.ok(heapGrowth < 4 * MB, `heap grew by ${(heapGrowth / MB).toFixed(1)} MB`)
})

test('nesting deeper than a heads page (message > heads > head) is refused with PROTOCOL', () => {
  const deep = { type: 'error', code: [[[1]]], message: 'x' }
  assert.throws(() => decodeResponse(encode(deep)), isProtocol)
  const veryDeep = new Uint8Array(100_000).fill(0x81) // [[[[...]]]]: 100,000 levels
  assert.throws(() => decodeResponse(veryDeep), isProtocol)
})

test('the largest legal messages decode as before', () => {
  const feedHex = (i: number): string => i.toString(16).padStart(64, '0')
  const fullHeads: SyncResponse = {
    type: 'heads',
    heads: Array.from({ length: SYNC_LIMITS.maxHeadsPerMessage }, (_, i) => ({ feed: feedHex(i), seq: i + 1, id: 'cd'.repeat(32) })),
    next: feedHex(SYNC_LIMITS.maxHeadsPerMessage - 1),
    extrasDigest: bytes32(3),
  }
  const fullRecords: SyncResponse = {
    type: 'records',
    feed: feedHex(1),
    from: 1,
    records: Array.from({ length: SYNC_LIMITS.maxRecordsPerRequest }, (_, i) => new Uint8Array([i & 0xff, 1, 2])),
  }
  const fullExtras: SyncResponse = { type: 'extras', items: Array.from({ length: SYNC_LIMITS.maxExtrasPerMessage }, () => new Uint8Array([9])), next: 256 }
  for (const res of [fullHeads, fullRecords, fullExtras]) assert.deepEqual(decodeResponse(encodeResponse(res)), res)
})

test('records decoded from a Buffer are copies, not views of the frame', () => {
  const frame = Buffer.from(encodeResponse({ type: 'records', feed: 'ab'.repeat(32), from: 1, records: [new Uint8Array([1, 2, 3])] }))
  const res = decodeResponse(frame)
  assert.equal(res.type, 'records')
  if (res.type !== 'records') return
  assert.notEqual(res.records[0]!.buffer, frame.buffer)
  assert.deepEqual([...res.records[0]!], [1, 2, 3])
})

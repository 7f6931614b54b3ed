import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import * as lp from 'it-length-prefixed'
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse, type SyncRequest, type SyncResponse } from '../../src/sync/wire.js'
import { extrasDigest } from '../../src/sync/digest.js'
import { decodeAndVerify } from '../../src/record/codec.js'
import { isHashmeshError } from '../../src/errors.js'

interface WireVector { name: string; message: Record<string, unknown>; bytes: string; frame: string }
const vectors = JSON.parse(readFileSync(new URL('../vectors/sync-wire.json', import.meta.url), 'utf8')) as {
  requests: WireVector[]
  responses: WireVector[]
}

const unhex = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex, 'hex'))
const hex = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
const isProtocol = (err: unknown): boolean => isHashmeshError(err, 'PROTOCOL')

/** The vectors write the byte fields of a decoded message (extrasDigest, records[i], items[i]) as hex. */
function request(v: WireVector): SyncRequest {
  return v.message as unknown as SyncRequest
}
function response(v: WireVector): SyncResponse {
  const m = v.message
  switch (m.type) {
    case 'heads': return { ...m, extrasDigest: unhex(m.extrasDigest as string) } as unknown as SyncResponse
    case 'records': return { ...m, records: (m.records as string[]).map(unhex) } as unknown as SyncResponse
    case 'extras': return { ...m, items: (m.items as string[]).map(unhex) } as unknown as SyncResponse
    default: return m as unknown as SyncResponse
  }
}
const named = (list: WireVector[], name: string): WireVector => {
  const v = list.find((x) => x.name === name)
  assert.ok(v, `vector "${name}"`)
  return v
}

test('sync wire vectors cover every request and response type', () => {
  const shapes = (list: WireVector[]) => new Set(list.map((v) => [v.message.type, ...['after', 'next'].filter((k) => k in v.message)].join('+')))
  assert.deepEqual(shapes(vectors.requests), new Set(['heads', 'heads+after', 'range', 'extras']))
  assert.deepEqual(shapes(vectors.responses), new Set(['heads', 'heads+next', 'records', 'extras', 'extras+next', 'error']))
})

test('sync wire vectors: encoding each request gives exactly its bytes and frame; decoding the bytes gives exactly the message', () => {
  for (const v of vectors.requests) {
    assert.equal(hex(encodeRequest(request(v))), v.bytes, v.name)
    assert.deepEqual(decodeRequest(unhex(v.bytes)), request(v), v.name)
    assert.equal(hex(lp.encode.single(unhex(v.bytes)).subarray()), v.frame, v.name)
  }
})

test('sync wire vectors: encoding each response gives exactly its bytes and frame; decoding the bytes gives exactly the message', () => {
  for (const v of vectors.responses) {
    assert.equal(hex(encodeResponse(response(v))), v.bytes, v.name)
    assert.deepEqual(decodeResponse(unhex(v.bytes)), response(v), v.name)
    assert.equal(hex(lp.encode.single(unhex(v.bytes)).subarray()), v.frame, v.name)
  }
})

test('sync wire vectors tell one story: the heads digest covers the served extras, the records verify in order', () => {
  const items = vectors.responses.filter((v) => v.message.type === 'extras').flatMap((v) => (v.message.items as string[]).map(unhex))
  for (const name of ['heads with next', 'heads without next']) {
    assert.equal(named(vectors.responses, name).message.extrasDigest, hex(extrasDigest(items)))
  }
  const res = response(named(vectors.responses, 'records')) as Extract<SyncResponse, { type: 'records' }>
  const head = (named(vectors.responses, 'heads without next').message.heads as { feed: string; seq: number; id: string }[])[0]!
  const records = res.records.map((bytes) => decodeAndVerify(bytes).record)
  records.forEach((r, i) => {
    assert.equal(r.author, res.feed)
    assert.equal(r.seq, res.from + i)
  })
  assert.deepEqual({ feed: head.feed, seq: head.seq, id: head.id }, { feed: res.feed, seq: records.at(-1)!.seq, id: records.at(-1)!.id })
})

test('a truncated frame is refused with PROTOCOL (every strict prefix of every vector)', () => {
  for (const [list, decodeFn] of [[vectors.requests, decodeRequest], [vectors.responses, decodeResponse]] as const) {
    for (const v of list) {
      const bytes = unhex(v.bytes)
      for (let n = 0; n < bytes.length; n++) {
        assert.throws(() => decodeFn(bytes.subarray(0, n)), isProtocol, `${v.name} cut to ${n} bytes`)
      }
    }
  }
})

test('a flipped byte in the records response is refused with PROTOCOL, except in the opaque feed key and record payloads', () => {
  const v = named(vectors.responses, 'records')
  const bytes = unhex(v.bytes)
  const original = response(v) as Extract<SyncResponse, { type: 'records' }>

  // the one documented example: the first record's byte-string header (0x59, 2-byte length) turned into a text string
  const start = Buffer.from(bytes).indexOf(Buffer.from(original.records[0]!))
  assert.equal(bytes[start - 3], 0x59)
  const textHeader = Uint8Array.from(bytes)
  textHeader[start - 3] = 0x79
  assert.throws(() => decodeResponse(textHeader), isProtocol)

  // every byte: the envelope is checked by the wire decoder; the feed key and records are opaque to it,
  // and a flip inside a record is caught when the replica verifies that record
  const feedAt = Buffer.from(bytes).indexOf(Buffer.from(original.feed, 'hex'))
  const payloads = original.records.map((r) => {
    const at = Buffer.from(bytes).indexOf(Buffer.from(r))
    return [at, at + r.length] as const
  })
  let refused = 0
  let inRecords = 0
  for (let i = 0; i < bytes.length; i++) {
    const flipped = Uint8Array.from(bytes)
    flipped[i]! ^= 0xff
    const record = payloads.findIndex(([from, to]) => i >= from && i < to)
    if (record >= 0) {
      const decoded = decodeResponse(flipped) as Extract<SyncResponse, { type: 'records' }>
      assert.throws(() => decodeAndVerify(decoded.records[record]!), (err: unknown) => isHashmeshError(err), `byte ${i} in record ${record}`)
      inRecords++
    } else if (i >= feedAt && i < feedAt + 32) {
      assert.notEqual((decodeResponse(flipped) as Extract<SyncResponse, { type: 'records' }>).feed, original.feed)
    } else {
      assert.throws(() => decodeResponse(flipped), isProtocol, `byte ${i}`)
      refused++
    }
  }
  assert.equal(inRecords, original.records.reduce((n, r) => n + r.length, 0))
  assert.equal(refused + inRecords + 32, bytes.length)
})

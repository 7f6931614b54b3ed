/**
 * Fuzz inputs for scenario g, from a seeded PRNG: mutations of golden inputs (the vectors in
 * test/vectors/*.json and valid objects built like them), at three levels:
 *   bytes      bit flips, interesting byte values, inserts, deletes, duplicated or swapped runs,
 *              truncation, extension, splices of two golden inputs (1 to 4 stacked)
 *   structure  the golden input decoded (dag-cbor), one value somewhere in it replaced by a value of
 *              another type or an edge value, a key dropped or added, then encoded again: canonical
 *              input that gets past the decoder to the field checks
 *   random     random bytes, or random dag-cbor values
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import * as dagCbor from '@ipld/dag-cbor'
import type { Prng } from './common.js'

const VECTORS = fileURLToPath(new URL('../../test/vectors/', import.meta.url))

export interface Goldens {
  records: Uint8Array[]
  recordSeed: Uint8Array
  rosters: Uint8Array[]
  rosterExtras: Uint8Array[]
  genesisId: string
  requests: Uint8Array[]
  requestFrames: Uint8Array[]
  responses: Uint8Array[]
}

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'))

export function loadGoldens(): Goldens {
  const records = JSON.parse(readFileSync(VECTORS + 'records.json', 'utf8')) as { seed: string; records: Array<{ bytes: string }> }
  const roster = JSON.parse(readFileSync(VECTORS + 'roster.json', 'utf8')) as { genesisId: string; versions: Array<{ bytes: string; extra: string }> }
  const wire = JSON.parse(readFileSync(VECTORS + 'sync-wire.json', 'utf8')) as { requests: Array<{ bytes: string; frame: string }>; responses: Array<{ bytes: string }> }
  return {
    records: records.records.map((r) => hex(r.bytes)),
    recordSeed: hex(records.seed),
    rosters: roster.versions.map((v) => hex(v.bytes)),
    rosterExtras: roster.versions.map((v) => hex(v.extra)),
    genesisId: roster.genesisId,
    requests: wire.requests.map((r) => hex(r.bytes)),
    requestFrames: wire.requests.map((r) => hex(r.frame)),
    responses: wire.responses.map((r) => hex(r.bytes)),
  }
}

const INTERESTING = [0x00, 0x01, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1f, 0x20, 0x3f, 0x40, 0x5f, 0x7f, 0x80, 0x9f, 0xa0, 0xbf, 0xc0, 0xd8, 0xf4, 0xf5, 0xf6, 0xf7, 0xf9, 0xfa, 0xfb, 0xff]

/** One byte-level mutation of `input` (a new array). */
export function mutateBytes(rng: Prng, input: Uint8Array, pool: readonly Uint8Array[]): Uint8Array {
  let b = Uint8Array.from(input)
  const at = () => rng.int(Math.max(1, b.length))
  switch (rng.int(11)) {
    case 0: // bit flip
      if (b.length > 0) b[at()]! ^= 1 << rng.int(8)
      return b
    case 1: // interesting byte
      if (b.length > 0) b[at()] = rng.pick(INTERESTING)
      return b
    case 2: // random byte
      if (b.length > 0) b[at()] = rng.int(256)
      return b
    case 3: { // insert random bytes
      const i = rng.int(b.length + 1)
      return concat(b.subarray(0, i), rng.bytes(1 + rng.int(16)), b.subarray(i))
    }
    case 4: { // delete a run
      const i = at()
      return concat(b.subarray(0, i), b.subarray(Math.min(b.length, i + 1 + rng.int(16))))
    }
    case 5: { // duplicate a run
      const i = at()
      const run = b.subarray(i, Math.min(b.length, i + 1 + rng.int(32)))
      return concat(b.subarray(0, i), run, run, b.subarray(i + run.length))
    }
    case 6: // truncate
      return b.subarray(0, rng.int(b.length + 1))
    case 7: // extend
      return concat(b, rng.bytes(1 + rng.int(64)))
    case 8: { // splice with another golden input
      const other = rng.pick(pool)
      return concat(b.subarray(0, rng.int(b.length + 1)), other.subarray(rng.int(other.length + 1)))
    }
    case 9: { // increment / decrement (lengths and integer heads)
      if (b.length > 0) {
        const i = at()
        b[i] = (b[i]! + (rng.chance(0.5) ? 1 : 255)) & 0xff
      }
      return b
    }
    default: { // overwrite a run with one value
      const i = at()
      const v = rng.pick(INTERESTING)
      b = Uint8Array.from(b)
      for (let k = i; k < Math.min(b.length, i + 1 + rng.int(8)); k++) b[k] = v
      return b
    }
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}

/** A random value dag-cbor can encode: edge integers, strings, bytes of telling lengths, lists, maps. */
export function randomValue(rng: Prng, depth = 0): unknown {
  switch (rng.int(depth > 2 ? 7 : 9)) {
    case 0: return rng.pick([0, 1, -1, 23, 24, 255, 256, 65535, 65536, 2 ** 32, 2 ** 47, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 1000, 1001, 1024, 1025, 4096, 4097])
    case 1: return rng.int(1_000_000)
    case 2: return rng.pick(['', 'a', 'signals', 'revoke', 'opinion', 'heads', 'range', 'extras', 'records', 'error', 'roster', 'equivocation', 'pdq', 'md5', 'sha256', 'vpdq', 'behavior:glorification', 'x'.repeat(65), 'é'.repeat(40), '\u0000'])
    case 3: return rng.bytes(rng.pick([0, 1, 16, 31, 32, 33, 63, 64, 65, rng.int(300)]))
    case 4: return rng.chance(0.5)
    case 5: return null
    case 6: return 'k'.repeat(rng.int(2000))
    case 7: return Array.from({ length: rng.int(5) }, () => randomValue(rng, depth + 1))
    default: {
      const out: Record<string, unknown> = {}
      for (let i = rng.int(5); i > 0; i--) out[rng.pick(['type', 'feed', 'seq', 'id', 'from', 'count', 'records', 'items', 'next', 'after', 'heads', 'body', 'kind', 'x'])] = randomValue(rng, depth + 1)
      return out
    }
  }
}

/** Decode, change one place (replace a value, drop or add a key, resize a list), encode again. */
export function mutateStructure(rng: Prng, input: Uint8Array): Uint8Array | undefined {
  let value: unknown
  try {
    value = dagCbor.decode(input)
  } catch {
    return undefined
  }
  const holders: Array<{ parent: Record<string, unknown> | unknown[]; key: string | number }> = []
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach((item, i) => {
      holders.push({ parent: v, key: i })
      walk(item)
    })
    else if (v && typeof v === 'object' && !(v instanceof Uint8Array)) {
      for (const [k, item] of Object.entries(v)) {
        holders.push({ parent: v as Record<string, unknown>, key: k })
        walk(item)
      }
    }
  }
  walk(value)
  if (holders.length === 0) value = randomValue(rng)
  else {
    const h = rng.pick(holders)
    const parent = h.parent as Record<string | number, unknown>
    switch (rng.int(6)) {
      case 0: // drop
        if (Array.isArray(h.parent)) h.parent.splice(h.key as number, 1)
        else delete parent[h.key]
        break
      case 1: // add a key or an item beside it
        if (Array.isArray(h.parent)) h.parent.push(structuredClone(h.parent[rng.int(h.parent.length)]))
        else parent[rng.pick(['x', 'extra', 'note', 'signal', 'next', 'after', 'prev'])] = randomValue(rng)
        break
      case 2: { // same type, another value
        const old = parent[h.key]
        if (typeof old === 'number') parent[h.key] = rng.pick([old + 1, old - 1, 0, -1, old * 2 ** 20, Number.MAX_SAFE_INTEGER])
        else if (old instanceof Uint8Array) parent[h.key] = rng.bytes(rng.pick([0, old.length - 1, old.length, old.length + 1, 32, 64]))
        else if (typeof old === 'string') parent[h.key] = rng.pick(['', old + old, old.toUpperCase(), old.slice(1), '\ud800'.slice(0, 1) + old])
        else parent[h.key] = randomValue(rng)
        break
      }
      default: // any value
        parent[h.key] = randomValue(rng)
    }
  }
  try {
    return dagCbor.encode(value)
  } catch {
    return undefined
  }
}

/** One fuzz input derived from `goldens` (never empty unless mutations made it so). */
export function fuzzInput(rng: Prng, goldens: readonly Uint8Array[]): Uint8Array {
  const r = rng.int(100)
  if (r < 5) return rng.bytes(rng.int(600))
  if (r < 10) {
    try {
      return dagCbor.encode(randomValue(rng))
    } catch {
      return rng.bytes(8)
    }
  }
  const golden = rng.pick(goldens)
  if (r < 40) {
    const s = mutateStructure(rng, golden)
    if (s) return rng.chance(0.2) ? mutateBytes(rng, s, goldens) : s
  }
  let out = golden
  for (let n = 1 + rng.int(4); n > 0; n--) out = mutateBytes(rng, out, goldens)
  return out
}

/**
 * What the local controls (switches + flood quarantine, issue 18) add to a match. Two figures:
 *
 *   1. the check alone, per carrier record, with 10,000 switches of each kind and 10,000 quarantined
 *      records held (hits and misses mixed), and with nothing set (the usual case);
 *   2. a whole match (one PDQ query, 3 carrier records, in-memory store) with and without the controls:
 *      the difference is what a switch or quarantine decision adds to a match (target ≤ 5 µs).
 *
 *   npx tsx scripts/bench-local-controls.ts [--iterations N]
 */
import '../src/shim.js'
import { ReplicaStore } from '../src/store/replica-store.js'
import { MemoryKeyValueStore } from '../src/store/memory-kv.js'
import { Matcher } from '../src/match/matcher.js'
import { LocalControls } from '../src/match/local-controls.js'
import { createRecord } from '../src/record/build.js'
import { keyPairFromSeed, Signer } from '../src/record/crypto.js'
import type { KeyValueStore } from '../src/store/level-db.js'

const args = process.argv.slice(2)
const iterations = Number(args[args.indexOf('--iterations') + 1] || 20_000)
const hex = (n: number, len = 64) => n.toString(16).padStart(len, '0')
const signer = (b: number) => new Signer(keyPairFromSeed(new Uint8Array(32).fill(b)))

/** Where the controls keep their entries in the bench: nowhere (the memory store re-sorts its keys on every batch). */
const nowhere: KeyValueStore = {
  get: async () => undefined,
  getMany: async (keys) => keys.map(() => undefined),
  batch: async () => undefined,
  entries: async function* () {},
  keys: async function* () {},
  keyBatches: async function* () {},
  close: async () => undefined,
}

const relaxed = { burst: 1e9, signalsPerMinute: 1e9, signalsPerHour: 1e9 }
const settings = { enabled: true, limits: relaxed, incidentLimits: relaxed, autoRelease: false }

async function checkCost(loaded: boolean): Promise<number> {
  const kv = new MemoryKeyValueStore()
  const store = await ReplicaStore.openWith(kv)
  const controls = await LocalControls.open(store, nowhere, settings, hex(0))
  if (loaded) {
    for (let i = 0; i < 10_000; i++) {
      await controls.switches.set({ kind: 'member', target: hex(i), at: 0, by: 'bench', until: null, reason: '' })
      await controls.switches.set({ kind: 'record', target: hex(i + 1e6), at: 0, by: 'bench', until: Date.now() + 3_600_000, reason: '' })
      await controls.switches.set({ kind: 'signal', target: `pdq:${hex(i + 2e6)}`, at: 0, by: 'bench', until: null, reason: '' })
    }
  }
  const authors = Array.from({ length: 1024 }, (_, i) => hex(i * 19))
  const ids = Array.from({ length: 1024 }, (_, i) => hex(i * 23 + 1e6))
  const keys = Array.from({ length: 1024 }, (_, i) => `pdq:${hex(i * 29 + 2e6)}`)
  const n = 2_000_000
  let hits = 0
  const now = Date.now()
  for (let round = 0; round < 2; round++) {
    // the first round warms the JIT up; the second is measured
    const started = process.hrtime.bigint()
    for (let i = 0; i < n; i++) if (controls.suppression(authors[i & 1023]!, ids[(i >> 3) & 1023]!, keys[(i >> 6) & 1023]!, now)) hits++
    if (round === 1) {
      await store.close()
      return Number(process.hrtime.bigint() - started) / n
    }
  }
  return hits
}

async function matchCost(withControls: boolean): Promise<number> {
  const kv = new MemoryKeyValueStore()
  const store = await ReplicaStore.openWith(kv)
  const controls = await LocalControls.open(store, nowhere, settings, hex(0))
  for (let i = 0; i < 10_000; i++) await controls.switches.set({ kind: 'record', target: hex(i + 1e6), at: 0, by: 'bench', until: null, reason: '' })
  const value = hex(0xabcdef)
  for (const b of [2, 3, 4]) {
    await store.appendVerified([createRecord(signer(b), { seq: 0, id: null }, 'signals', { signals: [{ type: 'pdq', value, quality: 90 }], contentType: 'photo', labels: [] })])
  }
  const policy = { members: null, minQuality: 50, ignoreDisputed: false, ignoreFalsePositive: false, minAgreeingMembers: 1, actOnEquivocated: false }
  const matcher = new Matcher(store, { policy, pdqThreshold: 31, isMember: () => true, memberName: () => undefined, ...(withControls ? { local: controls } : {}) })
  await matcher.rebuild()
  const query = [{ type: 'pdq' as const, value }]
  for (let i = 0; i < 2000; i++) await matcher.match(query)
  const started = process.hrtime.bigint()
  for (let i = 0; i < iterations; i++) await matcher.match(query)
  const ns = Number(process.hrtime.bigint() - started) / iterations
  await store.close()
  return ns
}

const emptyNs = await checkCost(false)
const loadedNs = await checkCost(true)
console.log(`check per carrier, nothing set:                 ${emptyNs.toFixed(1)} ns`)
console.log(`check per carrier, 30,000 switches held:        ${loadedNs.toFixed(1)} ns`)
// alternate the two runs so machine noise falls on both
const runs: Array<{ off: number; on: number }> = []
for (let r = 0; r < 7; r++) runs.push(r % 2 ? { on: await matchCost(true), off: await matchCost(false) } : { off: await matchCost(false), on: await matchCost(true) })
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const off = median(runs.map((r) => r.off))
const on = median(runs.map((r) => r.on))
console.log(`match (1 PDQ query, 3 carriers), no controls:   median ${(off / 1000).toFixed(2)} µs of ${runs.map((r) => (r.off / 1000).toFixed(1)).join(', ')}`)
console.log(`match (1 PDQ query, 3 carriers), with controls: median ${(on / 1000).toFixed(2)} µs of ${runs.map((r) => (r.on / 1000).toFixed(1)).join(', ')}`)
console.log(`added per match: median of pairwise differences ${(median(runs.map((r) => r.on - r.off)) / 1000).toFixed(2)} µs (whole-match noise on a shared machine is larger than the check; the check itself, 3 carriers: ${((3 * loadedNs) / 1000).toFixed(3)} µs; target ≤ 5 µs)`)

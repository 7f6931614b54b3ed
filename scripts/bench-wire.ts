/**
 * Decode speed of sync frames (src/sync/wire.ts), the largest ones a peer may send:
 *   records-2MiB  a records response of 1,024 records of 2,000 bytes (the 2 MiB batch bound)
 *   records-300   a records response of 1,024 records of 300 bytes (small signals records)
 *   heads-4096    a heads response of 4,096 heads (the most items one frame may hold)
 * Frames are built once; each round decodes every shape for --ms milliseconds; the median over rounds of
 * decodes per CPU second is printed.
 * --wire FILE measures another wire module instead (e.g. a copy of an older wire.ts whose imports point
 * back into src/); to compare two, alternate runs of each so that both meet the same machine load.
 *
 *   npx tsx scripts/bench-wire.ts [--rounds 7] [--ms 400] [--wire /tmp/old-wire.ts]
 */
import { randomFillSync } from 'node:crypto'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import * as current from '../src/sync/wire.js'
import type { SyncResponse } from '../src/sync/wire.js'

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '7' }, ms: { type: 'string', default: '400' }, wire: { type: 'string' } },
})
const rounds = Number(values.rounds)
const roundMs = Number(values.ms)

type WireModule = { decodeResponse(bytes: Uint8Array): SyncResponse }
const wire: WireModule = values.wire ? ((await import(pathToFileURL(resolve(values.wire)).href)) as WireModule) : current

const hex32 = (): string => Buffer.from(randomFillSync(new Uint8Array(32))).toString('hex')
const records = (n: number, size: number): Uint8Array[] => Array.from({ length: n }, () => randomFillSync(new Uint8Array(size)))
const shapes: { name: string; bytes: Uint8Array }[] = [
  { name: 'records-2MiB', bytes: current.encodeResponse({ type: 'records', feed: hex32(), from: 1, records: records(1024, 2000) }) },
  { name: 'records-300', bytes: current.encodeResponse({ type: 'records', feed: hex32(), from: 1, records: records(1024, 300) }) },
  {
    name: 'heads-4096',
    bytes: current.encodeResponse({
      type: 'heads',
      heads: Array.from({ length: 4096 }, () => hex32()).sort().map((feed, i) => ({ feed, seq: i + 1, id: hex32() })),
      extrasDigest: randomFillSync(new Uint8Array(32)),
    }),
  },
]

/** Decodes per CPU second of this process (all its threads, GC helpers included): on a shared, loaded machine
 * this varies far less than decodes per wall-clock second, which also counts time other processes ran. */
function rate(wire: WireModule, bytes: Uint8Array, ms: number): number {
  let n = 0
  const start = performance.now()
  const cpu = process.cpuUsage()
  while (performance.now() - start < ms) {
    wire.decodeResponse(bytes)
    n++
  }
  const used = process.cpuUsage(cpu)
  return (n / (used.user + used.system)) * 1e6
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const rates = shapes.map(() => [] as number[])
for (const { bytes } of shapes) rate(wire, bytes, 200) // warm-up
for (let r = 0; r < rounds; r++) shapes.forEach(({ bytes }, i) => rates[i]!.push(rate(wire, bytes, roundMs)))
console.log(`wire module: ${values.wire ?? 'src/sync/wire.ts'}`)
shapes.forEach(({ name, bytes }, i) => {
  console.log(`${name.padEnd(13)} ${(bytes.byteLength / 1024).toFixed(0).padStart(5)} KiB  ${median(rates[i]!).toFixed(0).padStart(6)} decodes per CPU second`)
})

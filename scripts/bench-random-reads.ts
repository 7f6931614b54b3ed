/**
 * The memory floor under the PDQ index at 10 M: how long this machine takes for N independent random
 * 4-byte reads from a typed array of the index's size (default 1.2 GB), in the same kind of JS loop the
 * index uses. A 10 M-hash query makes ~7,000 such reads (bucket probes, candidate rows, run entries).
 *
 *   npx tsx scripts/bench-random-reads.ts [--mb 1200] [--reads 6000] [--queries 1000]
 *   GLIBC_TUNABLES=glibc.malloc.hugetlb=1 npx tsx scripts/bench-random-reads.ts   # with transparent huge pages
 */
import { parseArgs } from 'node:util'

const { values } = parseArgs({ options: { mb: { type: 'string', default: '1200' }, reads: { type: 'string', default: '6000' }, queries: { type: 'string', default: '1000' } } })
const words = (Number(values.mb) * 2 ** 20) / 4
const reads = Number(values.reads)
const queries = Number(values.queries)

const memory = new Int32Array(words)
for (let i = 0; i < words; i += 1024) memory[i] = i // touch every page
const addresses = new Int32Array(reads * queries)
for (let i = 0; i < addresses.length; i++) addresses[i] = Math.floor(Math.random() * words)

let sink = 0
for (let round = 0; round < 3; round++) {
  const started = performance.now()
  for (let q = 0; q < queries; q++) {
    const base = q * reads
    for (let k = 0; k < reads; k++) sink += memory[addresses[base + k]!]!
  }
  const us = ((performance.now() - started) * 1000) / queries
  console.log(`round ${round + 1}: ${reads} independent random reads over ${values.mb} MB: ${us.toFixed(1)} µs per query (${((us * 1000) / reads).toFixed(1)} ns per read)`)
}
console.log(`(GLIBC_TUNABLES=${process.env.GLIBC_TUNABLES ?? ''}; checksum ${sink & 1})`)

/**
 * Exchange fetch cost: a url exchange fetching N PDQ hashes from a 127.0.0.1 server into a fresh bank,
 * then an unchanged fetch (304), then one with 10 % of the list replaced (diffed). While the first fetch
 * runs, a bank lookup is timed every 5 ms: how long matching waits behind a fetch.
 *
 *   npx tsx scripts/bench-exchange.ts [--signals 100000]
 */
import '../src/shim.js'
import http from 'node:http'
import { createHash } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { parseArgs } from 'node:util'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { initDataDir } from '../src/node/identity.js'
import { HashmeshNode } from '../src/node/node.js'
import { BanksService } from '../src/node/banks-service.js'
import { exchangesOf } from '../src/node/exchanges.js'

const { values } = parseArgs({ options: { signals: { type: 'string', default: '100000' } } })
const n = Number(values.signals)
const pdq = (i: number) => createHash('sha256').update(`bench ${i}`).digest('hex')
let version = 0
const lists = [Array.from({ length: n }, (_, i) => `pdq ${pdq(i)}`).join('\n') + '\n']
lists.push(Array.from({ length: n }, (_, i) => `pdq ${pdq(i < n / 10 ? i + n : i)}`).join('\n') + '\n')

const server = http.createServer((req, res) => {
  const etag = `"v${version}"`
  if (req.headers['if-none-match'] === etag) return void res.writeHead(304).end()
  res.writeHead(200, { etag, 'content-type': 'text/plain' }).end(lists[version])
})
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/list.txt`

const dir = mkdtempSync(join(tmpdir(), 'hashmesh-bench-exchange-'))
await initDataDir(dir, { name: 'bench' })
const node = await HashmeshNode.open(dir, { env: {} })
const exchanges = exchangesOf(node, { allowLoopbackForTests: true, minTimerMs: 3_600_000 })
const banks = new BanksService(node)
await banks.loaded
await exchanges.create({ name: 'BENCH', api: 'url', settings: { url }, enabled: false })

const waits: number[] = []
let running = true
const probe = (async () => {
  while (running) {
    const t = performance.now()
    await banks.lookup('pdq', pdq(1), { bypassCoinflip: true })
    waits.push(performance.now() - t)
    await new Promise((r) => setTimeout(r, 5))
  }
})()
const rss0 = process.memoryUsage().rss
let t = performance.now()
const first = await exchanges.fetchNow('BENCH')
const firstMs = performance.now() - t
running = false
await probe
waits.sort((a, b) => a - b)
const pct = (p: number) => waits[Math.min(waits.length - 1, Math.floor(waits.length * p))]!.toFixed(2)
console.log(`first fetch: ${first.signals} signals in ${(firstMs / 1000).toFixed(1)} s (${Math.round(first.signals / (firstMs / 1000))} signals/s), RSS +${Math.round((process.memoryUsage().rss - rss0) / 2 ** 20)} MB`)
console.log(`lookups during it: ${waits.length}, p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms, max ${waits.at(-1)!.toFixed(2)} ms`)
t = performance.now()
const same = await exchanges.fetchNow('BENCH')
console.log(`unchanged fetch (304): ${same.lastResult} in ${Math.round(performance.now() - t)} ms`)
version = 1
t = performance.now()
const diffed = await exchanges.fetchNow('BENCH')
console.log(`10 % replaced: added ${diffed.counts.added}, removed ${diffed.counts.removed}, unchanged ${diffed.counts.unchanged} in ${((performance.now() - t) / 1000).toFixed(1)} s`)
await node.close()
server.close()
rmSync(dir, { recursive: true, force: true })

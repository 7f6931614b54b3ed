/**
 * Catch-up throughput of the sync protocol between two real nodes on 127.0.0.1, with the in-memory
 * fake replica (so it measures the network layer, not signature verification or LevelDB).
 *   npx tsx scripts/bench-sync.ts [records=50000] [feeds=4] [payloadBytes=200]
 */
import '../src/shim.js'
import { startNode } from '../test/net/helpers.js'

const [records = 50_000, feeds = 4, payloadBytes = 200] = process.argv.slice(2).map(Number)
const source = await startNode()
const payload = 'p'.repeat(payloadBytes)
for (let i = 0; i < records; i++) source.replica.append(`feed-${i % feeds}`, `${i}:${payload}`)
const sink = await startNode()
try {
  await sink.net.dial(source.addr)
  const started = performance.now()
  let total = 0
  let requests = 0
  while (total < records) {
    const report = await sink.net.syncNow(source.peerId)
    if (report.failed > 0) throw new Error(JSON.stringify(report.peers[0]?.error))
    total += report.records.accepted
    requests += report.peers[0]?.requests ?? 0
    if (report.records.accepted === 0) break
  }
  const seconds = (performance.now() - started) / 1000
  console.log(
    JSON.stringify({ records, feeds, payloadBytes, received: total, requests, seconds: +seconds.toFixed(2), recordsPerSecond: Math.round(total / seconds) }),
  )
} finally {
  await sink.net.stop()
  await source.net.stop()
}

/** Prometheus metrics for one node: HTTP requests and latencies, index size, records by kind, network counters. */
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { HashmeshNode } from '../node/node.js'

export interface ApiMetrics {
  registry: Registry
  observeRequest(route: string, method: string, status: number, seconds: number): void
}

export function createMetrics(node: HashmeshNode): ApiMetrics {
  const registry = new Registry()
  const requests = new Counter({ name: 'hashmesh_http_requests_total', help: 'HTTP requests', labelNames: ['route', 'method', 'status'], registers: [registry] })
  const latency = new Histogram({
    name: 'hashmesh_http_request_duration_seconds', help: 'HTTP request latency', labelNames: ['route', 'method'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5], registers: [registry],
  })
  new Gauge({
    name: 'hashmesh_index_pdq_hashes', help: 'distinct PDQ hashes in the match index (federation signals, video frames and bank content)', registers: [registry],
    collect() { this.set(node.indexStats().pdqHashes) },
  })
  new Gauge({
    name: 'hashmesh_index_memory_bytes', help: 'memory held by the PDQ index', registers: [registry],
    collect() { this.set(node.indexStats().memoryBytes) },
  })
  new Gauge({
    name: 'hashmesh_records', help: 'records in the replica by kind', labelNames: ['kind'], registers: [registry],
    collect() {
      for (const [kind, n] of Object.entries(node.counts().byKind)) this.set({ kind }, n)
    },
  })
  new Gauge({
    name: 'hashmesh_signals', help: 'signals in the replica', registers: [registry],
    collect() { this.set(node.counts().signals) },
  })
  new Gauge({
    name: 'hashmesh_equivocations', help: 'equivocation proofs held', registers: [registry],
    collect() { this.set(node.counts().equivocations) },
  })
  new Gauge({
    name: 'hashmesh_local_controls', help: 'flood quarantine and local switches: quarantined records and signals (totals), released records, records held now, switches in force', labelNames: ['counter'], registers: [registry],
    collect() {
      const { quarantine, switches } = node.localControls
      for (const [counter, n] of Object.entries(quarantine.counters)) this.set({ counter }, n)
      this.set({ counter: 'quarantinedNow' }, quarantine.size)
      this.set({ counter: 'switches' }, switches.size)
    },
  })
  new Gauge({
    name: 'hashmesh_incidents', help: 'incident notices kept, duplicate and refused (by code), incidents open, contributions naming an unknown or closed incident', labelNames: ['counter'], registers: [registry],
    collect() {
      const { accepted, duplicate, rejected, contributionsUnknownIncident, contributionsClosedIncident } = node.incidents.counters
      this.set({ counter: 'noticesAccepted' }, accepted)
      this.set({ counter: 'noticesDuplicate' }, duplicate)
      for (const [code, n] of Object.entries(rejected)) this.set({ counter: `noticesRejected_${code}` }, n)
      this.set({ counter: 'open' }, node.incidents.openNotices().length)
      this.set({ counter: 'contributionsUnknownIncident' }, contributionsUnknownIncident)
      this.set({ counter: 'contributionsClosedIncident' }, contributionsClosedIncident)
    },
  })
  // Registered whether or not the network runs yet: runNode builds the API before node.start() (e6e1313),
  // so a check of node.net here left a running node's /metrics without any p2p counter. Empty without a network.
  new Gauge({
    name: 'hashmesh_p2p', help: 'peer-to-peer counters (see docs/operations.md)', labelNames: ['counter'], registers: [registry],
    collect() {
      for (const [counter, n] of Object.entries(node.networkCounters())) this.set({ counter }, n)
    },
  })
  return {
    registry,
    observeRequest(route, method, status, seconds) {
      requests.inc({ route, method, status: String(status) })
      latency.observe({ route, method }, seconds)
    },
  }
}

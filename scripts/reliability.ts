/**
 * Reliability suite (issue 12 item 6): what a dishonest member, an outsider or a crash can do to a
 * federation, tried against real member processes on 127.0.0.1 only. Not part of `npm test` (the quick
 * variants are: test/integration/reliability-quick.test.ts). Each scenario runs within a deadline and
 * ends with one row of the summary table:
 *
 *   scenario | runs | lost | crashes | forks detected on every node | honest peers banned | result | time
 *
 *   a  kill -9 of the RECEIVING node during a 100,000-record catch-up, 20 times (restarted each time):
 *      no record it had stored disappears, it ends with the sender's heads, both stores' chains whole
 *   b  the same with kill -9 of the SENDING (serving) node
 *   c  kill -9 during concurrent submissions: 8 clients POST /v1/contributions while the node is killed
 *      and restarted 10 times; every contribution acknowledged with 2xx is in the feed at its seq and
 *      matches exactly afterwards, the store's chain is whole
 *   d  5 nodes split into {N1,N2} and {N3,N4,N5}; each contributes; N5 forks its feed (its API signs X,
 *      the script signs Y at the same seq with N5's key from its data dir and imports N5's prefix and Y
 *      on N1); N5 goes on with X2; heal (N2 restarts knowing N3); within 60 s every node must detect the
 *      fork (N5's feed flagged or its proof held), reach one replica digest (and one node-reported
 *      digest) and, stores read after the stop, hold one proof set; no honest node banned or penalised
 *   e  stalled-socket attack on a node's p2p port: sockets that send the multistream header and stall
 *      (re-opened 10 ms after each drop): 100 from one address (127.0.0.2), then 100 from 127.0.0.2 ..
 *      127.0.0.6; each time a roster member started meanwhile must connect and sync within 30 s
 *   f  fork attack: member C (offline) signs X1 and Y1 at seq 1; X1 is imported on A, Y1 on B, then
 *      X2 (prev X1) on A; within one sync interval (2 s, + 2 s for the session and the proof's gossip)
 *      A, B and D detect the fork; they reach one replica digest and one proof set, and over a 60 s
 *      observation no honest node bans or penalises another
 *   g  fuzzing: 100,000 inputs each (mutations of the golden vectors in test/vectors/*.json, structural
 *      mutations of their decoded values, random bytes; seeded PRNG) into the record codec, the roster
 *      codec, sync request and response decoding, extras, the gossip validator (real store), the sync
 *      server handler (raw framed bytes over an in-memory stream) and a sync client session against a
 *      lying server; a crash is an exception that is not a typed HashmeshError, a rejected handler, an
 *      uncaught exception or unhandled rejection, or a handler that hangs
 *
 * The replica digest is defined once, in scripts/reliability/common.ts (replicaDigest).
 *
 *   npx tsx scripts/reliability.ts                 # everything, full counts (about 20 minutes here)
 *   npx tsx scripts/reliability.ts --quick         # small counts (12,000 records, 2 kills, 1,000 inputs)
 *   npx tsx scripts/reliability.ts --only a,c,g    # some scenarios
 *   npx tsx scripts/reliability.ts --json out.json # also write every result with its details
 *
 * Exits 1 when any scenario fails.
 */
import '../src/shim.js'
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { runScenario, type Scenario, type ScenarioResult } from './reliability/common.js'
import { SCENARIOS } from './reliability/scenarios.js'

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    json: { type: 'string' },
    seed: { type: 'string' },
  },
})

process.setMaxListeners(64)
const wanted = values.only?.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean)
const unknown = wanted?.filter((id) => !SCENARIOS.some((s) => s.id === id)) ?? []
if (unknown.length > 0) {
  console.error(`unknown scenario ${unknown.join(', ')} (known: ${SCENARIOS.map((s) => s.id).join(', ')})`)
  process.exit(2)
}
const chosen: Scenario[] = SCENARIOS.filter((s) => !wanted || wanted.includes(s.id))
const params: Record<string, number> = values.seed === undefined ? {} : { seed: Number(values.seed) }

const started = performance.now()
const results: ScenarioResult[] = []
for (const scenario of chosen) {
  console.error(`--- ${scenario.id}: ${scenario.name}${values.quick ? ' (quick)' : ''}`)
  const result = await runScenario(scenario, { quick: values.quick, params })
  results.push(result)
  console.error(`--- ${scenario.id}: ${result.ok ? 'PASS' : 'FAIL'} in ${result.seconds.toFixed(1)} s${result.notes.length ? '\n    ' + result.notes.join('\n    ') : ''}`)
}
const total = (performance.now() - started) / 1000

console.log(formatTable(results))
console.log(`total ${total.toFixed(0)} s${values.quick ? ' (quick)' : ''}; ${results.filter((r) => r.ok).length} of ${results.length} passed`)
for (const r of results) if (!r.ok) console.log(`${r.id} failed: ${r.notes.join('; ')}`)
if (values.json) writeFileSync(values.json, JSON.stringify({ quick: values.quick, totalSeconds: total, results }, null, 2) + '\n')
process.exit(results.every((r) => r.ok) ? 0 : 1)

function formatTable(rows: ScenarioResult[]): string {
  const header = ['scenario', 'runs', 'lost', 'crashes', 'forks detected on every node', 'honest peers banned', 'result', 'time']
  const body = rows.map((r) => [
    `${r.id} ${r.name}`,
    r.runs,
    r.lost === null ? 'n/a' : String(r.lost),
    String(r.crashes),
    r.forks,
    r.honestBanned === null ? 'n/a' : String(r.honestBanned),
    r.ok ? 'PASS' : 'FAIL',
    `${r.seconds.toFixed(0)} s`,
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)))
  const line = (cells: string[]) => '| ' + cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |'
  return [line(header), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...body.map(line)].join('\n')
}

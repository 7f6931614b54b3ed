/**
 * The reliability suite's scenarios (scripts/reliability.ts, issue 12) with small counts: real member
 * processes on 127.0.0.1, kill -9, a partition, the stalled-socket and fork attacks, and a short fuzz.
 * The full counts (100,000-record catch-ups, 20 kills, 10^5 fuzz inputs per target) run only from the
 * script: npx tsx scripts/reliability.ts
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { runScenario, type Scenario } from '../../scripts/reliability/common.js'
import { SCENARIOS } from '../../scripts/reliability/scenarios.js'

/** Counts for npm test: smaller than the script's --quick where that keeps the meaning of the check. */
const PARAMS: Record<string, Record<string, number>> = {
  a: { records: 8_000, kills: 1 },
  b: { records: 8_000, kills: 1 },
  c: { kills: 1, clients: 4 },
  d: { convergeMs: 30_000, observeMs: 2_000 },
  e: { control: 0, memberWaitMs: 15_000 },
  f: { observeMs: 3_000 },
  g: { inputs: 300 },
}

const byId = (id: string): Scenario => SCENARIOS.find((s) => s.id === id)!

for (const id of Object.keys(PARAMS)) {
  const scenario = byId(id)
  test(`reliability ${id}: ${scenario.name}`, { timeout: scenario.deadlineMs.quick + 30_000 }, async (t) => {
    const result = await runScenario(scenario, { quick: true, params: PARAMS[id], log: (line) => t.diagnostic(line) })
    t.diagnostic(`${result.runs}; lost ${result.lost ?? 'n/a'}; crashes ${result.crashes}; forks ${result.forks}; honest banned ${result.honestBanned ?? 'n/a'}; ${result.seconds.toFixed(1)} s`)
    assert.ok(result.ok, `${id} failed: ${result.notes.join('; ')}`)
  })
}

/**
 * CLI start-up time: runs the hashmesh CLI N times and prints min and median wall-clock milliseconds.
 *
 *   npx tsx scripts/bench-cli-startup.ts [--runs N] [--mode dist|tsx] [-- ARGS…]
 *
 * `dist` (default) runs `node dist/src/cli/main.js ARGS` (what `npx hashmesh` runs; `npm ci` builds dist via
 * `prepare`, `npm run build` refreshes it); `tsx` runs `node --import tsx src/cli/main.ts ARGS` (what the
 * tests run; includes tsx's own compile cost). ARGS default to `--help`. HASHMESH_REPO=DIR measures another
 * checkout (e.g. an older commit unpacked with `git archive`, its node_modules linked) for a before/after.
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const REPO = process.env.HASHMESH_REPO ?? fileURLToPath(new URL('../', import.meta.url))
const separator = process.argv.indexOf('--')
const own = separator === -1 ? process.argv.slice(2) : process.argv.slice(2, separator)
const cliArgs = separator === -1 ? ['--help'] : process.argv.slice(separator + 1)
const { values } = parseArgs({ args: own, options: { runs: { type: 'string', default: '15' }, mode: { type: 'string', default: 'dist' } } })
const runs = Number(values.runs)
const mode = values.mode === 'tsx' ? 'tsx' : 'dist'
const entry = mode === 'dist' ? ['dist/src/cli/main.js'] : ['--import', 'tsx', 'src/cli/main.ts']
if (mode === 'dist' && !existsSync(REPO + '/dist/src/cli/main.js')) {
  console.error('dist/src/cli/main.js is missing: run "npm run build" first')
  process.exit(1)
}

const times: number[] = []
for (let i = 0; i < runs; i++) {
  const t0 = process.hrtime.bigint()
  const r = spawnSync(process.execPath, [...entry, ...cliArgs], { cwd: REPO, encoding: 'utf8' })
  times.push(Number(process.hrtime.bigint() - t0) / 1e6)
  if (i === 0 && r.status !== 0 && !cliArgs.includes('--help')) console.error(`exit ${r.status}: ${r.stderr.trim().split('\n')[0]}`)
}
times.sort((a, b) => a - b)
const median = times[Math.floor(times.length / 2)]!
console.log(`${mode}: hashmesh ${cliArgs.join(' ')}: ${runs} runs, min ${times[0]!.toFixed(0)} ms, median ${median.toFixed(0)} ms`)

/**
 * Import benchmark (issue 16): a CSV of random PDQ hashes into a local bank, and a CSV of PDQ hashes with
 * labels per line as contributions (signed, 1,000 per record, one record per label set), through the one
 * import path the CLI uses (lists/readImportBatches -> node/importList, saving a checkpoint), on a fresh data
 * directory.
 *
 *   npx tsx scripts/bench-import.ts [--lines 1000000] [--contribute-lines 1000000] [--served-lines 0] [--keep]
 *
 * Phases:
 *   bank        `hashmesh import FILE --bank B` with no node running: the node opened as the CLI opens it
 *               (bankMatching false: exact duplicate checks, no match index; the node builds it at start)
 *   served      the same file into a second bank of a node whose banks are matched (as POST /v1/import on a
 *               running node): the match index grows with the bank, so RSS grows by the index's size
 *   contribute  the labelled CSV as contributions
 *
 * Prints lines/s and RSS (before, peak, growth) for each phase. Targets: bank >= 200,000 lines/s with RSS
 * growth <= 100 MB; contributions >= 50,000 signals/s.
 */
import '../src/shim.js'
import { randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { once } from 'node:events'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { readImportBatches } from '../src/lists/index.js'
import { BanksService } from '../src/node/banks-service.js'
import { initDataDir } from '../src/node/identity.js'
import { importList } from '../src/node/list-import.js'
import { HashmeshNode } from '../src/node/node.js'
import { tempDir } from '../test/helpers/tmp.js'

const { values } = parseArgs({ options: { lines: { type: 'string', default: '1000000' }, 'contribute-lines': { type: 'string', default: '1000000' }, 'served-lines': { type: 'string', default: '0' }, keep: { type: 'boolean', default: false } } })
const LINES = Number(values.lines)
const CONTRIBUTE_LINES = Number(values['contribute-lines'])
const SERVED_LINES = Number(values['served-lines'])
const MB = 1024 * 1024

/** The bank list is PDQ hashes only (as the benchmark); the contribution list has labels per line. */
async function writeCsv(path: string, lines: number, withLabels: boolean): Promise<void> {
  const out = createWriteStream(path)
  out.write(withLabels ? 'pdq_hash,tags\n' : 'pdq_hash\n')
  const labels = ['behavior:propaganda', 'behavior:recruitment entity:isis', '']
  for (let i = 0; i < lines; i += 1000) {
    let chunk = ''
    for (let j = i; j < Math.min(lines, i + 1000); j++) chunk += withLabels ? `${randomBytes(32).toString('hex')},${labels[j % 3]}\n` : `${randomBytes(32).toString('hex')}\n`
    if (!out.write(chunk)) await once(out, 'drain')
  }
  out.end()
  await once(out, 'finish')
}

async function phase(name: string, node: HashmeshNode, file: string, lines: number, into: { bank: string } | { contribute: true }, withLabels: boolean): Promise<void> {
  global.gc?.()
  const beforeUsage = process.memoryUsage()
  const before = beforeUsage.rss
  let peak = before
  let peakUsage = process.memoryUsage()
  const sampler = setInterval(() => {
    const usage = process.memoryUsage()
    if (usage.rss > peak) (peak = usage.rss), (peakUsage = usage)
  }, 50)
  // How long the event loop went without a turn: what a running node's API and network waited for during
  // the import (the served phase runs as POST /v1/import does on a node).
  const loopDelay = monitorEventLoopDelay({ resolution: 5 })
  loopDelay.enable()
  const started = process.hrtime.bigint()
  const cpu = process.cpuUsage()
  // With a checkpoint, as `hashmesh import` runs (it saves one in the data directory as it goes).
  const checkpointKey = randomBytes(16).toString('hex')
  const summary = await importList(node, readImportBatches(file, { format: 'csv', map: { hash: 'pdq_hash', ...(withLabels ? { label: ['tags'] } : {}) }, signalType: 'pdq' }), { into, checkpointKey })
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  const used = process.cpuUsage(cpu)
  const cpuSeconds = (used.user + used.system) / 1e6
  clearInterval(sampler)
  loopDelay.disable()
  peak = Math.max(peak, process.memoryUsage().rss)
  console.log(`${name}: ${lines.toLocaleString('en')} lines in ${seconds.toFixed(2)} s = ${Math.round(lines / seconds).toLocaleString('en')} lines/s; ` +
    `CPU ${cpuSeconds.toFixed(2)} s (${Math.round(lines / cpuSeconds).toLocaleString('en')} lines per CPU-second); accepted ${summary.accepted}, rejected ${summary.rejected}, written ${summary.written}; ` +
    `RSS ${(before / MB).toFixed(0)} MB -> peak ${(peak / MB).toFixed(0)} MB (growth ${((peak - before) / MB).toFixed(0)} MB; ` +
    `event-loop delay max ${(loopDelay.max / 1e6).toFixed(0)} ms, p99 ${(loopDelay.percentile(99) / 1e6).toFixed(0)} ms; JS heap ${(beforeUsage.heapUsed / MB).toFixed(0)} -> ${(peakUsage.heapUsed / MB).toFixed(0)} MB and array buffers ${(beforeUsage.arrayBuffers / MB).toFixed(0)} -> ${(peakUsage.arrayBuffers / MB).toFixed(0)} MB at the peak)`)
}

const dir = tempDir('hashmesh-bench-import-')
try {
  const bankCsv = join(dir.path, 'bank.csv')
  const servedCsv = join(dir.path, 'served.csv')
  const contributeCsv = join(dir.path, 'contribute.csv')
  await writeCsv(bankCsv, LINES, false)
  if (SERVED_LINES > 0) await writeCsv(servedCsv, SERVED_LINES, false)
  if (CONTRIBUTE_LINES > 0) await writeCsv(contributeCsv, CONTRIBUTE_LINES, true)
  const data = join(dir.path, 'data')
  await initDataDir(data, { name: 'bench-import' })
  // As `hashmesh import` opens the data directory when no node runs on it.
  const offline = await HashmeshNode.open(data, { env: {}, bankMatching: false })
  try {
    await new BanksService(offline).createBank({ name: 'BENCH' })
    if (LINES > 0) await phase('bank', offline, bankCsv, LINES, { bank: 'BENCH' }, false)
    if (CONTRIBUTE_LINES > 0) await phase('contribute', offline, contributeCsv, CONTRIBUTE_LINES, { contribute: true }, true)
  } finally {
    await offline.close()
  }
  if (SERVED_LINES > 0) {
    const served = await HashmeshNode.open(data, { env: {} })
    try {
      await new BanksService(served).createBank({ name: 'SERVED' })
      await new BanksService(served).loaded
      await phase('served', served, servedCsv, SERVED_LINES, { bank: 'SERVED' }, false)
    } finally {
      await served.close()
    }
  }
} finally {
  if (!values.keep) dir.cleanup()
}

/**
 * Console benchmark (issue 17): the overview page of a node holding --signals PDQ signals (1 M) in the
 * feeds of --members members (20), opened in Debian's chromium (playwright-core).
 *
 *   first load   page.goto(/ui/overview) with a session -> the overview and its charts drawn (cold, then
 *                the median and worst of --loads warm loads)
 *   updates      gaps between the page's /ui/api/overview answers over --seconds (it asks every 5 s)
 *   node CPU     this process's CPU (the node runs here; chromium is another process) over --seconds with
 *                the page open, minus the same span with no page: the share of one core spent serving it
 *   answer time  /ui/api/overview: request sent -> first byte, as chromium timed it, p50 / max
 *
 * The data: a local federation of --members members (roster of 20); each member's own feed filled with
 * records of 100 PDQ signals (scripts/lib/bench-fill.ts) and imported into member 0, which then starts
 * (index rebuilt) with its API and console; the other members do not run (their addresses refuse).
 *
 *   npx tsx scripts/bench-console.ts                     (1,000,000 signals, 20 members, 60 s windows)
 *   npx tsx scripts/bench-console.ts --signals 100000 --seconds 20
 */
import '../src/shim.js'
import { loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { chromium } from 'playwright-core'
import { runNode } from '../src/api/run-node.js'
import { createLocalFederation } from '../src/node/local-federation.js'
import { HashmeshNode } from '../src/node/node.js'
import { fillOwnFeed, percentile, sleep } from './lib/bench-fill.js'
import { tempDir } from '../test/helpers/tmp.js'
import { buildConsole } from './build-console.mjs'
import { findChromium } from '../test/helpers/browser.js'

const { values } = parseArgs({
  options: {
    signals: { type: 'string', default: '1000000' },
    members: { type: 'string', default: '20' },
    seconds: { type: 'string', default: '60' },
    loads: { type: 'string', default: '5' },
  },
})
const SIGNALS = Number(values.signals)
const MEMBERS = Number(values.members)
const SECONDS = Number(values.seconds)
const PER_RECORD = 100

const round = (x: number, d = 0) => +x.toFixed(d)
const cpuSeconds = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1e6
}

async function main(): Promise<void> {
  const executablePath = findChromium()
  if (!executablePath) throw new Error('no chromium on PATH: apt-get install -y chromium')
  await buildConsole({ quiet: true })
  const dir = tempDir('hashmesh-bench-console-')
  try {
    let t = performance.now()
    const names = Array.from({ length: MEMBERS }, (_, i) => `member-${String(i).padStart(2, '0')}`)
    const fed = await createLocalFederation(dir.path, names, { syncIntervalMs: 15_000 })
    const recordsPerMember = Math.ceil(SIGNALS / PER_RECORD / MEMBERS)
    for (const m of fed.members) await fillOwnFeed(m.dataDir, recordsPerMember, PER_RECORD)
    const fillMs = performance.now() - t
    t = performance.now()
    const home = await HashmeshNode.open(fed.members[0]!.dataDir)
    for (const m of fed.members.slice(1)) {
      const other = await HashmeshNode.open(m.dataDir)
      const batch: Uint8Array[] = []
      for await (const bytes of other.iterateFeed(other.memberKey)) batch.push(bytes)
      await other.close()
      for (let i = 0; i < batch.length; i += 1000) {
        const results = await home.receive(batch.slice(i, i + 1000))
        const bad = results.find((r) => r.verdict === 'rejected')
        if (bad) throw new Error(`import refused: ${bad.code} ${bad.message}`)
      }
    }
    await home.close()
    const importMs = performance.now() - t
    t = performance.now()
    const running = await runNode(fed.members[0]!.dataDir)
    const startMs = performance.now() - t
    const status = running.node.status()
    const held = running.node.localControls.quarantine.list().length
    console.log(`data: ${status.signals.toLocaleString('en')} signals in ${status.records.toLocaleString('en')} records, ${status.feeds} feeds, roster of ${status.roster?.members} members, ${held.toLocaleString('en')} records held by the flood quarantine (imported in bursts); filled in ${round(fillMs / 1000, 1)} s, imported in ${round(importMs / 1000, 1)} s, node started (index rebuilt) in ${round(startMs / 1000, 1)} s`)

    // baseline: the node with no console open
    await sleep(3000)
    let c0 = cpuSeconds()
    let w0 = performance.now()
    await sleep(SECONDS * 1000)
    const idleShare = (cpuSeconds() - c0) / ((performance.now() - w0) / 1000)

    const browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] })
    try {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
      const page = await context.newPage()
      const token = fed.members[0]!.identity.apiToken
      await page.goto(`${running.apiUrl}/ui`)
      await page.fill('input[name=token]', token)
      await page.click('button[type=submit]')
      await page.waitForSelector('[data-testid=overview]')

      const loads: number[] = []
      for (let i = 0; i < Number(values.loads) + 1; i++) {
        const started = performance.now()
        await page.goto(`${running.apiUrl}/ui/overview`)
        await page.waitForSelector('[data-testid=chart-delay] canvas')
        loads.push(performance.now() - started)
      }
      const [cold, ...warm] = loads
      warm.sort((a, b) => a - b)

      const answers: number[] = []
      const serverMs: number[] = []
      page.on('response', (r) => { if (r.url().endsWith('/ui/api/overview')) answers.push(performance.now()) })
      // request sent -> first byte of the answer, as chromium timed it (loopback: the server's time)
      page.on('requestfinished', (r) => {
        if (!r.url().endsWith('/ui/api/overview')) return
        const timing = r.timing()
        serverMs.push(timing.responseStart - timing.requestStart)
      })
      c0 = cpuSeconds()
      w0 = performance.now()
      await sleep(SECONDS * 1000)
      const openShare = (cpuSeconds() - c0) / ((performance.now() - w0) / 1000)
      const gaps = answers.slice(1).map((a, i) => a - answers[i]!)
      serverMs.sort((a, b) => a - b)

      console.log(`first load: cold ${round(cold!)} ms; warm median ${round(percentile(warm, 50))} ms, worst ${round(warm.at(-1)!)} ms (${warm.length} loads; target <= 1000 ms)`)
      console.log(`updates: ${answers.length} overview answers in ${SECONDS} s without reloading; gap median ${round(percentile([...gaps].sort((a, b) => a - b), 50))} ms, worst ${round(Math.max(...gaps))} ms (target <= 5000 ms)`)
      console.log(`server time of /ui/api/overview: p50 ${round(percentile(serverMs, 50), 1)} ms, max ${round(serverMs.at(-1) ?? NaN, 1)} ms`)
      console.log(`node CPU: ${round(idleShare * 100, 2)} % of one core with no page open, ${round(openShare * 100, 2)} % with the overview open: ${round((openShare - idleShare) * 100, 2)} % for serving it (target <= 5 %)`)
      console.log(`load average: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`)
    } finally {
      await browser.close()
      await running.stop()
    }
  } finally {
    dir.cleanup()
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})

/**
 * The /status poller of bench-hma.ts, in plain JavaScript so that it runs on bare node: started under tsx,
 * as it was before, the poller itself took 6.9 s of CPU over a 13.8 s restart (its loader thread, its
 * compiles and collections), about a third of the 2-core machine the server it measures runs on.
 *
 * Run as a child process: takes {url, token, serverPid} by IPC, says 'up' after its first answer, asks GET /status
 * back to back on one keep-alive connection (1 ms apart; status-client.mjs, which stamps each request just
 * before writing it) until the server has answered 200 for a second,
 * and sends back the latencies, with when each answer over 10 ms was asked, and the CPU time of the server's
 * threads and its own meanwhile (thread-times.mjs; see StatusResult in status-poller.d.mts). Each request
 * carries its number (x-bench-seq), and the poller sends back when each was asked and answered, so that the
 * server's side can say when it began and finished each answer (bench-hma.ts).
 */
import { createServer } from 'node:http'
import { pathToFileURL } from 'node:url'
import { StatusClient } from './status-client.mjs'
import { hostStealMs, schedstatOf, startThreadTimes } from './thread-times.mjs'
import { SEQ_HEADER, monotonicMs, percentile } from './status-wire.mjs'

/**
 * One request to a server of this process's own, so that the first answer measured is not this client's
 * first request (its code compiled on first use, some ms that the server had no part in).
 */
async function warmUpClient() {
  const server = createServer((_req, res) => res.end('ok'))
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const client = new StatusClient(`http://127.0.0.1:${server.address().port}`, 'warm-up', SEQ_HEADER)
  for (let seq = 1; seq <= 3; seq++) await client.ask(seq)
  client.close()
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
}

/** What a thread did between two schedstat readings (undefined without both). */
function spentBetween(before, after) {
  if (!before || !after) return undefined
  return { runMs: after.runMs - before.runMs, waitMs: after.waitMs - before.waitMs, slices: after.slices - before.slices }
}

/** Polls until the server has answered 200 for a second; the latencies of all answers and of the 503s alone. */
export async function pollStatus(plan, onFirstAnswer = () => undefined) {
  await warmUpClient()
  const serverMain = plan.serverPid === undefined ? undefined : `/proc/${plan.serverPid}/task/${plan.serverPid}`
  const threads = plan.serverPid === undefined ? undefined : startThreadTimes({ [plan.serverPid]: 'server', [process.pid]: 'poller' })
  const client = new StatusClient(plan.url, plan.token, SEQ_HEADER)
  const times = []
  /** The answers while the index is built (503 INDEX-NOT-LOADED); the 200s after it overlap the network's start. */
  const building = []
  const codes = {}
  /** The answers over 10 ms: when (ms on the machine's monotonic clock, monotonicMs(), which the server's process shares), how long, which status. */
  const slow = []
  /** Every request (index: its number - 1): asked at and answered at, on that clock, and its status. */
  const asked = []
  const answered = []
  const statuses = []
  let readySince
  const started = performance.now()
  while (readySince === undefined || performance.now() - readySince < 1000) {
    // (the server's main thread, read from here around each answer: the server does no extra work per request)
    const serverBefore = serverMain && schedstatOf(serverMain)
    const stealBefore = hostStealMs()
    const { status, askedAt: t0 } = await client.ask(asked.length + 1)
    const t1 = monotonicMs()
    const ms = t1 - t0
    asked.push(t0)
    answered.push(t1)
    statuses.push(status)
    if (times.length === 0) onFirstAnswer()
    times.push(ms)
    if (status === 503) building.push(ms)
    if (ms > 10) {
      const stealAfter = hostStealMs()
      const stealMs = stealBefore === undefined || stealAfter === undefined ? undefined : stealAfter - stealBefore
      slow.push({ seq: asked.length, at: t0, ms, status, serverMain: spentBetween(serverBefore, serverMain && schedstatOf(serverMain)), stealMs })
    }
    codes[status] = (codes[status] ?? 0) + 1
    if (status === 200) readySince ??= performance.now()
    else readySince = undefined
    await new Promise((resolve) => setTimeout(resolve, 1))
  }
  client.close()
  const threadTimes = threads?.stop()
  const byValue = (a, b) => a - b
  times.sort(byValue)
  building.sort(byValue)
  const at = (p, of = times) => percentile(of, p)
  return {
    count: times.length, codes, p50: at(50), p99: at(99), max: times.at(-1) ?? 0, ms: performance.now() - started,
    maxBuilding: building.at(-1) ?? 0, p99Building: at(99, building), p999Building: at(99.9, building), over10Building: building.filter((ms) => ms > 10).length, slow, asked, answered, statuses, threadTimes,
  }
}

// (only as a child process's own script: a process that imports this module is not a poller)
if (process.send && process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.once('message', (plan) => {
    void pollStatus(plan, () => process.send('up')).then((result) => process.send(result, () => process.exit(0)))
  })
}

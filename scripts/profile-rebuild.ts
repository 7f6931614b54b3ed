/**
 * Where a start-up blocks the event loop (issue 14: /status ≤ 10 ms while the index is rebuilt): fills N
 * PDQ signals in the own feed and N in banks, reopens with the API listening, and records a CPU profile of
 * node.start() and the banks' load at a 250 µs sampling interval, while a 1 ms timer notes every gap of ≥ 8 ms
 * between its ticks (the event loop did not turn: what /status would have waited for). Prints each gap with
 * the functions the profile sampled in it.
 *
 *   npx tsx scripts/profile-rebuild.ts [--n 300000]
 */
import '../src/shim.js'
import { randomBytes } from 'node:crypto'
import { initDataDir } from '../src/node/identity.js'
import { HashmeshNode } from '../src/node/node.js'
import { NodeService } from '../src/node/service.js'
import { fillOwnFeed } from './lib/bench-fill.js'
import { tempDir } from '../test/helpers/tmp.js'
import { startGapProfile } from './lib/gap-profile.js'

const n = Number(process.argv[process.argv.indexOf('--n') + 1] || 300_000)
const dir = tempDir('hashmesh-profile-rebuild-')
try {
  await initDataDir(dir.path, { name: 'profile-member' })
  await fillOwnFeed(dir.path, Math.ceil(n / 1000), 1000)
  let node = await HashmeshNode.open(dir.path)
  let service = new NodeService(node)
  const store = await service.banksService.loaded
  for (let b = 0; b < 10; b++) {
    await service.banks.create({ name: `BANK_${b}` })
    for (let done = 0; done < n / 10; done += 5000) {
      const pool = randomBytes(32 * 5000)
      await store.addContents(`BANK_${b}`, Array.from({ length: 5000 }, (_, i) => ({ signals: { pdq: pool.toString('hex', 32 * i, 32 * i + 32) } })))
    }
  }
  await node.close()

  node = await HashmeshNode.open(dir.path)
  service = new NodeService(node)
  const gaps = await startGapProfile()
  const t0 = performance.now()
  await Promise.all([node.start(), service.banksService.loaded])
  const ms = performance.now() - t0
  const samples = await gaps.stop()
  await node.close()
  console.log(`start + banks load: ${(ms / 1000).toFixed(1)} s, ${samples} samples`)
} finally {
  dir.cleanup()
}

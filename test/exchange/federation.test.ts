/**
 * The hashmesh exchange (a member's feed copied into a curated local bank: label filter, checkpoint = seq,
 * revocations delete) and the scheduler owned by the node: attached on first use, started by
 * HashmeshNode.start (an enabled exchange is fetched without being asked), stopped by HashmeshNode.stop.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { initDataDir } from '../../src/node/identity.js'
import { HashmeshNode } from '../../src/node/node.js'
import { exchangesOf } from '../../src/node/exchanges.js'
import { isHashmeshError } from '../../src/errors.js'
import { tempDir } from '../helpers/tmp.js'
import { openExchangeHarness, pdq } from './harness.js'

test('hashmesh exchange: a member\'s signals with the chosen labels fill the bank; the next fetch resumes at the seq; a revocation removes the signal', async () => {
  const h = await openExchangeHarness({ name: 'Watcher' })
  try {
    const first = await h.node.contribute({ signals: [{ type: 'pdq', value: pdq(1), quality: 90 }, { type: 'md5', value: 'ab'.repeat(16) }], labels: ['behavior:glorification'], contentType: 'photo' })
    await h.node.contribute({ signals: [{ type: 'pdq', value: pdq(2), quality: 90 }], labels: ['behavior:recruitment'], contentType: 'photo' })
    await h.exchanges.create({ name: 'FROM_WATCHER', api: 'hashmesh', settings: { member: 'watcher', labels: ['behavior:glorification'] }, enabled: false })
    const fetched = await h.exchanges.fetchNow('FROM_WATCHER')
    assert.equal(fetched.lastResult, 'succeeded', JSON.stringify(fetched.error))
    assert.deepEqual(await h.bankSignals('FROM_WATCHER'), [`md5:${'ab'.repeat(16)}`, `pdq:${pdq(1)}`])
    assert.equal(fetched.checkpoint?.seq, 2)
    await h.node.revoke(first.records[0]!.id, { reason: 'mistake', signal: 0 })
    const after = await h.exchanges.fetchNow('FROM_WATCHER')
    assert.equal(after.counts.removed, 1)
    assert.equal(after.checkpoint?.seq, 3)
    assert.deepEqual(await h.bankSignals('FROM_WATCHER'), [`md5:${'ab'.repeat(16)}`])
    await h.exchanges.create({ name: 'FROM_NOBODY', api: 'hashmesh', settings: { member: 'nobody' }, enabled: false })
    assert.equal((await h.exchanges.fetchNow('FROM_NOBODY')).error?.code, 'NOT_FOUND')
    await assert.rejects(h.exchanges.create({ name: 'FROM_BAD', api: 'hashmesh', settings: { member: 'x', labels: 'terror' } }), (err: unknown) => isHashmeshError(err, 'BAD_REQUEST'))
  } finally {
    await h.close()
  }
})

test('the scheduler runs with the node: node.start() starts it (an enabled exchange is fetched unasked), node.stop() stops it; status and checkpoint survive a restart', async () => {
  const dir = tempDir('hashmesh-exchange-node-')
  try {
    await initDataDir(dir.path, { name: 'scheduled' })
    const path = join(dir.path, 'list.txt')
    writeFileSync(path, `pdq ${pdq(70)}\npdq ${pdq(71)}\n`)
    let node = await HashmeshNode.open(dir.path, { env: {} })
    let exchanges = exchangesOf(node, { minTimerMs: 10 })
    await exchanges.create({ name: 'SCHEDULED', api: 'local_file', settings: { path } })
    assert.equal((await exchanges.status('SCHEDULED')).lastResult, 'never', 'nothing runs before the node starts')
    await node.start()
    const deadline = Date.now() + 10_000
    while ((await exchanges.status('SCHEDULED')).lastResult === 'never' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    const status = await exchanges.status('SCHEDULED')
    assert.equal(status.lastResult, 'succeeded', JSON.stringify(status.error))
    assert.equal(status.signals, 2)
    assert.ok(status.nextRunAt! > Date.now() + 3_500_000, 'next run an interval (3600 s) later')
    await node.stop()
    node = await HashmeshNode.open(dir.path, { env: {} })
    exchanges = exchangesOf(node, { minTimerMs: 10 })
    const reopened = await exchanges.status('SCHEDULED')
    assert.deepEqual({ result: reopened.lastResult, signals: reopened.signals, checkpoint: reopened.checkpoint }, { result: 'succeeded', signals: 2, checkpoint: status.checkpoint })
    await node.close()
  } finally {
    dir.cleanup()
  }
})

/**
 * The CLI's exchanges client both ways: over a running node's /v1/exchanges (found through DIR/node.json,
 * as `hashmesh exchange` finds it) and on the store when no node runs; errors come back as the node's codes.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startApiServer } from '../../src/api/server.js'
import { exchangesClient } from '../../src/cli/exchanges-client.js'
import { isHashmeshError } from '../../src/errors.js'
import { initDataDir } from '../../src/node/identity.js'
import { HashmeshNode } from '../../src/node/node.js'
import { TEST_LIMITS } from '../helpers/api.js'
import { tempDir } from '../helpers/tmp.js'

const pdq = (i: number) => createHash('sha256').update(`client ${i}`).digest('hex')

test('remote (a node runs on DIR) and local (none does): create, list, fetch, credentials, typed errors, remove', async () => {
  const dir = tempDir('hashmesh-exchanges-client-')
  try {
    const { apiToken } = await initDataDir(dir.path, { name: 'client' })
    const list = join(dir.path, 'list.txt')
    writeFileSync(list, `pdq ${pdq(1)}\npdq ${pdq(2)}\n`)

    const local = await exchangesClient(dir.path)
    assert.equal(local.mode, 'local')
    await local.create({ name: 'OFFLINE', api: 'local_file', settings: { path: list }, enabled: false })
    assert.equal((await local.fetch('OFFLINE')).status.signals, 2)
    await local.close()

    const node = await HashmeshNode.open(dir.path, { env: {} })
    const api = await startApiServer(node, { host: '127.0.0.1', port: 0, token: apiToken, ...TEST_LIMITS })
    const running = join(dir.path, 'node.json')
    writeFileSync(running, JSON.stringify({ pid: process.pid, apiUrl: api.url }))
    try {
      const remote = await exchangesClient(dir.path)
      assert.equal(remote.mode, 'remote')
      assert.deepEqual((await remote.list()).map((v) => [v.exchange.name, v.status.signals]), [['OFFLINE', 2]], 'what was made offline is there')
      await remote.create({ name: 'ONLINE', api: 'sample', settings: {}, enabled: false })
      assert.equal((await remote.fetch('ONLINE')).status.signals, 18)
      assert.equal(await remote.setCredentials('tat', { username: 'u', password: 'p' }), true)
      assert.equal(await remote.setCredentials('tat', {}), false)
      await assert.rejects(remote.get('NOPE'), (err: unknown) => isHashmeshError(err, 'NOT_FOUND'))
      await assert.rejects(remote.create({ name: 'BAD', api: 'url', settings: { url: 'ftp://x' }, enabled: false }), (err: unknown) => isHashmeshError(err, 'BAD_REQUEST'))
      await remote.remove('ONLINE')
      await assert.rejects(remote.get('ONLINE'), (err: unknown) => isHashmeshError(err, 'NOT_FOUND'))
      await remote.close()
    } finally {
      rmSync(running, { force: true })
      await api.close()
      await node.close()
    }
  } finally {
    dir.cleanup()
  }
})

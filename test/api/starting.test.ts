import '../../src/shim.js'
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { initDataDir } from '../../src/node/identity.js'
import { HashmeshNode } from '../../src/node/node.js'
import { buildApp } from '../../src/api/server.js'
import { tempDir } from '../helpers/tmp.js'
import { TEST_LIMITS } from '../helpers/api.js'

const PDQ = 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22'

test('while the node starts, the API answers its status routes (HMA /status: 503 INDEX-NOT-LOADED) and 503 BUSY to the rest', async () => {
  const dir = tempDir('hashmesh-starting-')
  const identity = await initDataDir(dir.path, { name: 'starting-member' })
  const node = await HashmeshNode.open(dir.path, { env: {} })
  const app = await buildApp(node, { token: identity.apiToken, ...TEST_LIMITS })
  const call = (method: 'GET' | 'POST', url: string, payload?: object) =>
    app.inject({ method, url, payload, headers: { authorization: `Bearer ${identity.apiToken}` } })
  // hold the index rebuild open: what a node with millions of signals does for a while
  const rebuild = Promise.withResolvers<void>()
  const enableMatching = node.enableMatching.bind(node)
  node.enableMatching = async (progress) => {
    await rebuild.promise
    return enableMatching(progress)
  }
  try {
    const started = node.start()
    assert.equal(node.starting, true)
    const hma = await call('GET', '/status')
    assert.deepEqual([hma.statusCode, hma.body], [503, 'INDEX-NOT-LOADED'])
    assert.equal((await call('GET', '/status/live')).statusCode, 200)
    assert.equal((await call('GET', '/v1/health')).statusCode, 200)
    assert.equal((await call('GET', '/v1/status')).statusCode, 200)
    const match = await call('POST', '/v1/match', { signals: [{ type: 'pdq', value: PDQ }] })
    assert.equal(match.statusCode, 503)
    assert.equal(match.json().error.code, 'BUSY')
    const lookup = await call('GET', `/m/lookup?signal=${PDQ}&signal_type=pdq`)
    assert.equal(lookup.statusCode, 503)
    assert.equal((await app.inject({ method: 'POST', url: '/v1/match', payload: {} })).statusCode, 401) // auth first
    rebuild.resolve()
    await started
    assert.equal(node.starting, false)
    // HMA's /status also waits for the banks, which load beside the start (BanksService): 200 once both are in
    const deadline = Date.now() + 10_000
    while ((await call('GET', '/status')).statusCode !== 200) {
      assert.ok(Date.now() < deadline, 'HMA /status never reached 200 after the start')
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    assert.equal((await call('POST', '/v1/match', { signals: [{ type: 'pdq', value: PDQ }] })).statusCode, 200)
  } finally {
    await app.close()
    await node.close()
    dir.cleanup()
  }
})

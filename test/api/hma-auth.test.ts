/** hma.auth on a listening server (the alternatives apply where requests enter the HTTP server): none and { header }. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startApiServer } from '../../src/api/server.js'
import { initDataDir } from '../../src/node/identity.js'
import { HashmeshNode } from '../../src/node/node.js'
import type { Config } from '../../src/config.js'
import { TEST_LIMITS } from '../helpers/api.js'
import { tempDir } from '../helpers/tmp.js'

async function serve(auth: Config['hma']['auth'], fn: (url: string, token: string) => Promise<void>): Promise<void> {
  const dir = tempDir('hashmesh-hma-auth-')
  const identity = await initDataDir(dir.path, { name: 'auth-member' })
  const node = await HashmeshNode.open(dir.path, { env: {}, overrides: { hma: { auth } } })
  await node.enableMatching()
  const server = await startApiServer(node, { token: identity.apiToken, ...TEST_LIMITS, host: '127.0.0.1', port: 0 })
  try {
    await fn(server.url, identity.apiToken)
  } finally {
    await server.close()
    await node.close()
    dir.cleanup()
  }
}

test('hma.auth "token" (default): HMA routes need the bearer', async () => {
  await serve('token', async (url, token) => {
    assert.equal((await fetch(`${url}/c/banks`)).status, 401)
    assert.equal((await fetch(`${url}/c/banks`, { headers: { authorization: `Bearer ${token}` } })).status, 200)
  })
})

test('hma.auth "none" on loopback: HMA routes answer without a token; /v1 routes still need it', async () => {
  await serve('none', async (url) => {
    assert.equal((await fetch(`${url}/c/banks`)).status, 200)
    assert.equal((await fetch(`${url}/status`)).status, 200)
    assert.equal((await fetch(`${url}/v1/status`)).status, 401)
    assert.equal((await fetch(`${url}/c/banks`, { headers: { authorization: 'Bearer wrong' } })).status, 401)
  })
})

test('hma.auth { header }: the token in that header is accepted on HMA routes only; a wrong one is 401', async () => {
  await serve({ header: 'x-hma-token' }, async (url, token) => {
    assert.equal((await fetch(`${url}/c/banks`)).status, 401)
    assert.equal((await fetch(`${url}/c/banks`, { headers: { 'x-hma-token': token } })).status, 200)
    assert.equal((await fetch(`${url}/c/banks`, { headers: { 'x-hma-token': 'wrong' } })).status, 401)
    assert.equal((await fetch(`${url}/v1/status`, { headers: { 'x-hma-token': token } })).status, 401)
  })
})

test('hma.auth "none" with a non-loopback api.host is refused when the app is built', async () => {
  const dir = tempDir('hashmesh-hma-auth-')
  const identity = await initDataDir(dir.path, { name: 'auth-member' })
  const node = await HashmeshNode.open(dir.path, { env: {}, overrides: { hma: { auth: 'none' }, api: { host: '0.0.0.0' } } })
  try {
    await assert.rejects(startApiServer(node, { token: identity.apiToken, ...TEST_LIMITS, host: '127.0.0.1', port: 0 }), /loopback/)
  } finally {
    await node.close()
    dir.cleanup()
  }
})

/** api/warm-up.ts: the requests the node asks itself before it listens (through the app) and just after (over a socket), not counted in /metrics. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildApp, startApiServer } from '../../src/api/server.js'
import { createServer } from 'node:net'
import { isWarmUp, ownAddress, warmUpRequestPath, warmUpSocketPath } from '../../src/api/warm-up.js'
import { initDataDir } from '../../src/node/identity.js'
import { HashmeshNode } from '../../src/node/node.js'
import { TEST_LIMITS } from '../helpers/api.js'
import { tempDir } from '../helpers/tmp.js'

async function withNode(fn: (node: HashmeshNode, token: string) => Promise<void>): Promise<void> {
  const dir = tempDir('hashmesh-warm-up-')
  const identity = await initDataDir(dir.path, { name: 'warm-member' })
  const node = await HashmeshNode.open(dir.path, { env: {} })
  try {
    await fn(node, identity.apiToken)
  } finally {
    await node.close()
    dir.cleanup()
  }
}

/** The /metrics count of GET /status requests, whatever their status. */
async function statusRequestsCounted(url: string, token: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text()
  const lines = text.split('\n').filter((l) => l.startsWith('hashmesh_http_requests_total{') && l.includes('route="/status"') && l.includes('method="GET"'))
  return lines.reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0)
}

test('warmUpRequestPath asks GET /status through the app, marked as the warm-up', async () => {
  await withNode(async (node, token) => {
    const app = await buildApp(node, { token, ...TEST_LIMITS })
    const seen: { url: string; warmUp: boolean }[] = []
    app.addHook('onRequest', async (request) => void seen.push({ url: request.url, warmUp: isWarmUp(request) }))
    await app.ready()
    await warmUpRequestPath(app, token)
    assert.deepEqual(seen, [{ url: '/status', warmUp: true }])
    const asked = await app.inject({ method: 'GET', url: '/status', headers: { authorization: `Bearer ${token}`, 'x-hashmesh-warm-up': 'guessed' } })
    assert.ok([200, 503].includes(asked.statusCode))
    assert.deepEqual(seen.at(-1), { url: '/status', warmUp: false }) // (the header without this process's value is a client's)
    await app.close()
  })
})

test('on a listening server (which asked its own /status before it listened), /metrics counts the clients\' requests only, a guessed warm-up header included', async () => {
  await withNode(async (node, token) => {
    const server = await startApiServer(node, { token, ...TEST_LIMITS, host: '127.0.0.1', port: 0 })
    try {
      assert.equal(await statusRequestsCounted(server.url, token), 0)
      await fetch(`${server.url}/status`, { headers: { authorization: `Bearer ${token}` } })
      await fetch(`${server.url}/status`, { headers: { authorization: `Bearer ${token}`, 'x-hashmesh-warm-up': 'guessed' } })
      assert.equal(await statusRequestsCounted(server.url, token), 2)
    } finally {
      await server.close()
    }
  })
})

test('warmUpSocketPath asks GET /status over a real connection, marked as the warm-up, and resolves once the server has closed it', async () => {
  await withNode(async (node, token) => {
    const app = await buildApp(node, { token, ...TEST_LIMITS })
    const seen: { url: string; warmUp: boolean; overSocket: boolean }[] = []
    app.addHook('onRequest', async (request) => void seen.push({ url: request.url, warmUp: isWarmUp(request), overSocket: typeof request.raw.socket.remotePort === 'number' }))
    await app.listen({ host: '127.0.0.1', port: 0 })
    try {
      const address = app.server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      const started = performance.now()
      await warmUpSocketPath('127.0.0.1', port, token)
      assert.ok(performance.now() - started < 900, 'ended by the server closing the connection, not by the time-out')
      assert.deepEqual(seen, [{ url: '/status', warmUp: true, overSocket: true }])
    } finally {
      await app.close()
    }
  })
})

test('warmUpSocketPath never holds a start up: nothing listening, or a server that never answers (a second at most)', async () => {
  const silent = createServer(() => undefined)
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  const address = silent.address()
  const port = typeof address === 'object' && address ? address.port : 0
  try {
    let started = performance.now()
    await warmUpSocketPath('127.0.0.1', port, 'token')
    const waited = performance.now() - started
    assert.ok(waited >= 900 && waited < 3_000, `${waited} ms`)
    silent.close()
    await new Promise((resolve) => setTimeout(resolve, 50))
    started = performance.now()
    await warmUpSocketPath('127.0.0.1', port, 'token') // (refused)
    assert.ok(performance.now() - started < 900)
  } finally {
    silent.close()
  }
})

test('ownAddress: the address listened on, or loopback for every address', () => {
  assert.equal(ownAddress('127.0.0.1'), '127.0.0.1')
  assert.equal(ownAddress('0.0.0.0'), '127.0.0.1')
  assert.equal(ownAddress('::'), '::1')
  assert.equal(ownAddress('[::1]'), '::1')
  assert.equal(ownAddress('10.0.0.5'), '10.0.0.5')
})

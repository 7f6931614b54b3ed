/** The real API server (runNode) on 127.0.0.1 with fetch: a full round trip, token rotation, bind address, port config. */
import '../../src/shim.js'
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadConfig } from '../../src/config.js'
import { FILES, initDataDir, rotateApiToken } from '../../src/node/identity.js'
import { freePort } from '../../src/node/local-federation.js'
import { runNode, type RunningNode } from '../../src/api/run-node.js'
import { expectedPdq, pdqFixture } from '../helpers/api.js'
import { tempDir } from '../helpers/tmp.js'

async function startNode(name: string, overrides = { api: { port: 0 } }): Promise<{ running: RunningNode; dataDir: string; cleanup: () => Promise<void> }> {
  const dir = tempDir('hashmesh-server-')
  await initDataDir(dir.path, { name })
  const running = await runNode(dir.path, { overrides })
  return { running, dataDir: dir.path, cleanup: async () => { await running.stop(); dir.cleanup() } }
}

function client(baseUrl: string, token: () => string) {
  return async (method: string, path: string, body?: object | Uint8Array, contentType?: string) => {
    const headers: Record<string, string> = { authorization: `Bearer ${token()}` }
    let payload: BodyInit | undefined
    if (body instanceof Uint8Array) {
      headers['content-type'] = contentType ?? 'application/octet-stream'
      payload = new Uint8Array(body)
    } else if (body !== undefined) {
      headers['content-type'] = 'application/json'
      payload = JSON.stringify(body)
    }
    const res = await fetch(baseUrl + path, { method, headers, body: payload })
    return { status: res.status, body: (await res.json()) as any }
  }
}

test('start -> contribute an image -> match it -> revoke -> no match, through the real server on 127.0.0.1', async () => {
  const { running, dataDir, cleanup } = await startNode('server-member')
  try {
    assert.match(running.apiUrl, /^http:\/\/127\.0\.0\.1:\d+$/)
    assert.notEqual(running.apiUrl, 'http://127.0.0.1:0')
    assert.equal(running.network, undefined, 'no roster: p2p stays off')
    assert.equal(JSON.parse(readFileSync(join(dataDir, FILES.running), 'utf8')).apiUrl, running.apiUrl)
    const token = readFileSync(join(dataDir, FILES.apiToken), 'utf8').trim()
    const call = client(running.apiUrl, () => token)

    const health = await fetch(`${running.apiUrl}/v1/health`)
    assert.equal(health.status, 200)
    assert.equal((await call('GET', '/v1/status')).body.index.ready, true)

    const image = pdqFixture('square-128x128.jpg')
    const contributed = await call('POST', '/v1/contributions?labels=behavior:propaganda', image, 'image/jpeg')
    assert.equal(contributed.status, 201, JSON.stringify(contributed.body))
    const recordId = contributed.body.records[0].id as string
    assert.equal(contributed.body.fingerprint.pdq.hash, expectedPdq('square-128x128.jpg').hash)

    const byBytes = await call('POST', '/v1/match', image, 'image/jpeg')
    assert.equal(byBytes.status, 200)
    assert.deepEqual(byBytes.body.matches.map((m: { type: string }) => m.type).sort(), ['md5', 'pdq', 'sha256'])
    const byHash = await call('POST', '/v1/match', { signals: [{ type: 'pdq', value: expectedPdq('square-128x128.jpg').hash }] })
    assert.equal(byHash.body.matches[0].records[0].id, recordId)
    assert.equal(byHash.body.matches[0].records[0].member.name, 'server-member')

    const revoked = await call('POST', `/v1/contributions/${recordId}/revoke`)
    assert.equal(revoked.status, 201, JSON.stringify(revoked.body))
    assert.deepEqual((await call('POST', '/v1/match', image, 'image/jpeg')).body.matches, [])
    assert.deepEqual((await call('POST', '/v1/match', { signals: [{ type: 'pdq', value: expectedPdq('square-128x128.jpg').hash }] })).body.matches, [])

    const metrics = await fetch(`${running.apiUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } })
    assert.match(await metrics.text(), /hashmesh_http_requests_total\{route="\/v1\/match",method="POST",status="200"\} 4/)
  } finally {
    await cleanup()
  }
  assert.equal(existsSync(join(dataDir, FILES.running)), false)
})

test('rotating the API token takes effect without a restart: old token 401, new token 200', async () => {
  const { running, dataDir, cleanup } = await startNode('rotating-member')
  try {
    const before = readFileSync(join(dataDir, FILES.apiToken), 'utf8').trim()
    const status = (token: string) => fetch(`${running.apiUrl}/v1/status`, { headers: { authorization: `Bearer ${token}` } })
    assert.equal((await status(before)).status, 200)
    const after = rotateApiToken(dataDir)
    assert.notEqual(after, before)
    const old = await status(before)
    assert.equal(old.status, 401)
    assert.equal(((await old.json()) as { error: { code: string } }).error.code, 'UNAUTHORIZED')
    assert.equal((await status(after)).status, 200)
  } finally {
    await cleanup()
  }
})

test('the API listens on 127.0.0.1 only by default', async () => {
  assert.equal(loadConfig({ env: {} }).api.host, '127.0.0.1')
  const { running, cleanup } = await startNode('loopback-member')
  try {
    const address = running.api.app.server.address()
    assert.ok(address && typeof address === 'object')
    assert.equal(address.address, '127.0.0.1')
    assert.equal(address.family, 'IPv4')
  } finally {
    await cleanup()
  }
})

test('loadConfig honours HASHMESH_API_PORT over DIR/config.json, and refuses a bad one', async () => {
  const dir = tempDir('hashmesh-config-')
  try {
    await initDataDir(dir.path, { name: 'config-member', apiPort: 9100 })
    assert.equal(loadConfig({ dataDir: dir.path, env: {} }).api.port, 9100)
    assert.equal(loadConfig({ dataDir: dir.path, env: { HASHMESH_API_PORT: '9201' } }).api.port, 9201)
    assert.equal(loadConfig({ env: { HASHMESH_API_PORT: '0' } }).api.port, 0)
    assert.equal(loadConfig({ dataDir: dir.path, env: { HASHMESH_API_PORT: '9201' }, overrides: { api: { port: 9302 } } }).api.port, 9302, 'explicit overrides win')
    for (const bad of ['http', '70000', '-1', '80.5']) {
      assert.throws(() => loadConfig({ env: { HASHMESH_API_PORT: bad } }), (err: { code?: string; message?: string }) => err.code === 'CONFIG_INVALID' && /api\.port/.test(err.message ?? ''), bad)
    }
  } finally {
    dir.cleanup()
  }
})

test('runNode listens on the port HASHMESH_API_PORT names', async () => {
  const port = await freePort()
  const saved = process.env.HASHMESH_API_PORT
  process.env.HASHMESH_API_PORT = String(port)
  const dir = tempDir('hashmesh-server-')
  try {
    await initDataDir(dir.path, { name: 'env-port-member' })
    const running = await runNode(dir.path)
    try {
      assert.equal(running.apiUrl, `http://127.0.0.1:${port}`)
      assert.equal((await fetch(`${running.apiUrl}/v1/health`)).status, 200)
    } finally {
      await running.stop()
    }
  } finally {
    if (saved === undefined) delete process.env.HASHMESH_API_PORT
    else process.env.HASHMESH_API_PORT = saved
    dir.cleanup()
  }
})

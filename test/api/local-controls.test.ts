import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildApp } from '../../src/api/server.js'
import { HashmeshNode } from '../../src/node/node.js'
import { openApiHarness, TEST_LIMITS } from '../helpers/api.js'
import { randomPdqHex } from '../helpers/records.js'

test('switches over HTTP: set, explained in /v1/match within 1 s, listed, kept across a restart, resumed; bad input refused with codes', async () => {
  const h = await openApiHarness('switch-api')
  let app = h.app
  let node = h.node
  const call = (options: Parameters<typeof h.call>[0]) => app.inject({ ...options, headers: { authorization: `Bearer ${h.token}` } })
  try {
    const value = randomPdqHex()
    const contributed = await call({ method: 'POST', url: '/v1/contributions', payload: { signals: [{ type: 'pdq', value, quality: 90 }], labels: [] } })
    assert.equal(contributed.statusCode, 201, contributed.body)
    const recordId = contributed.json().records[0].id as string
    const match = async () => (await call({ method: 'POST', url: '/v1/match', payload: { signals: [{ type: 'pdq', value }] } })).json().matches[0]
    assert.equal((await match()).status, 'actionable')

    const started = Date.now()
    const set = await call({ method: 'POST', url: '/v1/switches', payload: { kind: 'signal', target: `pdq:${value.toUpperCase()}`, until: null, reason: 'under review', by: 'duty-officer' } })
    assert.equal(set.statusCode, 201, set.body)
    assert.equal(set.json().target, `pdq:${value}`, 'the signal is stored lowercase')
    const off = await match()
    assert.ok(Date.now() - started < 1000)
    assert.equal(off.status, 'filtered')
    assert.match(off.reasons[0], /^signal disabled locally at .* by duty-officer: under review$/)
    assert.equal(off.records[0].local.state, 'disabled')

    const listed = await call({ method: 'GET', url: '/v1/switches' })
    assert.deepEqual(listed.json().switches.map((s: { kind: string; target: string }) => [s.kind, s.target]), [['signal', `pdq:${value}`]])
    assert.match((await call({ method: 'GET', url: '/metrics' })).body, /hashmesh_local_controls\{counter="switches"\} 1/)

    // a restart: the switch is still in force
    await app.close()
    await node.close()
    node = await HashmeshNode.open(h.dataDir, { env: {} })
    await node.enableMatching()
    app = await buildApp(node, { token: h.token, ...TEST_LIMITS })
    assert.equal((await match()).status, 'filtered')

    const bad: Array<[unknown, string]> = [
      [{ kind: 'feed', target: 'x' }, 'BAD_REQUEST'],
      [{ kind: 'signal', target: 'pdq:1234' }, 'HASH_INVALID'],
      [{ kind: 'signal', target: `xyz:${value}` }, 'SIGNAL_INVALID'],
      [{ kind: 'record', target: 'zz' }, 'BAD_REQUEST'],
      [{ kind: 'member', target: node.memberKey }, 'BAD_REQUEST'],
      [{ kind: 'record', target: recordId, until: Date.now() - 1000 }, 'BAD_REQUEST'],
      [{ kind: 'record', target: recordId, until: Date.now() + 20 * 365 * 86_400_000 }, 'BAD_REQUEST'],
      [{ kind: 'record', target: recordId, extra: 1 }, 'BAD_REQUEST'],
    ]
    for (const [payload, code] of bad) {
      const res = await call({ method: 'POST', url: '/v1/switches', payload: payload as object })
      assert.equal(res.statusCode, 400, `${JSON.stringify(payload)}: ${res.body}`)
      assert.equal(res.json().error.code, code, JSON.stringify(payload))
    }
    assert.equal((await call({ method: 'DELETE', url: `/v1/switches/record/${recordId}` })).json().error.code, 'NOT_FOUND')

    const resumed = await call({ method: 'DELETE', url: `/v1/switches/signal/pdq:${value}` })
    assert.equal(resumed.statusCode, 200, resumed.body)
    assert.equal((await match()).status, 'actionable')

    const quarantine = await call({ method: 'GET', url: '/v1/quarantine' })
    assert.deepEqual(quarantine.json().records, [])
    const release = await call({ method: 'POST', url: '/v1/quarantine/release', payload: { all: true, member: node.memberKey } })
    assert.equal(release.json().error.code, 'BAD_REQUEST', 'one of records, member, all')
    assert.equal((await call({ method: 'POST', url: '/v1/quarantine/release', payload: { records: [recordId] } })).json().error.code, 'NOT_FOUND')
    assert.equal((await app.inject({ method: 'GET', url: '/v1/switches' })).statusCode, 401, 'the token is needed')

    const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json()
    for (const path of ['/v1/switches', '/v1/switches/{kind}/{target}', '/v1/quarantine', '/v1/quarantine/release']) assert.ok(doc.paths[path], `${path} documented`)
    assert.ok(doc.paths['/v1/switches'].post.summary)
  } finally {
    await app.close()
    await node.close()
    await h.close().catch(() => undefined)
  }
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildApp } from '../../src/api/server.js'
import { initDataDir } from '../../src/node/identity.js'
import { HashmeshNode } from '../../src/node/node.js'
import { IncidentBook, MAX_DECLARATIONS_PER_HOUR, MAX_NOTICES_PER_HOUR } from '../../src/node/incidents.js'
import { MemoryKeyValueStore } from '../../src/store/memory-kv.js'
import { signIncidentNotice } from '../../src/record/incident.js'
import { TEST_LIMITS } from '../helpers/api.js'
import { memberFromByte, randomPdqHex, signalsBody } from '../helpers/records.js'
import { createRecord } from '../../src/record/build.js'
import { tempDir } from '../helpers/tmp.js'

test('incidents over HTTP: declare, contributions name it (label), listed with when each arrived; autoAct acts without minAgreeingMembers; bad input refused with codes', async () => {
  const dir = tempDir('hashmesh-incident-')
  const identity = await initDataDir(dir.path, { name: 'Alpha' })
  const node = await HashmeshNode.open(dir.path, { env: {}, overrides: { match: { minAgreeingMembers: 2 }, incident: { autoAct: true } } })
  await node.enableMatching()
  const app = await buildApp(node, { token: identity.apiToken, ...TEST_LIMITS })
  const call = (options: { method: 'GET' | 'POST'; url: string; payload?: object }) => app.inject({ ...options, headers: { authorization: `Bearer ${identity.apiToken}` } })
  try {
    const declared = await call({ method: 'POST', url: '/v1/incidents', payload: { title: 'Live-streamed attack', severity: 'critical', reference: 'CIP-1' } })
    assert.equal(declared.statusCode, 201, declared.body)
    const incident = declared.json()
    assert.match(incident.id, /^[0-9a-f]{32}$/)
    assert.equal(incident.state, 'open')
    assert.equal(incident.declaredBy.name, 'Alpha')

    const inIncident = randomPdqHex()
    const ordinary = randomPdqHex()
    const c1 = await call({ method: 'POST', url: '/v1/contributions', payload: { signals: [{ type: 'pdq', value: inIncident, quality: 90 }], labels: [`incident:${incident.id}`] } })
    assert.equal(c1.statusCode, 201, c1.body)
    await call({ method: 'POST', url: '/v1/contributions', payload: { signals: [{ type: 'pdq', value: ordinary, quality: 90 }], labels: [] } })
    const match = async (value: string) => (await call({ method: 'POST', url: '/v1/match', payload: { signals: [{ type: 'pdq', value }] } })).json().matches[0]
    const acted = await match(inIncident)
    assert.equal(acted.status, 'actionable', acted.reasons.join('; '))
    assert.equal(acted.records[0].incident, incident.id)
    assert.deepEqual((await match(ordinary)).reasons, ['1 of 2 required members agree'], 'minAgreeingMembers still holds outside incidents')

    const listed = (await call({ method: 'GET', url: '/v1/incidents' })).json().incidents
    assert.equal(listed.length, 1)
    assert.equal(listed[0].contributions.length, 1)
    assert.equal(listed[0].contributions[0].record, c1.json().records[0].id)
    assert.ok(listed[0].contributions[0].receivedHere >= listed[0].contributions[0].signedAt)

    // bad input: each refused with its code
    const refused = async (url: string, payload: object, status: number, code: string) => {
      const res = await call({ method: 'POST', url, payload })
      assert.equal(res.statusCode, status, `${url} ${JSON.stringify(payload)}: ${res.body}`)
      assert.equal(res.json().error.code, code)
    }
    const now = Date.now()
    await refused('/v1/incidents', { title: 'x', severity: 'critical', start: now - 3 * 86_400_000, expiry: now - 86_400_000 }, 400, 'RECORD_INVALID')
    await refused('/v1/incidents', { title: 'x', severity: 'critical', expiry: now + 3 * 365 * 86_400_000 }, 400, 'RECORD_INVALID')
    await refused('/v1/incidents', { title: 'x', severity: 'apocalyptic' }, 400, 'BAD_REQUEST')
    await refused('/v1/contributions', { signals: [{ type: 'pdq', value: randomPdqHex() }], labels: [`incident:${'ab'.repeat(16)}`] }, 404, 'NOT_FOUND')

    // close: contributions may no longer name it, and it leaves the open list
    const closed = await call({ method: 'POST', url: `/v1/incidents/${incident.id}/close` })
    assert.equal(closed.statusCode, 200, closed.body)
    assert.equal(closed.json().state, 'closed')
    await refused('/v1/contributions', { signals: [{ type: 'pdq', value: randomPdqHex() }], labels: [`incident:${incident.id}`] }, 400, 'RECORD_INVALID')
    await refused(`/v1/incidents/${incident.id}/update`, { title: 'again' }, 400, 'RECORD_INVALID')
    assert.deepEqual((await call({ method: 'GET', url: '/v1/incidents' })).json().incidents, [])
    assert.equal((await call({ method: 'GET', url: '/v1/incidents?all=true' })).json().incidents.length, 1)

    // a flood of declarations is limited
    for (let i = 1; i < MAX_DECLARATIONS_PER_HOUR; i++) assert.equal((await call({ method: 'POST', url: '/v1/incidents', payload: { title: `t${i}`, severity: 'low' } })).statusCode, 201)
    await refused('/v1/incidents', { title: 'one too many', severity: 'low' }, 429, 'RATE_LIMITED')
    assert.equal(node.incidents.counters.rejected.RATE_LIMITED, 1)
    assert.ok((await call({ method: 'GET', url: '/docs/json' })).json().paths['/v1/incidents/{id}/close'])
  } finally {
    await app.close()
    await node.close()
    dir.cleanup()
  }
})

test('incident notices from peers: a non-member, an update by another member, an unknown incident are refused and counted; notices survive a reopen', async () => {
  const alpha = memberFromByte(11)
  const bravo = memberFromByte(12)
  const outsider = memberFromByte(13)
  const members = new Set([alpha.publicKeyHex, bravo.publicKeyHex])
  const kv = new MemoryKeyValueStore()
  const book = await IncidentBook.open(kv, (k) => members.has(k))
  const now = Date.now()
  const declare = { action: 'declare' as const, incident: 'ab'.repeat(16), revision: 1, timestamp: now, title: 'attack', severity: 'high' as const, start: now, expiry: now + 3_600_000, description: '' }
  assert.equal((await book.receive(signIncidentNotice(declare, outsider).bytes, now)).code, 'UNKNOWN_AUTHOR')
  assert.equal((await book.receive(signIncidentNotice(declare, alpha).bytes, now)).verdict, 'accepted')
  assert.equal((await book.receive(signIncidentNotice(declare, alpha).bytes, now)).verdict, 'duplicate')
  assert.equal((await book.receive(signIncidentNotice({ ...declare, action: 'update', revision: 2 }, bravo).bytes, now)).code, 'REVOKE_NOT_AUTHOR')
  assert.equal((await book.receive(signIncidentNotice({ ...declare, incident: 'cd'.repeat(16), action: 'close', revision: 2 }, bravo).bytes, now)).code, 'NOT_FOUND')
  assert.equal((await book.receive(signIncidentNotice({ ...declare, incident: 'ef'.repeat(16) }, bravo).bytes, now + 2 * 3_600_000)).code, 'RECORD_INVALID', 'expired on arrival')
  assert.equal((await book.receive(Uint8Array.from([1, 2, 3]), now)).code, 'RECORD_DECODE')
  assert.deepEqual(book.counters.rejected, { UNKNOWN_AUTHOR: 1, REVOKE_NOT_AUTHOR: 1, NOT_FOUND: 1, RECORD_INVALID: 1, RECORD_DECODE: 1 })
  assert.equal((await book.receive(signIncidentNotice({ ...declare, action: 'update', revision: 2, severity: 'critical' }, alpha).bytes, now)).verdict, 'accepted')
  // a contribution that arrives before its incident's declaration (a node joining mid-incident) is attached when it comes
  const early = createRecord(bravo, { seq: 0, id: null }, 'signals', signalsBody([randomPdqHex()], [`incident:${'12'.repeat(16)}`]), now)
  book.observe([early.record], now)
  assert.equal(book.counters.contributionsUnknownIncident, 1)
  assert.equal((await book.receive(signIncidentNotice({ ...declare, incident: '12'.repeat(16) }, alpha).bytes, now + 10)).verdict, 'accepted')
  assert.deepEqual([...book.get('12'.repeat(16))!.contributions.keys()], [early.record.id])
  // a flood of updates is limited too
  let refusedUpdate: string | undefined
  for (let revision = 3; revision < MAX_NOTICES_PER_HOUR + 5 && !refusedUpdate; revision++) {
    const r = await book.receive(signIncidentNotice({ ...declare, action: 'update', revision, severity: 'critical' }, alpha).bytes, now)
    if (r.verdict !== 'accepted') refusedUpdate = r.code
  }
  assert.equal(refusedUpdate, 'RATE_LIMITED')
  const reopened = await IncidentBook.open(kv, (k) => members.has(k))
  assert.equal(reopened.get('ab'.repeat(16))?.notice.severity, 'critical')
  assert.equal(reopened.openNotices(now).length, 2)
  assert.deepEqual([...reopened.get('12'.repeat(16))!.contributions.keys()], [early.record.id], 'kept in the store')
  assert.equal(reopened.openNotices(now + 2 * 3_600_000).length, 0, 'expired')
  // over the rate of notices, the member can still close its incident: a close is never refused for the rate
  const latest = book.get('ab'.repeat(16))!.notice.revision
  assert.equal((await book.receive(signIncidentNotice({ ...declare, action: 'close', revision: latest + 1 }, alpha).bytes, now)).verdict, 'accepted')
  assert.equal(book.stateOf(book.get('ab'.repeat(16))!, now), 'closed')
})

test('the same notice arriving twice at once (gossip and catch-up) is accepted once and announced once', async () => {
  const alpha = memberFromByte(21)
  const book = await IncidentBook.open(new MemoryKeyValueStore(), (k) => k === alpha.publicKeyHex)
  const announced: string[] = []
  book.onNotice((_state, bytes) => announced.push(Buffer.from(bytes).toString('hex')))
  const now = Date.now()
  const declare = { action: 'declare' as const, incident: '9a'.repeat(16), revision: 1, timestamp: now, title: 'attack', severity: 'high' as const, start: now, expiry: now + 3_600_000, description: '' }
  const bytes = signIncidentNotice(declare, alpha).bytes
  const verdicts = await Promise.all([book.receive(bytes, now), book.receive(bytes, now)])
  assert.deepEqual(verdicts.map((v) => v.verdict).sort(), ['accepted', 'duplicate'])
  assert.equal(announced.length, 1)
  assert.equal(book.counters.accepted, 1)
})

/** POST /v1/import: a list streamed in the body through the one import path, answers and errors. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { gzipSync } from 'node:zlib'
import { BanksService } from '../../src/node/banks-service.js'
import { errorCode, openApiHarness } from '../helpers/api.js'
import { pdqHex } from '../helpers/records.js'

const octet = { 'content-type': 'application/octet-stream' }

test('POST /v1/import fills a bank from a CSV body (gzip too), reports rejected lines, refuses a wrong format', async () => {
  const h = await openApiHarness('import-route')
  try {
    await new BanksService(h.node).createBank({ name: 'API_BANK' })
    const csv = ['pdq_hash,tags', `${pdqHex(1)},behavior:propaganda`, 'nothex,', `${pdqHex(2)},`, `${pdqHex(1)},`].join('\n') + '\n'
    const res = await h.call({ method: 'POST', url: '/v1/import?format=csv&bank=API_BANK&type=pdq&map=hash%3Dpdq_hash,label%3Dtags', headers: octet, payload: csv })
    assert.equal(res.statusCode, 200, res.body)
    const body = res.json() as { accepted: number; written: number; rejected: number; rejections: Array<{ line: number; code: string }> }
    assert.equal(body.accepted, 2)
    assert.equal(body.written, 2)
    assert.deepEqual(body.rejections.map((r) => `${r.line} ${r.code}`), ['3 BAD_HEX', '5 DUPLICATE'])
    const gz = await h.call({ method: 'POST', url: '/v1/import?bank=API_BANK&format=te-local', headers: octet, payload: gzipSync(`pdq ${pdqHex(3)}\n`) })
    assert.equal((gz.json() as { written: number }).written, 1)
    assert.equal((await (await new BanksService(h.node).loaded).listContent('API_BANK')).length, 3)
    const wrong = await h.call({ method: 'POST', url: '/v1/import?format=stix&bank=API_BANK', headers: octet, payload: csv })
    assert.equal(wrong.statusCode, 400)
    assert.equal(errorCode(wrong), 'BAD_REQUEST')
    assert.match(wrong.body, /looks like csv/)
    assert.equal(errorCode(await h.call({ method: 'POST', url: '/v1/import?format=csv&bank=NOPE', headers: octet, payload: csv })), 'NOT_FOUND')
    assert.equal((await h.call({ method: 'POST', url: '/v1/import?format=nope&bank=API_BANK', headers: octet, payload: csv })).statusCode, 400)
    assert.equal((await h.call({ method: 'POST', url: '/v1/import?format=csv', headers: octet, payload: csv })).statusCode, 400, 'no target')
    assert.equal((await h.call({ method: 'POST', url: '/v1/import?bank=API_BANK', headers: { ...octet, authorization: 'Bearer wrong' }, payload: csv })).statusCode, 401)
    const dry = await h.call({ method: 'POST', url: '/v1/import?contribute=true&dryRun=true&format=te-local', headers: octet, payload: `pdq ${pdqHex(9)}\n` })
    assert.equal((dry.json() as { accepted: number; written: number }).accepted, 1)
  } finally {
    await h.close()
  }
})

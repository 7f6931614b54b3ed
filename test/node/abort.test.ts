import '../../src/shim.js'
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { initDataDir } from '../../src/node/identity.js'
import { HashmeshNode } from '../../src/node/node.js'
import { NodeService } from '../../src/node/service.js'
import { HashmeshError } from '../../src/errors.js'
import { tempDir } from '../helpers/tmp.js'

const PDQ = 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22'

test('use cases given an aborted signal write nothing and answer with the signal\'s typed reason', async () => {
  const dir = tempDir('hashmesh-abort-')
  await initDataDir(dir.path, { name: 'abort-member' })
  const node = await HashmeshNode.open(dir.path, { env: {} })
  const service = new NodeService(node)
  try {
    const gone = AbortSignal.abort(new HashmeshError('BAD_REQUEST', 'the client closed the connection'))
    const input = { signals: [{ type: 'pdq' as const, value: PDQ, quality: 100 }], labels: [] }
    await assert.rejects(service.contribute(input, { signal: gone }), { code: 'BAD_REQUEST' })
    assert.equal(node.counts().records, 0)
    const { records: [own] } = await service.contribute(input)
    await assert.rejects(service.revoke(own!.id, {}, { signal: AbortSignal.abort() }), { code: 'TIMEOUT' })
    await assert.rejects(service.record(own!.id, { signal: AbortSignal.abort() }), { code: 'TIMEOUT' })
    await assert.rejects(service.feed(node.signer.publicKeyHex, {}, { signal: AbortSignal.abort() }), { code: 'TIMEOUT' })
    assert.equal(node.counts().records, 1)
    const revoked = await service.revoke(own!.id, {}, { signal: AbortSignal.timeout(5_000) })
    assert.equal(revoked.record.kind, 'revoke')
    assert.equal(node.counts().records, 2)
  } finally {
    await service.close()
    await node.close()
    dir.cleanup()
  }
})

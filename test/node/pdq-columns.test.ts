/** A node started on a store begun before records kept their PDQ hashes as one value writes those values in the background (store/replica-store.ts completePdqColumns), so its next start reads them. */
import '../../src/shim.js'
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { FILES, initDataDir } from '../../src/node/identity.js'
import { HashmeshNode } from '../../src/node/node.js'
import { NodeService } from '../../src/node/service.js'
import { openLevel } from '../../src/store/level-db.js'
import { asOlderStore } from '../helpers/store-age.js'
import { ReplicaStore } from '../../src/store/replica-store.js'
import { tempDir } from '../helpers/tmp.js'

const PDQ = 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22'

test('a node started on a store without PDQ columns writes them after its start and says so at info; the next start finds them complete and says nothing', async () => {
  const dir = tempDir('hashmesh-node-columns-')
  try {
    await initDataDir(dir.path, { name: 'columns-member' })
    let node = await HashmeshNode.open(dir.path, { env: {} })
    const service = new NodeService(node)
    await service.contribute({ signals: [{ type: 'pdq', value: PDQ, quality: 100 }], labels: [] })
    await service.close()
    await node.close()
    // as a hashmesh from before the columns left it
    const kv = await openLevel(join(dir.path, FILES.db))
    assert.equal(await asOlderStore(kv), 1)
    await kv.close()

    for (const expected of [1, 0]) {
      const lines: Array<{ level: string; event: string; fields: Record<string, unknown> }> = []
      node = await HashmeshNode.open(dir.path, { env: {} })
      try {
        await node.start({ log: (level, event, fields = {}) => lines.push({ level, event, fields }) })
        assert.equal((await node.match([{ type: 'pdq', value: PDQ }]))[0]?.distance, 0, 'matched either way')
        const deadline = Date.now() + 10_000
        while (expected > 0 && !lines.some((l) => l.event === 'store.pdq-columns') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
        const said = lines.filter((l) => l.event.startsWith('store.pdq-columns'))
        if (expected === 0) assert.deepEqual(said, [])
        else {
          assert.equal(said.length, 1)
          assert.equal(said[0]!.level, 'info')
          assert.equal(said[0]!.fields.msg, 'wrote the PDQ hashes of 1 record as one value each: the next start reads those instead of the signal index')
        }
      } finally {
        await node.close()
      }
      const store = await ReplicaStore.open(join(dir.path, FILES.db))
      assert.equal(store.hasPdqColumns(), true)
      await store.close()
    }
  } finally {
    dir.cleanup()
  }
})

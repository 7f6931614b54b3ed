/**
 * The import of bare PDQ lines as packed words (lists/readImportBatches -> importList -> BankStore.addPdqWords):
 * the same bank content, rejections and checkpoints as the item path, on a real LevelDB node.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { encodeChunk, encodePdqChunk, DecodedChunk } from '../../src/bank/content-chunk.js'
import { hexToWords } from '../../src/hash/hash256.js'
import { readImportBatches, readSignals, type ListBatch, type ListRejection } from '../../src/lists/index.js'
import { importList, readCheckpoint } from '../../src/node/list-import.js'
import { BanksService } from '../../src/node/banks-service.js'
import { initDataDir } from '../../src/node/identity.js'
import { HashmeshNode } from '../../src/node/node.js'
import { NodeService } from '../../src/node/service.js'
import { tempDir } from '../helpers/tmp.js'

const csv = (lines: string[]): Readable => Readable.from([Buffer.from(lines.join('\n') + '\n')])
const hex = (): string => randomBytes(32).toString('hex')

test('encodePdqChunk makes the very bytes encodeChunk makes of the same bare PDQ items', () => {
  for (const count of [1, 7, 8, 9, 1000, 1024]) {
    const values = Array.from({ length: count }, hex)
    const words = new Uint32Array(count * 8)
    values.forEach((v, i) => hexToWords(v, words, i * 8))
    const expected = encodeChunk('B', 1_700_000_000_000, values.map((pdq) => ({ signals: { pdq }, note: null, metadata: null })))
    const packed = encodePdqChunk('B', 1_700_000_000_000, words, count)
    assert.deepEqual(Buffer.from(packed), Buffer.from(expected), `count ${count}`)
    assert.equal(new DecodedChunk(packed).content(10, count - 1).signals.pdq, values[count - 1])
  }
})

test('a bare PDQ list imported packed gives the bank what the item path gives, with the same rejections, and survives a reopen', async () => {
  const dir = tempDir()
  try {
    await initDataDir(dir.path, { name: 'packer' })
    let node = await HashmeshNode.open(dir.path, { env: {}, bankMatching: false })
    const banks = new BanksService(node)
    await banks.createBank({ name: 'ITEMS' })
    await banks.createBank({ name: 'PACKED' })
    const values = Array.from({ length: 5000 }, hex)
    const lines = ['pdq_hash']
    for (let i = 0; i < values.length; i++) {
      lines.push(values[i]!)
      if (i % 500 === 3) lines.push(values[i - 2]!) // earlier in the file
      if (i % 37 === 36) lines.push(values[i - 30]!) // ... at times in the batch being written meanwhile
      if (i % 700 === 5) lines.push(values[i]!.toUpperCase()) // the same hash, read the slow way
      if (i % 900 === 7) lines.push('xyz', '', `"${hex()}"`, values[i]!.slice(1))
    }
    const run = async (bank: string, packed: boolean): Promise<{ rejected: string[]; batches: number }> => {
      const rejected: ListRejection[] = []
      let batches = 0
      const read = packed ? readImportBatches(csv(lines), { format: 'csv', signalType: 'pdq' }) : readSignals(csv(lines), { format: 'csv', signalType: 'pdq' })
      const counted = (async function* () {
        for await (const b of read as AsyncIterable<ListBatch>) {
          if (!Array.isArray(b) && 'count' in b) batches++
          yield b
        }
      })()
      const summary = await importList(node, counted, { into: { bank }, batchSize: 1000, onRejected: (r) => rejected.push(r) })
      assert.equal(summary.written, summary.accepted)
      return { rejected: rejected.map((r) => `${r.line} ${r.code}`), batches }
    }
    const items = await run('ITEMS', false)
    const packed = await run('PACKED', true)
    assert.ok(packed.batches > 0, 'lines came packed')
    assert.deepEqual(packed.rejected, items.rejected)
    assert.ok(items.rejected.filter((r) => r.endsWith('DUPLICATE')).length >= 17 + 135)
    const strip = async (bank: string) => (await (await banks.loaded).listContent(bank)).map((c) => [c.signals, c.note, c.metadata, c.disableUntilTs])
    const expected = await strip('ITEMS')
    assert.equal(expected.length, 5000 + 6) // the quoted hashes are signals of their own
    assert.deepEqual(new Set((await strip('PACKED')).map((c) => JSON.stringify(c))), new Set(expected.map((c) => JSON.stringify(c))))
    const again: ListRejection[] = []
    const second = await importList(node, readImportBatches(csv(lines), { format: 'csv', signalType: 'pdq' }), { into: { bank: 'PACKED' }, onRejected: (r) => again.push(r) })
    assert.equal(second.accepted, 0)
    assert.ok(again.some((r) => r.code === 'DUPLICATE' && r.message.includes(`pdq ${values[0]!.slice(0, 16)}… is already in bank PACKED`)))
    await node.close()
    node = await HashmeshNode.open(dir.path, { env: {}, bankMatching: false })
    const store = await new BanksService(node).loaded
    assert.equal((await store.listContent('PACKED')).length, 5006)
    assert.ok(store.holds('PACKED', 'pdq', values[4321]!))
    assert.ok(!store.holds('ITEMS', 'pdq', hex()))
    await node.close()
  } finally {
    dir.cleanup()
  }
})

test('a packed import stopped after two batches goes on from its checkpoint, with no line twice', async () => {
  const dir = tempDir()
  try {
    await initDataDir(dir.path, { name: 'resumer' })
    const node = await HashmeshNode.open(dir.path, { env: {}, bankMatching: false })
    try {
      const banks = new BanksService(node)
      await banks.createBank({ name: 'RESUME' })
      const lines = ['hash', ...Array.from({ length: 2500 }, hex)]
      const key = 'cd'.repeat(16)
      const stop = new AbortController()
      let flushes = 0
      await assert.rejects(importList(node, readImportBatches(csv(lines), { format: 'csv', signalType: 'pdq' }), {
        into: { bank: 'RESUME' }, checkpointKey: key, batchSize: 1000, signal: stop.signal,
        onProgress: () => { if (++flushes === 2) stop.abort() },
      }))
      assert.equal(readCheckpoint(node, key)!.line, 2001, 'two batches of 1,000: lines 2..2001')
      const resumed = await importList(node, readImportBatches(csv(lines), { format: 'csv', signalType: 'pdq' }), { into: { bank: 'RESUME' }, checkpointKey: key })
      assert.equal(resumed.resumedAfterLine, 2001)
      assert.equal(resumed.accepted, 500)
      assert.equal(resumed.rejected, 0)
      assert.equal((await (await banks.loaded).listContent('RESUME')).length, 2500)
    } finally {
      await node.close()
    }
  } finally {
    dir.cleanup()
  }
})

test('a bank import killed after batches it had not yet checkpointed reads them again as DUPLICATE and writes none twice', async () => {
  const dir = tempDir()
  try {
    await initDataDir(dir.path, { name: 'killed' })
    const node = await HashmeshNode.open(dir.path, { env: {}, bankMatching: false })
    try {
      const banks = new BanksService(node)
      await banks.createBank({ name: 'KILLED' })
      const lines = ['hash', ...Array.from({ length: 3000 }, hex)]
      const key = 'ef'.repeat(16)
      const stop = new AbortController()
      let flushes = 0
      await assert.rejects(importList(node, readImportBatches(csv(lines), { format: 'csv', signalType: 'pdq' }), {
        into: { bank: 'KILLED' }, checkpointKey: key, batchSize: 500, signal: stop.signal,
        onProgress: () => { if (++flushes === 4) stop.abort() },
      }))
      assert.equal(readCheckpoint(node, key)!.line, 2001, 'saved when the import stopped: four batches of 500')
      // As if the process had been killed before that save: the last one it made was a second after the start.
      writeFileSync(join(dir.path, 'imports', `${key}.json`), JSON.stringify({ key, line: 1001, complete: false, updatedAt: 0 }))
      const rejected: ListRejection[] = []
      const resumed = await importList(node, readImportBatches(csv(lines), { format: 'csv', signalType: 'pdq' }), { into: { bank: 'KILLED' }, checkpointKey: key, onRejected: (r) => rejected.push(r) })
      assert.equal(resumed.resumedAfterLine, 1001)
      assert.equal(resumed.accepted, 1000)
      assert.deepEqual(rejected.map((r) => r.line), Array.from({ length: 1000 }, (_, i) => 1002 + i))
      assert.ok(rejected.every((r) => r.code === 'DUPLICATE'))
      assert.equal((await (await banks.loaded).listContent('KILLED')).length, 3000)
      assert.equal(readCheckpoint(node, key)!.complete, true)
    } finally {
      await node.close()
    }
  } finally {
    dir.cleanup()
  }
})

test('packed lines into a shared bank or as contributions are signed as items are', async () => {
  const dir = tempDir()
  await initDataDir(dir.path, { name: 'signer' })
  const node = await HashmeshNode.open(dir.path, { env: {} })
  const service = new NodeService(node, { ownsNode: true })
  try {
    const banks = new BanksService(node)
    await banks.createBank({ name: 'SHARED', kind: 'shared' })
    const lines = ['pdq', ...Array.from({ length: 1500 }, hex)]
    const shared = await importList(node, readImportBatches(csv(lines), { format: 'csv' }), { into: { bank: 'SHARED' } })
    assert.equal(shared.written, 1500)
    const content = await (await banks.loaded).listContent('SHARED')
    assert.ok(content.every((c) => c.records?.length === 1), 'each content names its record')
    const contributed = await importList(node, readImportBatches(csv(['pdq', ...Array.from({ length: 1200 }, hex)]), { format: 'csv' }), { into: { contribute: true } })
    assert.equal(contributed.accepted, 1200)
    const head = (await service.feeds()).find((h) => h.feed === node.memberKey)!
    assert.equal(head.seq, 2 + 2, 'two records for the shared bank, two for the contributions')
  } finally {
    await service.close()
    dir.cleanup()
  }
})

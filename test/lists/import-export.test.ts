/**
 * The one import path (node/list-import.ts) into a bank and as contributions, its checks, dry run and
 * checkpoint; and export -> import round trips in every format (node/list-export.ts + lists writers).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { PassThrough, Readable } from 'node:stream'
import { readImportBatches, readSignals, writeSignals, LIST_FORMATS, type ExportSignal, type ListFormat, type ListItem, type ListRejection } from '../../src/lists/index.js'
import { importList, readCheckpoint } from '../../src/node/list-import.js'
import { bankSignals, feedSignals } from '../../src/node/list-export.js'
import { BanksService } from '../../src/node/banks-service.js'
import { initDataDir } from '../../src/node/identity.js'
import { HashmeshNode } from '../../src/node/node.js'
import { NodeService } from '../../src/node/service.js'
import { exportLine } from '../../src/node/views.js'
import type { TaxonomyRules } from '../../src/record/taxonomy.js'
import { tempDir } from '../helpers/tmp.js'
import { pdqHex } from '../helpers/records.js'

const taxonomy = JSON.parse(readFileSync(new URL('../../config/taxonomy.json', import.meta.url), 'utf8')) as TaxonomyRules

async function openNode(name: string): Promise<{ node: HashmeshNode; service: NodeService; close: () => Promise<void> }> {
  const dir = tempDir()
  await initDataDir(dir.path, { name })
  const node = await HashmeshNode.open(dir.path, { env: {} })
  const service = new NodeService(node, { ownsNode: true })
  return { node, service, close: async () => { await service.close(); dir.cleanup() } }
}

function csv(lines: string[]): Readable {
  return Readable.from([lines.join('\n') + '\n'])
}

test('import into a bank: every bad line reported with its number and code; dry run writes nothing; duplicates against the bank', async () => {
  const { node, close } = await openNode('importer')
  try {
    const banks = new BanksService(node)
    await banks.createBank({ name: 'TEST_BANK' })
    const rows = ['hash,type,quality,labels', `${pdqHex(1)},pdq,90,behavior:propaganda`, `${pdqHex(2)},pdq,20,`, `xyz,pdq,,`, `${pdqHex(3).slice(2)},pdq,,`,
      `${pdqHex(1)},pdq,95,`, `${'a'.repeat(32)},md5,,`, `${'b'.repeat(40)},sha1,,`, `${pdqHex(4)},pdq,,nonsense-label`]
    const rejected: ListRejection[] = []
    const read = () => readSignals(csv(rows), { format: 'csv', taxonomy })
    const dry = await importList(node, read(), { into: { bank: 'TEST_BANK' }, dryRun: true, onRejected: (r) => rejected.push(r) })
    assert.equal(dry.accepted, 2)
    assert.equal(dry.written, 0)
    assert.equal((await (await banks.loaded).listContent('TEST_BANK')).length, 0, 'dry run writes nothing')
    assert.deepEqual(rejected.map((r) => `${r.line} ${r.code}`), ['3 LOW_QUALITY', '4 BAD_HEX', '5 BAD_LENGTH', '6 DUPLICATE', '8 UNKNOWN_TYPE', '9 BAD_LABEL'])
    const real = await importList(node, read(), { into: { bank: 'TEST_BANK' } })
    assert.equal(real.written, 2)
    const content = await (await banks.loaded).listContent('TEST_BANK')
    assert.deepEqual(content.map((c) => Object.entries(c.signals)[0]), [['pdq', pdqHex(1)], ['md5', 'a'.repeat(32)]])
    assert.deepEqual((content[0]!.metadata?.json as { labels: string[] }).labels, ['behavior:propaganda'])
    const again: ListRejection[] = []
    const second = await importList(node, read(), { into: { bank: 'TEST_BANK' }, onRejected: (r) => again.push(r) })
    assert.equal(second.accepted, 0)
    assert.equal(again.filter((r) => r.code === 'DUPLICATE').length, 3, 'already in the bank')
    await assert.rejects(importList(node, read(), { into: { bank: 'NO_SUCH_BANK' } }), { code: 'NOT_FOUND' })
  } finally {
    await close()
  }
})

test('an interrupted import goes on from its checkpoint without duplicates; a finished one asks for --restart', async () => {
  const { node, close } = await openNode('resumer')
  try {
    const banks = new BanksService(node)
    await banks.createBank({ name: 'RESUME' })
    const rows = ['hash', ...Array.from({ length: 250 }, (_, i) => pdqHex(1000 + i))]
    const key = 'ab'.repeat(16)
    const stop = new AbortController()
    let batches = 0
    await assert.rejects(importList(node, readSignals(csv(rows), { format: 'csv', signalType: 'pdq' }), {
      into: { bank: 'RESUME' }, checkpointKey: key, batchSize: 100, signal: stop.signal,
      onProgress: () => { if (++batches === 2) stop.abort() },
    }))
    const done = readCheckpoint(node, key)!
    assert.equal(done.complete, false)
    assert.equal(done.line, 201, 'two batches of 100 signals: lines 2..201')
    assert.equal((await (await banks.loaded).listContent('RESUME')).length, 200)
    const resumed = await importList(node, readSignals(csv(rows), { format: 'csv', signalType: 'pdq' }), { into: { bank: 'RESUME' }, checkpointKey: key, batchSize: 100 })
    assert.equal(resumed.resumedAfterLine, 201)
    assert.equal(resumed.accepted, 50)
    assert.equal(resumed.rejected, 0, 'no line read twice')
    assert.equal((await (await banks.loaded).listContent('RESUME')).length, 250)
    await assert.rejects(importList(node, readSignals(csv(rows), { format: 'csv', signalType: 'pdq' }), { into: { bank: 'RESUME' }, checkpointKey: key }), /--restart/)
  } finally {
    await close()
  }
})

test('contributions: records of up to 1,000 signals, grouped so each line keeps its labels', async () => {
  const { node, service, close } = await openNode('contributor')
  try {
    const rows = ['hash,labels', ...Array.from({ length: 2100 }, (_, i) => `${pdqHex(5000 + i)},${i % 3 === 0 ? 'behavior:recruitment' : 'behavior:propaganda entity:isis'}`)]
    const summary = await importList(node, readSignals(csv(rows), { format: 'csv', signalType: 'pdq', taxonomy }), { into: { contribute: true } })
    assert.equal(summary.accepted, 2100)
    const head = (await service.feeds()).find((h) => h.feed === node.memberKey)!
    const records = (await service.feed(head.feed, { from: 1, limit: 100 })).records.map((r) => r.record)
    assert.equal(summary.written, records.length)
    assert.ok(records.every((r) => r.kind === 'signals' && r.body.signals.length <= 1000))
    const byLabels = new Map<string, number>()
    for (const r of records) if (r.kind === 'signals') byLabels.set(r.body.labels.join(' '), (byLabels.get(r.body.labels.join(' ')) ?? 0) + r.body.signals.length)
    assert.deepEqual(Object.fromEntries(byLabels), { 'behavior:recruitment': 700, 'behavior:propaganda entity:isis': 1400 })
    const recruit = records.find((r) => r.kind === 'signals' && r.body.labels[0] === 'behavior:recruitment')
    assert.ok(recruit && recruit.kind === 'signals' && recruit.body.signals.some((s) => s.value === pdqHex(5000)))
  } finally {
    await close()
  }
})

test('a shared bank: the imported signals are also signed into this member\'s feed, and each content names its record', async () => {
  const { node, service, close } = await openNode('sharer')
  try {
    const banks = new BanksService(node)
    await banks.createBank({ name: 'SHARED_LIST', kind: 'shared' })
    const rows = ['hash,type,labels', `${pdqHex(11)},pdq,behavior:propaganda`, `${'e'.repeat(32)},video_md5,behavior:propaganda`, `${pdqHex(12)},pdq,`]
    const summary = await importList(node, readSignals(csv(rows), { format: 'csv', taxonomy }), { into: { bank: 'SHARED_LIST' } })
    assert.equal(summary.written, 3)
    const content = await (await banks.loaded).listContent('SHARED_LIST')
    const head = (await service.feeds()).find((h) => h.feed === node.memberKey)!
    const records = (await service.feed(head.feed, { from: 1, limit: 10 })).records.map((r) => r.record)
    assert.equal(records.length, 3, 'three groups by labels and content type (the video MD5 apart)')
    for (const c of content) assert.ok(c.records?.length === 1 && records.some((r) => r.id === c.records![0]), `content ${c.id} names its record`)
    const video = records.find((r) => r.kind === 'signals' && r.body.signals.some((s) => s.value === 'e'.repeat(32)))
    assert.ok(video && video.kind === 'signals' && video.body.contentType === 'video' && video.body.signals[0]!.type === 'md5')
  } finally {
    await close()
  }
})

test('contributions: a crash between a batch and its checkpoint does not sign that batch twice', async () => {
  const { node, service, close } = await openNode('crasher')
  try {
    const rows = ['hash', ...Array.from({ length: 250 }, (_, i) => pdqHex(7000 + i))]
    const key = 'cd'.repeat(16)
    const read = () => readSignals(csv(rows), { format: 'csv', signalType: 'pdq' })
    const stop = new AbortController()
    await assert.rejects(importList(node, read(), { into: { contribute: true }, checkpointKey: key, batchSize: 100, signal: stop.signal, onProgress: () => stop.abort() }))
    assert.equal(readCheckpoint(node, key)!.line, 101)
    // as if the process died after signing lines 2..101 but before their checkpoint: the first one is back
    writeFileSync(join(node.identity.dataDir, 'imports', `${key}.json`), JSON.stringify({ key, line: 0, complete: false, updatedAt: 0, feedSeq: 0 }))
    const rejected: ListRejection[] = []
    const resumed = await importList(node, read(), { into: { contribute: true }, checkpointKey: key, batchSize: 100, onRejected: (r) => rejected.push(r) })
    assert.equal(resumed.accepted, 150)
    assert.equal(rejected.length, 100)
    assert.ok(rejected.every((r) => r.code === 'DUPLICATE'))
    const head = (await service.feeds()).find((h) => h.feed === node.memberKey)!
    const signals = (await service.feed(head.feed, { from: 1, limit: 100 })).records.reduce((n, r) => n + (r.record.kind === 'signals' ? r.record.body.signals.length : 0), 0)
    assert.equal(signals, 250, 'each line signed once')
  } finally {
    await close()
  }
})

const norm = (items: Array<ListItem | ExportSignal>, withQuality: boolean, withLabels: boolean): string[] =>
  items.filter((i) => !('kind' in i) || i.kind === 'signal').map((i) => {
    const s = i as ExportSignal
    const type = s.type === 'video_md5' ? 'md5' : s.type
    return `${type}:${s.value}${withQuality && s.quality !== undefined ? ` q${s.quality}` : ''}${withLabels ? ` [${[...(s.labels ?? [])].sort().join(' ')}]` : ''}`
  }).sort()

/** Which formats carry labels and quality. */
const CARRIES: Record<ListFormat, { labels: boolean; quality: boolean; provenance: boolean }> = {
  jsonl: { labels: true, quality: true, provenance: true }, hashes: { labels: false, quality: true, provenance: false },
  'hash-tsv': { labels: false, quality: false, provenance: false }, 'te-local': { labels: false, quality: false, provenance: false },
  'te-csv': { labels: true, quality: false, provenance: false }, hma: { labels: true, quality: true, provenance: true },
  csv: { labels: true, quality: true, provenance: true }, tsv: { labels: true, quality: true, provenance: true },
  misp: { labels: true, quality: false, provenance: true }, stix: { labels: true, quality: true, provenance: true },
}

test('export -> import round trip in every format: the same signals and labels (where the format has labels), with provenance', async () => {
  const { node, service, close } = await openNode('exporter')
  try {
    await service.contribute({ signals: [{ type: 'pdq', value: pdqHex(1), quality: 90 }, { type: 'md5', value: 'c'.repeat(32) }], labels: ['behavior:propaganda', 'entity:isis'] })
    await service.contribute({ signals: [{ type: 'sha256', value: 'd'.repeat(64) }, { type: 'pdq', value: pdqHex(2), quality: 70 }], labels: ['behavior:recruitment'], note: 'a "quoted", note' })
    const revoked = await service.contribute({ signals: [{ type: 'pdq', value: pdqHex(3), quality: 80 }], labels: [] })
    await service.revoke(revoked.records[0]!.id, { reason: 'mistake' })
    const source: ExportSignal[] = []
    for await (const s of feedSignals(service)) source.push(s)
    assert.equal(source.length, 4, 'the revoked signal is not exported')
    assert.ok(source.every((s) => s.provenance?.member === node.memberKey && s.provenance.signature === 'valid' && /^[0-9a-f]{64}$/.test(s.provenance.record ?? '')))
    for (const format of LIST_FORMATS) {
      const out = new PassThrough()
      const chunks: Buffer[] = []
      out.on('data', (c: Buffer) => chunks.push(c))
      await writeSignals(source, out, format, { now: 1_700_000_000_000 })
      out.end()
      const text = Buffer.concat(chunks)
      const back: ListItem[] = []
      for await (const item of readSignals(Readable.from([text]), { format, taxonomy })) back.push(item)
      const rejected = back.filter((i) => i.kind === 'rejected')
      assert.deepEqual(rejected, [], `${format}: nothing rejected`)
      const carries = CARRIES[format]
      assert.deepEqual(norm(back, carries.quality, carries.labels), norm(source, carries.quality, carries.labels), `${format}: same signals`)
      if (carries.provenance) {
        const first = back.find((i) => i.kind === 'signal' && i.value === pdqHex(1))
        assert.equal(first?.kind === 'signal' && first.provenance?.record, source[0]!.provenance!.record, `${format}: provenance record`)
      }
      // sniffed back as the same format (or one read the same way)
      const sniffedBack: ListItem[] = []
      for await (const item of readSignals(Readable.from([text]), { taxonomy })) sniffedBack.push(item)
      assert.equal(sniffedBack.filter((i) => i.kind === 'signal').length, back.filter((i) => i.kind === 'signal').length, `${format}: sniffed`)
    }
    // a bank export round-trips too (labels and quality kept in the content's metadata)
    const banks = new BanksService(node)
    await banks.createBank({ name: 'ROUND' })
    await importList(node, Readable.from([]) as unknown as AsyncIterable<ListItem>, { into: { bank: 'ROUND' } })
    await importList(node, (async function* () { for (const [i, s] of source.entries()) yield { kind: 'signal' as const, line: i + 1, ...s } })(), { into: { bank: 'ROUND' } })
    const fromBank: ExportSignal[] = []
    for await (const s of bankSignals(service, 'ROUND')) fromBank.push(s)
    assert.deepEqual(norm(fromBank, true, true), norm(source, true, true))
  } finally {
    await close()
  }
})

test('a jsonl export with revocations, imported into a bank: the revoked signals are not in it; a forged or hand-written revocation removes nothing', async () => {
  const author = await openNode('revoker')
  const target = await openNode('receiver')
  try {
    const first = await author.node.contribute({ signals: [{ type: 'pdq', value: pdqHex(41) }, { type: 'pdq', value: pdqHex(42) }, { type: 'md5', value: 'c'.repeat(32) }], labels: ['behavior:propaganda'] })
    const second = await author.node.contribute({ signals: [{ type: 'pdq', value: pdqHex(43) }, { type: 'pdq', value: pdqHex(44) }] })
    const firstId = first.records[0]!.id
    const secondId = second.records[0]!.id
    await author.service.revoke(secondId, { signal: 1 }) // pdq 44 only
    const exported = (await author.node.feedRecords(author.node.memberKey, 1, 100)).map((r) => JSON.stringify(exportLine(r)))
    assert.equal(exported.length, 3)
    const banks = new BanksService(target.node)
    await banks.createBank({ name: 'FROM_EXPORT' })
    const read = (lines: string[]) => readImportBatches(Readable.from([lines.join('\n') + '\n']), { format: 'jsonl' })
    const values = async (): Promise<string[]> => (await (await banks.loaded).listContent('FROM_EXPORT')).map((c) => Object.values(c.signals)[0]!).sort()

    const summary = await importList(target.node, read(exported), { into: { bank: 'FROM_EXPORT' } })
    assert.equal(summary.revocations, 1)
    assert.equal(summary.removed, 1)
    assert.equal(summary.rejected, 0)
    assert.deepEqual(await values(), [pdqHex(41), pdqHex(42), pdqHex(43), 'c'.repeat(32)].sort())

    // A later export revoking the whole first record, imported on its own: the bank is read for what came from it.
    await author.service.revoke(firstId, {})
    const later = (await author.node.feedRecords(author.node.memberKey, 4, 1)).map((r) => JSON.stringify(exportLine(r)))
    const again = await importList(target.node, read(later), { into: { bank: 'FROM_EXPORT' } })
    assert.deepEqual([again.revocations, again.removed], [1, 3])
    assert.deepEqual(await values(), [pdqHex(43)])

    // A revocation of record 2's other signal whose signature was tampered with, and a line that only claims to be one.
    const revokeLine = JSON.parse(exported[2]!) as { bytes: string }
    const forged = JSON.stringify({ ...revokeLine, bytes: revokeLine.bytes.slice(0, -2) + (revokeLine.bytes.endsWith('00') ? '01' : '00') })
    const claimed = JSON.stringify({ kind: 'revocation', line: 1, author: author.node.memberKey, target: secondId })
    const rejected: ListRejection[] = []
    const third = await importList(target.node, read([forged, claimed]), { into: { bank: 'FROM_EXPORT' }, onRejected: (r) => rejected.push(r) })
    assert.deepEqual([third.revocations, third.removed], [0, 0])
    assert.deepEqual(rejected.map((r) => `${r.line} ${r.code}`), ['1 REFUSED', '2 MALFORMED'])
    assert.deepEqual(await values(), [pdqHex(43)])

    // As contributions, a revocation is reported, not applied.
    const contributed: ListRejection[] = []
    const asOwn = await importList(target.node, read(later), { into: { contribute: true }, onRejected: (r) => contributed.push(r) })
    assert.equal(asOwn.revocations, 0)
    assert.deepEqual(contributed.map((r) => r.code), ['UNSUPPORTED'])
  } finally {
    await author.close()
    await target.close()
  }
})

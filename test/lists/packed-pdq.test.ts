/**
 * readImportBatches packs the lines of a bare PDQ hash (PackedPdq): unpacked, its batches must be exactly the
 * items readSignalBatches gives for the same input (same signals, rejections and line numbers, in order),
 * whatever the mix of packable and other lines, the block boundaries and the column plan.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { readImportBatches, readSignalBatches, unpackPdq, type ListItem, type ReadOptions } from '../../src/lists/index.js'
import { random } from '../helpers/random.js'

/** The text in chunks of 1..400 bytes, so lines and blocks are cut everywhere. */
function chunks(text: string, next: () => number): Buffer[] {
  const bytes = Buffer.from(text)
  const out: Buffer[] = []
  for (let at = 0; at < bytes.length;) {
    const n = 1 + Math.floor(next() * 400)
    out.push(bytes.subarray(at, at + n))
    at += n
  }
  return out
}

async function both(text: string, options: ReadOptions, next: () => number): Promise<{ plain: ListItem[]; unpacked: ListItem[]; packedLines: number }> {
  const plain: ListItem[] = []
  for await (const batch of readSignalBatches(Readable.from(chunks(text, next)), options)) plain.push(...batch)
  const unpacked: ListItem[] = []
  let packedLines = 0
  for await (const batch of readImportBatches(Readable.from(chunks(text, next)), options)) {
    if (Array.isArray(batch)) unpacked.push(...batch)
    else {
      packedLines += batch.count
      unpacked.push(...unpackPdq(batch))
    }
  }
  return { plain, unpacked, packedLines }
}

const hex = (): string => randomBytes(32).toString('hex')

/** One data row of `width` cells with the hash in `column`, often plain, sometimes in a way only the slow path reads. */
function row(next: () => number, width: number, column: number, delimiter: string): string {
  const cells = Array.from({ length: width }, (_, i) => `c${i}`)
  const r = next()
  let hash = hex()
  if (r < 0.08) hash = hash.toUpperCase()
  else if (r < 0.12) hash = ` ${hash} `
  else if (r < 0.15) hash = hash.slice(1)
  else if (r < 0.18) hash = hash.slice(0, 63) + 'g'
  else if (r < 0.2) hash = `"${hash}"`
  else if (r < 0.22) hash = ''
  cells[column] = hash
  if (next() < 0.03) cells.push('extra')
  if (next() < 0.02) return ''
  if (next() < 0.02) return `"open${delimiter}quoted\nfield"${delimiter.repeat(width - 1)}`
  return cells.join(delimiter)
}

test('packed PDQ batches unpack to the very items the item reader gives (csv and tsv, any column, any block cut)', async () => {
  const next = random(7)
  let packedTotal = 0
  for (let round = 0; round < 40; round++) {
    const tsv = round % 2 === 1
    const delimiter = tsv ? '\t' : ','
    const width = 1 + (round % 4)
    const column = round % width
    const header = Array.from({ length: width }, (_, i) => (i === column ? (round % 3 === 0 ? 'pdq' : 'hash') : `other${i}`))
    const lines = [header.join(delimiter)]
    for (let i = 0; i < 300; i++) lines.push(row(next, width, column, delimiter))
    const text = lines.join(next() < 0.5 ? '\n' : '\r\n') + '\n'
    const { plain, unpacked, packedLines } = await both(text, { format: tsv ? 'tsv' : 'csv', signalType: round % 3 === 0 ? undefined : 'pdq' }, next)
    assert.deepEqual(unpacked, plain, `round ${round}`)
    packedTotal += packedLines
  }
  assert.ok(packedTotal > 40 * 300 * 0.5, `most plain rows were packed (${packedTotal})`)
})

test('rows are not packed when the plan maps more than a PDQ hash, or the type is not pdq', async () => {
  const next = random(11)
  const cases: Array<{ text: string; options: ReadOptions }> = [
    { text: `hash,tags\n${hex()},behavior:propaganda\n${hex()},\n`, options: { format: 'csv', signalType: 'pdq' } },
    { text: `hash,type\n${hex()},pdq\n`, options: { format: 'csv' } },
    { text: `hash,quality\n${hex()},90\n`, options: { format: 'csv', signalType: 'pdq' } },
    { text: `sha256\n${hex()}\n`, options: { format: 'csv' } },
    { text: `hash\n${hex()}\n`, options: { format: 'csv', signalType: 'sha256' } },
    { text: `collab,signal_type,signal_str,category,tags\nc,pdq,${hex()},POSITIVE_CLASS,\n`, options: { format: 'te-csv' } },
  ]
  for (const { text, options } of cases) {
    const { plain, unpacked, packedLines } = await both(text, { unknownLabels: 'keep', ...options }, next)
    assert.equal(packedLines, 0, text)
    assert.deepEqual(unpacked, plain)
  }
})

test('hashes and te-local lines: packed batches unpack to the very items the item reader gives', async () => {
  const next = random(23)
  let packedTotal = 0
  for (let round = 0; round < 24; round++) {
    const format = round % 2 === 0 ? 'te-local' : 'hashes'
    const signalType = round % 3 === 0 ? undefined : round % 3 === 1 ? 'pdq' : 'md5'
    const lines: string[] = []
    for (let i = 0; i < 300; i++) {
      const r = next()
      const h = hex()
      lines.push(r < 0.3 ? h
        : r < 0.6 ? `pdq ${h}`
        : r < 0.65 ? `PDQ ${h}`
        : r < 0.7 ? `pdq  ${h}`
        : r < 0.75 ? ` ${h}`
        : r < 0.8 ? `pdq ${h.toUpperCase()}`
        : r < 0.83 ? `pdq ${h} 90`
        : r < 0.86 ? `md5 ${h.slice(0, 32)}`
        : r < 0.89 ? `# comment ${h}`
        : r < 0.91 ? ''
        : r < 0.94 ? `pdq ${h.slice(1)}x`
        : r < 0.97 ? `photo_pdq ${h}`
        : `pdq_hash ${h}`)
    }
    const text = lines.join(next() < 0.5 ? '\n' : '\r\n') + '\n'
    const { plain, unpacked, packedLines } = await both(text, { format, signalType }, next)
    assert.deepEqual(unpacked, plain, `round ${round} (${format}, ${signalType})`)
    packedTotal += packedLines
  }
  assert.ok(packedTotal > 24 * 300 * 0.3, `plain lines were packed (${packedTotal})`)
})

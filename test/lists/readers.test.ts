/** Format readers on the golden files in test/fixtures/lists/, and the refusals of bad input. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { Readable } from 'node:stream'
import { gzipSync } from 'node:zlib'
import { readSignals, type ListItem, type ReadOptions } from '../../src/lists/index.js'
import type { TaxonomyRules } from '../../src/record/taxonomy.js'

const DIR = new URL('../fixtures/lists/', import.meta.url).pathname
const taxonomy = JSON.parse(readFileSync(new URL('../../config/taxonomy.json', import.meta.url), 'utf8')) as TaxonomyRules
const P1 = 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22'
const P2 = '8c8c8c8c73737373cccccccc3333333399999999666666665a5a5a5aa5a5a5a5'
const M1 = 'd41d8cd98f00b204e9800998ecf8427e'
const M2 = '0cc175b9c0f1b6a831c399e269772661'
const S1 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'

async function read(input: string | Readable, options: ReadOptions = {}): Promise<ListItem[]> {
  const out: ListItem[] = []
  for await (const item of readSignals(typeof input === 'string' && !input.includes('\n') ? DIR + input : input, options)) out.push(item)
  return out
}
const brief = (items: ListItem[]): string[] => items.map((i) => (i.kind === 'signal' ? `${i.line} ${i.type} ${i.value.slice(0, 8)}${i.labels ? ' ' + i.labels.join(',') : ''}` : `${i.line} ${i.code}`))
async function refusal(input: string | Readable, options: ReadOptions = {}): Promise<{ code: string; message: string; looksLike?: string }> {
  try {
    await read(input, options)
  } catch (err) {
    const e = err as { code: string; message: string; details?: { looksLike?: string } }
    return { code: e.code, message: e.message, looksLike: e.details?.looksLike }
  }
  assert.fail('expected a refusal')
}

test('te-local: "type signal" lines, bare hashes with --type, every bad line reported', async () => {
  assert.deepEqual(brief(await read('te-local.txt', { format: 'te-local' })), ['1 pdq f8f8f0ce', '2 pdq 8c8c8c8c', '3 video_md5 d41d8cd9', '4 UNKNOWN_TYPE', '5 BAD_LENGTH'])
  assert.deepEqual(brief(await read('te-local-bare.txt', { format: 'te-local', signalType: 'pdq' })), ['1 pdq f8f8f0ce', '2 pdq 8c8c8c8c'])
  assert.deepEqual(brief(await read('te-local-bare.txt', { format: 'te-local' })), ['1 MALFORMED', '2 MALFORMED'], 'a bare hash needs --type')
})

test('te-csv: dataset --csv header, tags on the taxonomy, NEGATIVE_CLASS and unknown types reported', async () => {
  const items = await read('te-dataset.csv', { taxonomy })
  assert.deepEqual(brief(items), ['2 pdq f8f8f0ce behavior:recruitment,behavior:propaganda', '3 video_md5 d41d8cd9', '4 UNSUPPORTED', '5 UNKNOWN_TYPE'])
  assert.equal((items[0] as { provenance?: { source?: string } }).provenance?.source, 'Sample Data')
})

test('csv: column map, RFC 4180 quoting (quoted comma, doubled quote, line break), labels by flag', async () => {
  const map = { hash: 'pdq_hash', type: 'hash_type', label: ['tags'], note: 'comment' }
  const keep = await read('mapped.csv', { format: 'csv', map, taxonomy, unknownLabels: 'keep' })
  assert.deepEqual(brief(keep), [
    `2 pdq f8f8f0ce entity:isis,behavior:propaganda`, `3 md5 0cc175b9 behavior:recruitment`, `4 sha256 e3b0c442 source:tlp-amber`, '6 BAD_HEX', '7 MALFORMED',
  ])
  assert.equal((keep[0] as { note?: string }).note, 'said "hello", twice')
  assert.equal((keep[2] as { note?: string }).note, 'a note\nover two lines')
  const error = await read('mapped.csv', { format: 'csv', map, taxonomy })
  assert.equal(error.find((i) => i.line === 4)?.kind === 'rejected' && error.find((i) => i.line === 4)!.kind, 'rejected')
  assert.equal((error.find((i) => i.line === 4) as { code?: string }).code, 'BAD_LABEL')
  const drop = await read('mapped.csv', { format: 'csv', map, taxonomy, unknownLabels: 'drop' })
  assert.equal((drop.find((i) => i.line === 4) as { labels?: string[] }).labels, undefined)
  const noColumn = await refusal('mapped.csv', { format: 'csv', map: { hash: 'nope' } })
  assert.equal(noColumn.code, 'BAD_REQUEST')
  assert.match(noColumn.message, /no column "nope"/)
})

test('tsv with a header, and the TSV `hashmesh hash` prints', async () => {
  assert.deepEqual(brief(await read('list.tsv', { taxonomy })), ['2 pdq f8f8f0ce behavior:propaganda', '3 pdq 8c8c8c8c'])
  const hashTsv = await read('hash.tsv')
  assert.deepEqual(brief(hashTsv), ['1 pdq f8f8f0ce', '1 md5 0cc175b9', '1 sha256 e3b0c442', '2 video_md5 d41d8cd9', '2 sha256 e3b0c442'])
  assert.equal((hashTsv[0] as { quality?: number }).quality, 100)
})

test('hashes: "type value [quality]"', async () => {
  assert.deepEqual(brief(await read('hashes.txt')), ['2 pdq f8f8f0ce', '3 md5 0cc175b9', '4 sha256 e3b0c442', '5 MALFORMED'])
})

test('hma: /content bodies, content answers and /signal bodies', async () => {
  const items = await read('hma.jsonl')
  assert.deepEqual(brief(items), ['1 pdq f8f8f0ce', '2 pdq 8c8c8c8c', '2 video_md5 d41d8cd9', '3 video_md5 d41d8cd9', '4 MALFORMED', '5 MALFORMED'])
  assert.equal((items[0] as { note?: string }).note, 'from HMA')
})

test('misp: attributes, filename|hash, pdq object attribute, tags and distribution as labels', async () => {
  const items = await read('misp-event.json', { taxonomy, unknownLabels: 'keep' })
  assert.deepEqual(brief(items), [
    '1 md5 0cc175b9 entity:isis,behavior:propaganda,source:misp-dist-1', '2 sha256 e3b0c442 entity:isis,source:misp-dist-3', '3 UNKNOWN_TYPE',
    '4 pdq f8f8f0ce entity:isis,source:misp-dist-1', '5 BAD_HEX',
  ])
  assert.equal((items[0] as { note?: string }).note, 'from a channel')
  // the same event from a stream (spooled: its tags come last)
  const streamed = await read(Readable.from([readFileSync(DIR + 'misp-event.json')]), { format: 'misp', taxonomy, unknownLabels: 'keep' })
  assert.deepEqual(brief(streamed), brief(items))
})

test('stix: hash patterns (OR), PDQ custom name and x_pdq_quality, file SCO hashes, other patterns reported', async () => {
  const items = await read('stix-bundle.json', { taxonomy })
  assert.deepEqual(brief(items), ['2 sha256 e3b0c442 behavior:propaganda', '2 md5 0cc175b9 behavior:propaganda', '3 pdq f8f8f0ce', '4 UNKNOWN_TYPE', '5 pdq 8c8c8c8c', '5 UNKNOWN_TYPE'])
  assert.equal((items[2] as { quality?: number }).quality, 88)
})

test('format sniffed when not given; a file in the wrong format is refused naming what it looks like', async () => {
  assert.equal((await read('stix-bundle.json'))[0]!.line, 2)
  assert.equal((await read('te-dataset.csv'))[0]!.kind, 'signal')
  const misp = await refusal('misp-event.json', { format: 'csv' })
  assert.equal(misp.code, 'BAD_REQUEST')
  assert.equal(misp.looksLike, 'misp')
  assert.match(misp.message, /does not look like csv: it looks like misp \(try --format misp\)/)
  assert.equal((await refusal('hma.jsonl', { format: 'te-local' })).looksLike, 'hma')
  assert.equal((await refusal('te-local.txt', { format: 'stix' })).looksLike, 'te-local')
  assert.equal((await refusal(Readable.from(['<html><body>hi</body></html>\n']))).looksLike, 'html')
})

test('gzip is read; zip, other archives and binary are refused clearly', async () => {
  const gz = gzipSync(readFileSync(DIR + 'te-local.txt'))
  assert.deepEqual(brief(await read(Readable.from([gz]))).slice(0, 2), ['1 pdq f8f8f0ce', '2 pdq 8c8c8c8c'])
  const zip = await refusal(Readable.from([Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0, 0, 0])]))
  assert.equal(zip.code, 'BAD_REQUEST')
  assert.match(zip.message, /zip archive: unpack it/)
  assert.equal((await refusal(Readable.from([Buffer.from([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c])]))).looksLike, '7z')
  assert.equal((await refusal(Readable.from([Buffer.from([0, 1, 2, 3, 4, 5, 0, 0, 9])]))).looksLike, 'binary')
  const badGzip = await refusal(Readable.from([Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3])]))
  assert.equal(badGzip.code, 'BAD_REQUEST')
})

test('a 1 GB line is refused after the line limit, without reading it whole', async () => {
  let pulled = 0
  const chunk = Buffer.alloc(256 * 1024, 0x61) // 'a', no newline
  const huge = new Readable({
    read() {
      pulled += chunk.length
      this.push(pulled > 1024 ** 3 ? null : chunk)
    },
  })
  const started = Date.now()
  const refused = await refusal(huge, { format: 'te-local', signalType: 'pdq' })
  assert.equal(refused.code, 'PAYLOAD_TOO_LARGE')
  assert.ok(pulled < 8 * 1024 * 1024, `read ${pulled} bytes before refusing`)
  assert.ok(Date.now() - started < 5000)
  // the same in CSV and in a JSON document
  let csvPulled = 0
  const csvHuge = new Readable({ read() { csvPulled += chunk.length; this.push(csvPulled === chunk.length ? Buffer.from('hash,type\n') : csvPulled > 1024 ** 3 ? null : chunk) } })
  assert.equal((await refusal(csvHuge, { format: 'csv' })).code, 'PAYLOAD_TOO_LARGE')
  assert.ok(csvPulled < 8 * 1024 * 1024)
  let jsonPulled = 0
  const jsonHuge = new Readable({ read() { jsonPulled += chunk.length; this.push(jsonPulled === chunk.length ? Buffer.from('{"type":"bundle","objects":[{"type":"indicator","pattern":"') : jsonPulled > 1024 ** 3 ? null : chunk) } })
  assert.equal((await refusal(jsonHuge, { format: 'stix' })).code, 'PAYLOAD_TOO_LARGE')
  assert.ok(jsonPulled < 8 * 1024 * 1024)
})

test('an unclosed quote is reported and the lines after it read on their own', async () => {
  const text = `hash,type\n${P1},pdq\n"${P2},pdq\n${M1},md5\n${S1},sha256\n`
  assert.deepEqual(brief(await read(Readable.from([text]), { format: 'csv' })), ['2 pdq f8f8f0ce', '3 MALFORMED', '4 md5 d41d8cd9', '5 sha256 e3b0c442'])
  assert.equal(M2.length, 32)
})

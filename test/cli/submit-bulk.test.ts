/** `submit` in bulk: directories, one record per file, per-file labels, `hash` output, large signal lists. */
import { test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { chunkSignals } from '../../src/cli/commands/contribute.js'
import { parseSignalLine } from '../../src/cli/commands/fingerprint-files.js'
import { cli } from '../helpers/cli.js'
import { tempDir } from '../helpers/tmp.js'
import { randomPdqHex } from '../helpers/records.js'
import { encodePng } from '../hash/images.js'

const dir = tempDir('hashmesh-bulk-')
const A = join(dir.path, 'a')
const PHOTOS = join(dir.path, 'photos')
const MD5 = 'd41d8cd98f00b204e9800998ecf8427e'
const SHA = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'

before(() => {
  assert.equal(cli(['init', '--data', A, '--name', 'Alpha']).code, 0)
  mkdirSync(join(PHOTOS, 'nested'), { recursive: true })
  writeFileSync(join(PHOTOS, 'one.png'), encodePng(64, 64, 3, 8, (x, y, c) => ((x * 7 + y * 3 + c * 50) * (x ^ y)) & 255))
  writeFileSync(join(PHOTOS, 'nested', 'two.png'), encodePng(64, 64, 3, 8, (x, y, c) => ((x * y + c * 90) ^ (x << 2)) & 255))
  writeFileSync(join(dir.path, 'labels.csv'), `file,labels\nphotos/one.png,behavior:recruitment\nphotos/nested/two.png,behavior:glorification entity:some-group\n`)
})
after(() => dir.cleanup())

test('a 100,000-line signal list is split into requests of at most 1,000 signals and 1 MiB', () => {
  const signals = Array.from({ length: 100_000 }, () => ({ type: 'pdq', value: randomPdqHex(), quality: 90 }))
  const chunks = chunkSignals(signals)
  assert.equal(chunks.length, 100)
  assert.equal(chunks.flat().length, 100_000)
  for (const c of chunks) assert.ok(c.length <= 1000 && JSON.stringify(c).length < 1024 * 1024)
  assert.ok(chunkSignals(signals.slice(0, 10), 1000, 300).length > 1, 'the byte bound splits too')
})

test('submit reads what hash prints (TSV and JSON) and plain signal lines', () => {
  const pdq = randomPdqHex()
  assert.deepEqual(parseSignalLine(`a/b.jpg\t${pdq}\t87\t${MD5}\t${SHA}`), { path: 'a/b.jpg', signals: [{ type: 'pdq', value: pdq, quality: 87 }, { type: 'md5', value: MD5 }, { type: 'sha256', value: SHA }] })
  assert.deepEqual(parseSignalLine(`clip.mp4\t${SHA}\t12\t${MD5}\t${SHA}`)?.signals.map((s) => s.type), ['md5', 'sha256'])
  assert.deepEqual(parseSignalLine(JSON.stringify({ path: 'x.png', pdq, quality: 70, md5: MD5, sha256: SHA }))?.signals.map((s) => s.type), ['pdq', 'md5', 'sha256'])
  assert.deepEqual(parseSignalLine(`pdq ${pdq} 90`), { signals: [{ type: 'pdq', value: pdq, quality: 90 }] })
  assert.equal(parseSignalLine('hello'), undefined)
})

test('submit DIR: one record per file, labels per file from a CSV, file -> record id printed', () => {
  const r = cli(['submit', PHOTOS, '--data', A, '--labels-csv', join(dir.path, 'labels.csv'), '--json'])
  assert.equal(r.code, 0, r.stderr)
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { file: string; records: Array<{ id: string }> })
  assert.deepEqual(lines.map((l) => l.file), [join(PHOTOS, 'nested', 'two.png'), join(PHOTOS, 'one.png')])
  for (const l of lines) assert.equal(l.records.length, 1)
  const shown = JSON.parse(cli(['show', lines[0]!.records[0]!.id, '--data', A]).stdout)
  assert.deepEqual(shown.record.body.labels.sort(), ['behavior:glorification', 'entity:some-group'])
  assert.deepEqual(shown.record.body.signals.map((s: { type: string }) => s.type), ['pdq', 'md5', 'sha256'])

  const hashed = cli(['hash', PHOTOS])
  assert.equal(hashed.code, 0, hashed.stderr)
  writeFileSync(join(dir.path, 'hashes.tsv'), hashed.stdout)
  const again = cli(['submit', '--data', A, '--signals', join(dir.path, 'hashes.tsv'), '-l', 'behavior:recruitment'])
  assert.equal(again.code, 0, again.stderr)
  assert.equal(again.stdout.trim().split('\n').length, 2)
  assert.match(again.stdout, /one\.png\t[0-9a-f]{64}\t\(seq \d+, 3 signals\)/)

  const big = Array.from({ length: 2500 }, () => `pdq ${randomPdqHex()} 90`).join('\n')
  writeFileSync(join(dir.path, 'big.txt'), big)
  const quiet = cli(['submit', '--data', A, '--signals', join(dir.path, 'big.txt'), '-l', 'behavior:recruitment', '--quiet'])
  assert.equal(quiet.code, 0, quiet.stderr)
  assert.equal(quiet.stdout, '')
})

/** `hashmesh import --format … --bank/--contribute/--dry-run` and `hashmesh export --format …`, as a user runs them. */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { cli } from '../helpers/cli.js'
import { tempDir } from '../helpers/tmp.js'

const dir = tempDir('hashmesh-lists-cli-')
after(() => dir.cleanup())
const FIXTURES = new URL('../fixtures/lists/', import.meta.url).pathname
const P1 = 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22'

test('import a CSV into a bank (rejected lines on stderr, exit 1), export the bank as CSV, a wrong format is refused, a bare import of a list names its format', () => {
  const data = join(dir.path, 'a')
  assert.equal(cli(['init', '--data', data, '--name', 'Lists']).code, 0)
  assert.equal(cli(['bank', 'create', 'LISTS', '--data', data]).code, 0)
  const map = 'hash=pdq_hash,type=hash_type,label=tags,note=comment'
  const dry = cli(['import', join(FIXTURES, 'mapped.csv'), '--data', data, '--format', 'csv', '--map', map, '--bank', 'LISTS', '--unknown-labels', 'keep', '--dry-run'])
  assert.equal(dry.code, 1, dry.stderr)
  assert.match(dry.stdout, /^7 lines: 3 signals would add, 2 rejected \(BAD_HEX: 1, MALFORMED: 1\)$/m)
  assert.match(dry.stderr, /^line 6: BAD_HEX: pdq value is not hex/m)
  assert.match(dry.stderr, /^line 7: MALFORMED: 2 columns where the header has 4$/m)
  const real = cli(['import', join(FIXTURES, 'mapped.csv'), '--data', data, '--format', 'csv', '--map', map, '--bank', 'LISTS', '--unknown-labels', 'keep', '--json'])
  assert.equal(real.code, 1)
  assert.deepEqual(JSON.parse(real.stdout), { lines: 7, accepted: 3, rejected: 2, byCode: { BAD_HEX: 1, MALFORMED: 1 }, written: 3, resumedAfterLine: 0, revocations: 0, removed: 0, dryRun: false })
  const exported = cli(['export', '--data', data, '--format', 'csv', '--bank', 'LISTS'])
  assert.equal(exported.code, 0, exported.stderr)
  const rows = exported.stdout.trim().split('\r\n')
  assert.equal(rows[0], 'type,hash,quality,labels,note,member,record,signature')
  assert.equal(rows.length, 4)
  assert.ok(rows.some((r) => r.startsWith(`pdq,${P1},,entity:isis behavior:propaganda,"said ""hello"", twice"`)), rows.join('\n'))
  const wrong = cli(['import', join(FIXTURES, 'misp-event.json'), '--data', data, '--format', 'csv', '--bank', 'LISTS'])
  assert.equal(wrong.code, 2)
  assert.match(wrong.stderr, /^hashmesh: BAD_REQUEST: .*misp-event\.json does not look like csv: it looks like misp \(try --format misp\)/m)
  const bare = cli(['import', join(FIXTURES, 'te-local.txt'), '--data', data])
  assert.equal(bare.code, 2)
  assert.match(bare.stderr, /looks like te-local, not signed JSON Lines; import it with --format te-local and --bank NAME or --contribute/)
})

test('contribute a python-threatexchange list, then export the replica as STIX and read it back', () => {
  const data = join(dir.path, 'b')
  assert.equal(cli(['init', '--data', data, '--name', 'Sharer']).code, 0)
  const contributed = cli(['import', join(FIXTURES, 'te-dataset.csv'), '--data', data, '--contribute', '--json'])
  assert.equal(contributed.code, 1, contributed.stderr)
  const summary = JSON.parse(contributed.stdout)
  assert.equal(summary.accepted, 2)
  assert.equal(summary.written, 2, 'two label groups: two records')
  const stix = cli(['export', '--data', data, '--format', 'stix'])
  assert.equal(stix.code, 0, stix.stderr)
  const bundle = JSON.parse(stix.stdout) as { type: string; objects: Array<{ type: string; pattern?: string; labels?: string[]; x_hashmesh_signature?: string }> }
  assert.equal(bundle.type, 'bundle')
  const indicators = bundle.objects.filter((o) => o.type === 'indicator')
  assert.equal(indicators.length, 2)
  const pdq = indicators.find((o) => o.pattern === `[file:hashes.'PDQ' = '${P1}']`)
  assert.deepEqual(pdq?.labels, ['behavior:propaganda', 'behavior:recruitment'])
  assert.equal(pdq?.x_hashmesh_signature, 'valid')
  const file = join(dir.path, 'bundle.json')
  writeFileSync(file, stix.stdout)
  const check = cli(['import', file, '--data', data, '--contribute', '--dry-run', '--json'])
  assert.equal(check.code, 0, check.stderr)
  assert.equal(JSON.parse(check.stdout).accepted, 2)
})

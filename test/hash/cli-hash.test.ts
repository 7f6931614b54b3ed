import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from '../helpers/tmp.js'
import { CLI_ENTRY, cliEnv } from '../../scripts/lib/cli-entry.js'
import { FIXTURES_DIR, REPO_ROOT } from './images.js'

const WEE_PDQ = '6227401f601ff4ccafcc9fad4b0d95d371a2eb7265a3285234d228ca94deeb2d'

function runHash(args: string[]) {
  return spawnSync(process.execPath, [...CLI_ENTRY, 'hash', ...args], { cwd: REPO_ROOT, env: cliEnv(), encoding: 'utf8' })
}

test('hash walks a directory, prints one TSV line per good file, reports bad files and exits 1', () => {
  const dir = tempDir()
  try {
    mkdirSync(join(dir.path, 'nested'))
    copyFileSync(join(FIXTURES_DIR, 'wee.jpg'), join(dir.path, 'nested', 'wee.jpg'))
    writeFileSync(join(dir.path, 'broken.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 1, 2, 3]))
    const run = runHash([dir.path, '--threads', '2'])
    assert.equal(run.status, 1, run.stderr)
    const lines = run.stdout.trim().split('\n')
    assert.equal(lines.length, 1)
    const [path, pdq, quality, md5, sha256] = lines[0]!.split('\t')
    assert.equal(path, join(dir.path, 'nested', 'wee.jpg'))
    assert.equal(pdq, WEE_PDQ)
    assert.equal(quality, '100')
    assert.match(md5!, /^[0-9a-f]{32}$/)
    assert.match(sha256!, /^[0-9a-f]{64}$/)
    assert.match(run.stderr, new RegExp(`^${join(dir.path, 'broken.jpg')}\\tMEDIA_CORRUPT: `, 'm'))
  } finally {
    dir.cleanup()
  }
})

test('hash --json --dihedral prints one object per file and exits 0 when all succeed', () => {
  const run = runHash(['--json', '--dihedral', join(FIXTURES_DIR, 'wee.jpg'), join(FIXTURES_DIR, 'square-128x128.jpg')])
  assert.equal(run.status, 0, run.stderr)
  const objects = run.stdout.trim().split('\n').map((line) => JSON.parse(line))
  assert.equal(objects.length, 2)
  assert.equal(objects[0].pdq, WEE_PDQ)
  assert.deepEqual(Object.keys(objects[0]), ['path', 'pdq', 'quality', 'md5', 'sha256', 'dihedral'])
  assert.deepEqual(Object.keys(objects[0].dihedral), ['orig', 'rot90', 'rot180', 'rot270', 'flipx', 'flipy', 'flipp', 'flipm'])
  assert.equal(objects[1].pdq, 'd8f8f1eec0f4a84f0e37022a078f63f0b36e2ed596621e1d33e6239c4e9c9b22')
})

test('a missing path is reported and the exit code is 1', () => {
  const run = runHash([join(FIXTURES_DIR, 'no-such-file.jpg')])
  assert.equal(run.status, 1)
  assert.match(run.stderr, /no-such-file\.jpg\tNOT_FOUND/)
})

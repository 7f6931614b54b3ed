/**
 * hashmesh bank create | list | add | disable | delete | show: on the store directly (no node running),
 * then against a running node over HTTP, where a lookup sees what the CLI curated; bad input is one line
 * with its code and exit 2.
 */
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { cli, cliAsync, cliSpawn } from '../helpers/cli.js'
import { waitFor } from '../helpers/federation.js'
import { expectedPdq } from '../helpers/api.js'
import { FIXTURES_DIR } from '../hash/images.js'
import { tempDir } from '../helpers/tmp.js'

const dir = tempDir('hashmesh-bank-cli-')
after(() => dir.cleanup())
const PDQ = 'ab'.repeat(32)

test('in process (no node running): create, add hashes and a file, show, disable, enable, delete', async () => {
  const data = join(dir.path, 'offline')
  assert.equal(cli(['init', '--data', data, '--name', 'Curator']).code, 0)
  const created = cli(['bank', 'create', 'TERROR_PHOTOS', '--data', data, '--ratio', '0.5', '--json'])
  assert.equal(created.code, 0, created.stderr)
  assert.deepEqual({ ...JSON.parse(created.stdout), createdAt: 0, updatedAt: 0 }, { name: 'TERROR_PHOTOS', kind: 'local', matchingEnabledRatio: 0.5, contentCount: 0, createdAt: 0, updatedAt: 0 })
  assert.equal(cli(['bank', 'create', 'ALLOWED', '--data', data, '--kind', 'negative']).code, 0)

  const added = cli(['bank', 'add', 'TERROR_PHOTOS', '--data', data, '--pdq', PDQ.toUpperCase(), '--md5', 'cd'.repeat(16), '--note', 'from a report', '--json'])
  assert.equal(added.code, 0, added.stderr)
  const item = JSON.parse(added.stdout)
  assert.deepEqual(item.signals, { pdq: PDQ, md5: 'cd'.repeat(16) })
  const fromFile = cli(['bank', 'add', 'TERROR_PHOTOS', join(FIXTURES_DIR, 'small.jpg'), '--data', data, '--json'])
  assert.equal(fromFile.code, 0, fromFile.stderr)
  assert.equal(JSON.parse(fromFile.stdout).signals.pdq, expectedPdq('small.jpg').hash)

  const list = cli(['bank', 'list', '--data', data])
  assert.equal(list.code, 0, list.stderr)
  assert.match(list.stdout, /^ALLOWED\s+negative/m)
  assert.match(list.stdout, /^TERROR_PHOTOS\s+local\s+ratio 0\.5/m)

  const disabled = cli(['bank', 'disable', 'TERROR_PHOTOS', String(item.id), '--data', data, '--until', '2099-01-01', '--json'])
  assert.equal(disabled.code, 0, disabled.stderr)
  assert.equal(JSON.parse(disabled.stdout).disableUntilTs, Date.parse('2099-01-01') / 1000)
  const shown = cli(['bank', 'show', 'TERROR_PHOTOS', '--data', data])
  assert.match(shown.stdout, /TERROR_PHOTOS\s+local\s+ratio 0\.5\s+2 item\(s\)/)
  assert.match(shown.stdout, new RegExp(`${item.id}  disabled until 2099-01-01T00:00:00.000Z  pdq:${PDQ} md5:${'cd'.repeat(16)}  "from a report"`))
  assert.equal(JSON.parse(cli(['bank', 'disable', 'TERROR_PHOTOS', String(item.id), '--data', data, '--enable', '--json']).stdout).enabled, true)
  assert.equal(JSON.parse(cli(['bank', 'disable', 'TERROR_PHOTOS', String(item.id), '--data', data, '--json']).stdout).disableUntilTs, 1, 'for good by default')

  assert.equal(cli(['bank', 'delete', 'TERROR_PHOTOS', String(item.id), '--data', data]).code, 0)
  assert.equal(JSON.parse(cli(['bank', 'show', 'TERROR_PHOTOS', '--data', data, '--json']).stdout).content.length, 1)
  assert.equal(cli(['bank', 'delete', 'TERROR_PHOTOS', '--data', data]).stdout.trim(), 'deleted bank TERROR_PHOTOS')
  assert.deepEqual(JSON.parse(cli(['bank', 'list', '--data', data, '--json']).stdout).banks.map((b: { name: string }) => b.name), ['ALLOWED'])
})

test('mistakes: one line with the code, exit 2, nothing changed', async () => {
  const data = join(dir.path, 'mistakes')
  assert.equal(cli(['init', '--data', data, '--name', 'Careless']).code, 0)
  assert.equal(cli(['bank', 'create', 'GOOD', '--data', data]).code, 0)
  const check = (args: string[], r: { code: number | null; stderr: string }, pattern: RegExp) => {
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
    assert.match(r.stderr, pattern, args.join(' '))
    assert.equal(r.stderr.trim().split('\n').length, 1, 'one line')
  }
  // refused before the store is opened: these may run at once
  const usage: Array<[string[], RegExp]> = [
    [['bank', 'create', 'X', '--data', data, '--ratio', '2'], /^hashmesh: USAGE: --ratio must be a number from 0 to 1/],
    [['bank', 'create', 'X', '--data', data, '--kind', 'secret'], /^hashmesh: USAGE: .*secret/],
    [['bank', 'add', 'GOOD', '--data', data], /^hashmesh: USAGE: nothing to add/],
    [['bank', 'add', 'GOOD', '--data', data, '--pdq', 'abc'], /^hashmesh: USAGE: --pdq must be 64 hex digits/],
    [['bank', 'add', 'GOOD', '--data', data, '--pdq', PDQ, '--pdq', PDQ], /^hashmesh: USAGE: one content item has at most one signal of each type/],
    [['bank', 'add', 'GOOD', join(dir.path, 'missing.jpg'), '--data', data], /^hashmesh: FILE_NOT_FOUND/],
    [['bank', 'disable', 'GOOD', 'x1', '--data', data], /^hashmesh: USAGE: a content id is a positive integer/],
    [['bank', 'disable', 'GOOD', '5', '--data', data, '--until', 'soon'], /^hashmesh: USAGE: --until must be unix seconds or a date/],
    [['bank', 'frobnicate', '--data', data], /^hashmesh: USAGE: unknown command 'frobnicate'/],
  ]
  const results = await Promise.all(usage.map(([args]) => cliAsync(args)))
  results.forEach((r, i) => check(usage[i]![0], r, usage[i]![1]))
  // refused by the bank store: one process at a time holds it
  const store: Array<[string[], RegExp]> = [
    [['bank', 'create', 'lower_case', '--data', data], /^hashmesh: BAD_REQUEST: Bank names must be UPPER_WITH_UNDERSCORE/],
    [['bank', 'create', 'GOOD', '--data', data], /^hashmesh: BAD_REQUEST: Bank already exists/],
    [['bank', 'add', 'NOPE', '--data', data, '--pdq', PDQ], /^hashmesh: NOT_FOUND: bank 'NOPE' not found/],
    [['bank', 'disable', 'GOOD', '5', '--data', data], /^hashmesh: NOT_FOUND: content 5 not found in bank 'GOOD'/],
  ]
  for (const [args, pattern] of store) check(args, cli(args), pattern)
  assert.deepEqual(JSON.parse(cli(['bank', 'list', '--data', data, '--json']).stdout).banks.map((b: { name: string }) => b.name), ['GOOD'])
})

test('against a running node: the CLI curates over HTTP and the node\'s lookup sees it at once', async () => {
  const data = join(dir.path, 'running')
  assert.equal(cli(['init', '--data', data, '--name', 'Runner']).code, 0)
  const child = cliSpawn(['start', '--data', data, '--api-port', '0', '--log-level', 'warn'])
  try {
    let out = ''
    child.stdout!.on('data', (d) => (out += d))
    await waitFor('node started', () => out.includes('apiUrl'), 60_000)
    const { apiUrl } = JSON.parse(readFileSync(join(data, 'node.json'), 'utf8')) as { apiUrl: string }
    const token = readFileSync(join(data, 'api.token'), 'utf8').trim()
    const lookup = async () => (await fetch(`${apiUrl}/m/lookup?signal=${PDQ}&signal_type=pdq`, { headers: { authorization: `Bearer ${token}` } })).json()
    assert.equal(cli(['bank', 'create', 'LIVE', '--data', data]).code, 0)
    const added = cli(['bank', 'add', 'LIVE', '--data', data, '--pdq', PDQ, '--json'])
    assert.equal(added.code, 0, added.stderr)
    assert.deepEqual(await lookup(), ['LIVE'])
    const id = String(JSON.parse(added.stdout).id)
    assert.equal(cli(['bank', 'disable', 'LIVE', id, '--data', data]).code, 0)
    assert.deepEqual(await lookup(), [])
    const gone = cli(['bank', 'show', 'NOPE', '--data', data])
    assert.equal(gone.code, 2)
    assert.match(gone.stderr, /^hashmesh: NOT_FOUND/)
  } finally {
    child.kill('SIGTERM')
    await new Promise((r) => child.once('exit', r))
  }
})

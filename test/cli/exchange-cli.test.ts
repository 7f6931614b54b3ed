/**
 * hashmesh exchange add | list | show | fetch | remove | credentials on the store (no node running): a
 * local_file exchange fills its bank; credentials come from stdin and
 * land 0600; mistakes are one line with a code and exit 2; a failed fetch exits 1 with its error.
 */
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { cli } from '../helpers/cli.js'
import { tempDir } from '../helpers/tmp.js'

const dir = tempDir('hashmesh-exchange-cli-')
after(() => dir.cleanup())
const pdq = (i: number) => createHash('sha256').update(`cli exchange ${i}`).digest('hex')

test('add a local_file exchange, fetch, show, a garbage file (exit 1), remove; credentials from stdin; mistakes', () => {
  const data = join(dir.path, 'node')
  assert.equal(cli(['init', '--data', data, '--name', 'Curator']).code, 0)
  const list = join(dir.path, 'list.txt')
  writeFileSync(list, `pdq ${pdq(1)}\npdq ${pdq(2)}\n`)
  const added = cli(['exchange', 'add', 'MY_LIST', '--data', data, '--api', 'local_file', '--path', list, '--json'])
  assert.equal(added.code, 0, added.stderr)
  assert.equal(JSON.parse(added.stdout).exchange.settings.path, list)

  const fetched = cli(['exchange', 'fetch', 'MY_LIST', '--data', data, '--json'])
  assert.equal(fetched.code, 0, fetched.stderr)
  assert.equal(JSON.parse(fetched.stdout).status.signals, 2)
  const shown = cli(['exchange', 'show', 'MY_LIST', '--data', data])
  assert.match(shown.stdout, /^MY_LIST\s+local_file\s+enabled\s+succeeded\s+2 signal\(s\)/m)
  assert.match(shown.stdout, /counts\s+added 2, removed 0, unchanged 0/)

  writeFileSync(list, '<html>not a list</html>\n')
  utimesSync(list, new Date(), new Date(Date.now() + 10_000))
  const failed = cli(['exchange', 'fetch', 'MY_LIST', '--data', data])
  assert.equal(failed.code, 1)
  assert.match(failed.stdout, /error\s+EXCHANGE_PAYLOAD/)

  const creds = cli(['exchange', 'credentials', 'tat', '--data', data], { input: JSON.stringify({ username: 'u', password: 'cli-secret-9' }) })
  assert.equal(creds.code, 0, creds.stderr)
  assert.equal(statSync(join(data, 'exchange-credentials.json')).mode & 0o777, 0o600)
  assert.match(readFileSync(join(data, 'exchange-credentials.json'), 'utf8'), /cli-secret-9/)

  const mistakes: Array<[string[], RegExp]> = [
    [['exchange', 'add', 'X', '--data', data, '--api', 'gopher'], /USAGE/],
    [['exchange', 'show', 'NOPE', '--data', data], /NOT_FOUND/],
  ]
  for (const [args, expected] of mistakes) {
    const r = cli(args, { input: '' })
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
    assert.match(r.stderr, expected, args.join(' '))
    assert.equal(r.stderr.trim().split('\n').length, 1, 'one line')
  }
  const removed = cli(['exchange', 'remove', 'MY_LIST', '--data', data])
  assert.equal(removed.code, 0, removed.stderr)
  assert.match(removed.stdout, /removed MY_LIST and its bank/)
})

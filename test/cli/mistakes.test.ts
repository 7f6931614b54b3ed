/**
 * Everyday mistakes, run through the real CLI: each ends with one line `hashmesh: CODE: message; hint`, a
 * documented exit code (2 for errors) and no stack trace. The table is the issue-15 checklist.
 */
import { test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { cpSync, mkdirSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { cli, cliAsync, type CliResult } from '../helpers/cli.js'
import { tempDir } from '../helpers/tmp.js'

const dir = tempDir('hashmesh-mistakes-')
const A = join(dir.path, 'a')
const file = (name: string) => join(dir.path, name)
const HEX64 = 'ab'.repeat(32)
let busy: Server
let busyPort = 0

before(async () => {
  const init = cli(['init', '--data', A, '--name', 'Alpha'])
  assert.equal(init.code, 0, init.stderr)
  writeFileSync(file('not-an-image.jpg'), 'this is a text file, not a JPEG\n')
  writeFileSync(file('garbage-signals.txt'), 'hello world, how are you\n')
  writeFileSync(file('keys.txt'), `${HEX64} Someone\n`)
  mkdirSync(file('empty-dir'))
  // a data directory whose running file names a live process (this test's): "a node runs here"
  mkdirSync(file('running'))
  writeFileSync(join(file('running'), 'node.json'), JSON.stringify({ pid: process.pid, apiUrl: 'http://127.0.0.1:9' }))
  busy = createServer()
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve))
  busyPort = (busy.address() as { port: number }).port
})
after(() => {
  busy?.close()
  dir.cleanup()
})

/** `logs`: the node may log before it fails (start), so the error is the last line rather than the only one. */
interface Mistake { what: string; args: () => string[]; code: string; message?: RegExp; exit?: number; logs?: boolean }

const MISTAKES: Mistake[] = [
  { what: 'match a file that does not exist', args: () => ['match', file('nosuchfile.jpg'), '--data', A], code: 'FILE_NOT_FOUND', message: /nosuchfile\.jpg; check the path/ },
  { what: 'submit a file that does not exist', args: () => ['submit', file('nosuchfile.jpg'), '--data', A], code: 'FILE_NOT_FOUND', message: /nosuchfile\.jpg/ },
  { what: 'verify with a key list that does not exist', args: () => ['verify', file('x'), '--keys', file('nosuch.txt')], code: 'FILE_NOT_FOUND', message: /nosuch\.txt/ },
  { what: 'roster show a file that does not exist', args: () => ['roster', 'show', file('nosuch.json')], code: 'FILE_NOT_FOUND', message: /nosuch\.json/ },
  { what: 'verify a directory', args: () => ['verify', dir.path, '--keys', file('keys.txt')], code: 'IS_A_DIRECTORY', message: /is a directory/ },
  { what: 'submit --signals a directory', args: () => ['submit', '--data', A, '--signals', dir.path], code: 'IS_A_DIRECTORY' },
  { what: 'import a directory', args: () => ['import', dir.path, '--bank', 'X', '--data', A], code: 'IS_A_DIRECTORY', message: /is a directory, not a list file/ },
  { what: 'psk onto a file that exists', args: () => ['psk', '--out', file('keys.txt')], code: 'FILE_EXISTS', message: /keys\.txt exists already; .*not overwritten/ },
  { what: 'submit an empty directory', args: () => ['submit', file('empty-dir'), '--data', A], code: 'USAGE', message: /no files found/ },
  { what: 'start on an API port already in use', args: () => ['start', '--data', A, '--api-port', String(busyPort)], code: 'PORT_IN_USE', message: /already in use; .*--api-port/, logs: true },
  { what: 'a misspelt option (--dta)', args: () => ['status', '--dta', A], code: 'USAGE', message: /unknown option '--dta'; did you mean --data\?/ },
  { what: 'no --data', args: () => ['status'], code: 'USAGE', message: /--data DIR/ },
  { what: '--data names a directory with no identity', args: () => ['status', '--data', file('nowhere')], code: 'IDENTITY_MISSING', message: /hashmesh init/ },
  { what: 'revoke an id that is not an id', args: () => ['revoke', 'xyz', '--data', A], code: 'USAGE', message: /record id must be 64 hex digits/ },
  { what: 'revoke with an unknown reason', args: () => ['revoke', HEX64, '--data', A, '--reason', 'whim'], code: 'USAGE', message: /--reason must be one of/ },
  { what: 'show a short id', args: () => ['show', 'abc123', '--data', A], code: 'USAGE', message: /64 hex digits, got 6/ },
  { what: 'list a feed that is not a key', args: () => ['list', '--data', A, '--feed', 'alpha'], code: 'USAGE', message: /--feed must be 64 hex digits/ },
  { what: 'a non-numeric --limit', args: () => ['list', '--data', A, '--limit', 'abc'], code: 'USAGE', message: /--limit must be a non-negative integer/ },
  { what: 'an unknown command', args: () => ['sumbit', '--data', A], code: 'USAGE', message: /unknown command 'sumbit'.*(did you mean|the commands are)/ },
  { what: 'too many arguments', args: () => ['status', 'extra', '--data', A], code: 'USAGE', message: /too many arguments/ },
  { what: 'start with an unknown --log-level', args: () => ['start', '--data', A, '--log-level', 'bogus'], code: 'USAGE', message: /'--log-level <level>' argument 'bogus' is invalid.*fatal, error, warn, info, debug, trace, silent/ },
  { what: 'bad hex in --pdq (match)', args: () => ['match', '--data', A, '--pdq', 'zz'], code: 'USAGE', message: /--pdq must be 64 hex digits/ },
  { what: 'bad hex in --pdq (submit)', args: () => ['submit', '--data', A, '--pdq', 'abc'], code: 'HASH_INVALID' },
  { what: 'match with nothing to match', args: () => ['match', '--data', A], code: 'USAGE', message: /nothing to match/ },
  { what: 'match while no node runs', args: () => ['match', '--data', A, '--pdq', HEX64], code: 'NODE_NOT_RUNNING', message: /hashmesh start/ },
  { what: 'peers while no node runs', args: () => ['peers', '--data', A], code: 'NODE_NOT_RUNNING' },
  { what: 'submit a file that is not an image', args: () => ['submit', file('not-an-image.jpg'), '--data', A], code: 'MEDIA_(UNSUPPORTED|CORRUPT)', message: /not-an-image\.jpg/ },
  { what: 'submit a signals file of prose', args: () => ['submit', '--data', A, '--signals', file('garbage-signals.txt')], code: 'USAGE', message: /garbage-signals\.txt:1: expected a signal/ },
  { what: 'submit --labels-csv that does not exist', args: () => ['submit', '--data', A, '--pdq', HEX64, '--labels-csv', file('nosuch.csv')], code: 'FILE_NOT_FOUND' },
  { what: 'submit an unknown label', args: () => ['submit', '--data', A, '--pdq', HEX64, '-l', 'behavior:dancing'], code: 'LABEL_INVALID' },
  { what: 'an opinion that is not one', args: () => ['opinion', 'pdq', HEX64, 'maybe', '--data', A], code: 'USAGE', message: /opinion must be one of/ },
  { what: 'import a file that does not exist', args: () => ['import', file('nosuch.jsonl'), '--data', A], code: 'FILE_NOT_FOUND' },
  { what: 'init over an existing identity', args: () => ['init', '--data', A, '--name', 'Again'], code: 'IDENTITY_EXISTS' },
  { what: 'psk without -o', args: () => ['psk'], code: 'USAGE', message: /required option/ },
  { what: 'init --bootstrap with a card file that does not exist', args: () => ['init', '--data', file('fresh'), '--name', 'Fresh', '--bootstrap', file('alpha.crad.json')], code: 'FILE_NOT_FOUND', message: /alpha\.crad\.json: no such member card file/ },
  { what: 'a misspelt command gets commander\'s suggestion', args: () => ['stauts', '--data', A], code: 'USAGE', message: /unknown command 'stauts'; did you mean status\? the commands are/ },
  { what: 'a misspelt subcommand names its group\'s commands, not the top-level ones', args: () => ['bank', 'lst', '--data', A], code: 'USAGE', message: /unknown command 'lst'; did you mean list\? the "bank" commands are: create, list,/ },
  { what: 'start where a node already runs', args: () => ['start', '--data', file('running')], code: 'STORE_LOCKED', message: /a node already runs on .*running \(pid \d+, .*; stop it first/ },
]

/** Runs `tasks` with at most `limit` at once (each is a separate CLI process). */
async function pool<T>(tasks: Array<() => Promise<T>>, limit: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length)
  let next = 0
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++
      results[i] = await tasks[i]!()
    }
  }
  await Promise.all(Array.from({ length: limit }, worker))
  return results
}

test(`${MISTAKES.length} everyday mistakes: one line "hashmesh: CODE: message", exit 2, no stack trace`, async () => {
  assert.ok(MISTAKES.length >= 20)
  // Each mistake gets its own copy of A: those that get as far as opening the store would otherwise find it
  // locked by another one running at the same time (STORE_LOCKED instead of their own error).
  const ownData = (args: string[], i: number): string[] => args.map((a) => {
    if (a !== A) return a
    const copy = file(`a-${i}`)
    cpSync(A, copy, { recursive: true })
    return copy
  })
  const results: CliResult[] = await pool(MISTAKES.map((m, i) => () => cliAsync(ownData(m.args(), i))), 3)
  const failures: string[] = []
  for (const [i, m] of MISTAKES.entries()) {
    const r = results[i]!
    const problems: string[] = []
    if (r.code !== (m.exit ?? 2)) problems.push(`exit ${r.code}, expected ${m.exit ?? 2}`)
    const lines = r.stderr.trim().split('\n')
    const line = m.logs ? lines.at(-1) : lines[0]
    if (!new RegExp(`^hashmesh: ${m.code}: `).test(line ?? '')) problems.push(`the error line does not start with "hashmesh: ${m.code}: "`)
    if (!m.logs && lines.length !== 1) problems.push(`${lines.length} lines on stderr`)
    if (/^\s+at /m.test(r.stderr)) problems.push('a stack trace')
    if (m.message && !m.message.test(r.stderr)) problems.push(`message does not match ${m.message}`)
    if (problems.length) failures.push(`${m.what} (hashmesh ${m.args().join(' ')}): ${problems.join(', ')}\n    stderr: ${r.stderr.trim()}`)
  }
  assert.deepEqual(failures, [])
})

test('--debug adds the stack trace', async () => {
  const r = await cliAsync(['match', file('nosuchfile.jpg'), '--data', A, '--debug'])
  assert.equal(r.code, 2)
  assert.match(r.stderr, /^hashmesh: FILE_NOT_FOUND: /)
  assert.match(r.stderr, /^\s+at /m)
})

test('a reader that goes away (| head) ends the command quietly with exit 0', async () => {
  for (const args of [['list', '--data', A], ['status', '--data', A], ['--help']]) {
    const r = await cliAsync(args, { closeStdout: true })
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`)
    assert.doesNotMatch(r.stderr, /Unhandled 'error' event|EPIPE/, args.join(' '))
  }
})

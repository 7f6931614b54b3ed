/** cli/node-flags.ts: the hashmesh command runs node with --v8-pool-size=0, --max-semi-space-size=2 and glibc's mmap threshold fixed (its first two lines), and `start` says when a node runs without them. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { chmodSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { CLI_HEADER, MALLOC_TUNABLE, shHeader, NODE_FLAGS, hasMmapThreshold, missingNodeFlags, runsOnGlibc, withMallocTunable } from '../../src/cli/node-flags.js'
import { cli, REPO } from '../helpers/cli.js'
import { tempDir } from '../helpers/tmp.js'
import { waitFor } from '../helpers/federation.js'

const PATH_WITH_NODE = `${dirname(process.execPath)}:${process.env.PATH ?? ''}`

test('the CLI\'s file begins with the header that gives node its flags', () => {
  const lines = readFileSync(join(REPO, 'src', 'cli', 'main.ts'), 'utf8').split('\n')
  assert.deepEqual(lines.slice(0, CLI_HEADER.length), [...CLI_HEADER])
  assert.deepEqual(NODE_FLAGS, ['--v8-pool-size=0', '--max-semi-space-size=2'])
})

test('bench-hma begins with the header too, with tsx (sh scripts/bench-hma.ts: no node parent processes)', () => {
  const lines = readFileSync(join(REPO, 'scripts', 'bench-hma.ts'), 'utf8').split('\n')
  assert.deepEqual(lines.slice(0, 2), [...shHeader(['--import', '"$(cd "$(dirname "$0")/.." && pwd)/node_modules/tsx/dist/loader.mjs"'])])
})

test('a file that begins with the header runs under node with the flags: as sh runs it, as the kernel runs it, and through a link (as npm links a bin)', () => {
  const dir = tempDir('hashmesh-node-flags-')
  try {
    const script = join(dir.path, 'flags.mjs')
    writeFileSync(script, [...CLI_HEADER, 'console.log(JSON.stringify({ flags: process.execArgv, args: process.argv.slice(2), tunables: process.env.GLIBC_TUNABLES }))', ''].join('\n'))
    chmodSync(script, 0o755)
    const link = join(dir.path, 'linked')
    symlinkSync(script, link)
    const { GLIBC_TUNABLES: _, ...withoutTunables } = process.env
    for (const command of [['sh', script], [script], [link]]) {
      const r = spawnSync(command[0]!, [...command.slice(1), 'one', 'two words'], { encoding: 'utf8', env: { ...withoutTunables, PATH: PATH_WITH_NODE } })
      assert.equal(r.status, 0, r.stderr)
      assert.deepEqual(JSON.parse(r.stdout), { flags: [...NODE_FLAGS], args: ['one', 'two words'], tunables: MALLOC_TUNABLE }, command.join(' '))
    }
    // the operator's own tunables come after the command's, so theirs win (glibc takes a name's last value)
    const own = spawnSync(script, [], { encoding: 'utf8', env: { ...withoutTunables, PATH: PATH_WITH_NODE, GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=65536' } })
    assert.equal(JSON.parse(own.stdout).tunables, `${MALLOC_TUNABLE}:glibc.malloc.mmap_threshold=65536`)
    assert.equal(withMallocTunable({ GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=65536' }).GLIBC_TUNABLES, `${MALLOC_TUNABLE}:glibc.malloc.mmap_threshold=65536`)
    // ...and node, given the file itself, reads the header as a hashbang and a comment
    const direct = spawnSync(process.execPath, [script, 'x'], { encoding: 'utf8', env: withoutTunables })
    assert.deepEqual(JSON.parse(direct.stdout), { flags: [], args: ['x'] })
  } finally {
    dir.cleanup()
  }
})

test('missingNodeFlags: each flag on node\'s command line or in NODE_OPTIONS, with any value (the operator\'s own counts), dashes or underscores', () => {
  assert.deepEqual(missingNodeFlags(['--v8-pool-size=0', '--max-semi-space-size=2'], ''), [])
  assert.deepEqual(missingNodeFlags(['--import', 'tsx'], '--max-old-space-size=4096 --v8-pool-size=2 --max-semi-space-size=16'), [])
  assert.deepEqual(missingNodeFlags([], ''), [...NODE_FLAGS])
  assert.deepEqual(missingNodeFlags(['--import', 'tsx'], '--max-old-space-size=4096'), [...NODE_FLAGS])
  assert.deepEqual(missingNodeFlags(['--v8_pool_size=1'], ''), ['--max-semi-space-size=2'])
  assert.deepEqual(missingNodeFlags([], '--max_semi_space_size=8'), ['--v8-pool-size=0'])
})

test('hasMmapThreshold: the command\'s tunable or the operator\'s own, anywhere in GLIBC_TUNABLES', () => {
  assert.equal(hasMmapThreshold({}), false)
  assert.equal(hasMmapThreshold({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }), false)
  assert.equal(hasMmapThreshold(withMallocTunable({})), true)
  assert.equal(hasMmapThreshold({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2:glibc.malloc.mmap_threshold=65536' }), true)
})

test('start without the command\'s node flags logs start.node-flags at warn naming them, and without the malloc tunable (on glibc) start.malloc-threshold; as the command runs it, neither', async () => {
  const dir = tempDir('hashmesh-node-flags-start-')
  try {
    const data = join(dir.path, 'node')
    assert.equal(cli(['init', '--data', data, '--name', 'Flags']).code, 0)
    // (node on the built CLI or on the sources, as the tests' CLI runs, but without the command's flags)
    const entry = spawnSync(process.execPath, ['--import', 'tsx', '-e', 'import("./scripts/lib/cli-entry.ts").then((m) => console.log(JSON.stringify(m.CLI_ENTRY)))'], { cwd: REPO, encoding: 'utf8' })
    const withoutFlags = (JSON.parse(entry.stdout) as string[]).filter((arg) => !NODE_FLAGS.includes(arg))
    assert.ok(withoutFlags.length > 0, entry.stderr)
    const { GLIBC_TUNABLES: _, ...withoutTunables } = process.env
    for (const [args, env, warned] of [[withoutFlags, withoutTunables, true], [[...NODE_FLAGS, ...withoutFlags], withMallocTunable(withoutTunables), false]] as const) {
      const child = spawn(process.execPath, [...args, 'start', '--data', data, '--api-port', '0', '--log-level', 'warn'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...env, NODE_OPTIONS: '' } })
      let out = ''
      let err = ''
      child.stdout!.on('data', (d) => (out += d))
      child.stderr!.on('data', (d) => (err += d))
      await waitFor('node started', () => out.includes('apiUrl'), 60_000)
      child.kill('SIGTERM')
      await new Promise((r) => child.once('exit', r))
      assert.equal(err.includes('start.node-flags'), warned, err)
      assert.equal(err.includes('start.malloc-threshold'), warned && runsOnGlibc(), err)
      if (warned) for (const flag of NODE_FLAGS) assert.ok(err.includes(flag), `${flag} named: ${err}`)
      if (warned && runsOnGlibc()) assert.ok(err.includes(`GLIBC_TUNABLES=${MALLOC_TUNABLE}`), err)
    }
  } finally {
    dir.cleanup()
  }
})

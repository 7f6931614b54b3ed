import { test } from 'node:test'
import assert from 'node:assert/strict'
import { initDataDir } from '../../src/node/identity.js'
import { cliAsync } from '../helpers/cli.js'
import { tempDir } from '../helpers/tmp.js'

test('CLI: switch suspend / disable / list / resume and incident declare on a stopped node\'s store; a usage mistake exits 2', { timeout: 120_000 }, async () => {
  const dir = tempDir('hashmesh-switch-cli-')
  try {
    await initDataDir(dir.path, { name: 'Ops' })
    const member = 'ab'.repeat(32)
    const md5 = 'cd'.repeat(16)
    const suspended = await cliAsync(['switch', 'suspend', member, '--for', '2h', '--reason', 'stolen key', '--by', 'alice', '--data', dir.path])
    assert.equal(suspended.code, 0, suspended.stderr)
    assert.match(suspended.stdout, /member feed suspended locally at \S+ by alice until \S+: stolen key/)
    // a usage mistake is caught before the store is opened, so it may run beside a command that holds it
    const [disabled, badFor] = await Promise.all([
      cliAsync(['switch', 'disable', '--signal', `md5:${md5}`, '--data', dir.path, '--json']),
      cliAsync(['switch', 'suspend', member, '--for', '5x', '--data', dir.path]),
    ])
    assert.equal(disabled.code, 0, disabled.stderr)
    assert.equal(JSON.parse(disabled.stdout).target, `md5:${md5}`)
    assert.equal(badFor.code, 2)
    assert.match(badFor.stderr, /^hashmesh: USAGE: --for must be a duration/)
    const listed = await cliAsync(['switch', 'list', '--json', '--data', dir.path])
    assert.equal(listed.code, 0, listed.stderr)
    const kinds = (JSON.parse(listed.stdout) as { switches: Array<{ kind: string; target: string }> }).switches.map((s) => `${s.kind}:${s.target}`)
    assert.ok(kinds.includes(`member:${member}`))
    const resumed = await cliAsync(['switch', 'resume', '--member', member, '--data', dir.path])
    assert.equal(resumed.code, 0, resumed.stderr)
    const declared = await cliAsync(['incident', 'declare', 'Attack stream', '--severity', 'critical', '--for', '6h', '--json', '--data', dir.path])
    assert.equal(declared.code, 0, declared.stderr)
    assert.equal(JSON.parse(declared.stdout).state, 'open')
  } finally {
    dir.cleanup()
  }
})

import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { cli } from '../helpers/cli.js'
import { tempDir } from '../helpers/tmp.js'

const dir = tempDir('hashmesh-roster-cli-')
after(() => dir.cleanup())
const data = (name: string) => join(dir.path, name)
const idFile = (name: string) => join(dir.path, `${name}.json`)

test('roster ceremony: init, every founder signs, install pins the genesis; propose needs a majority to add or remove', () => {
  for (const name of ['a', 'b', 'c', 'd']) {
    const r = cli(['init', '--data', data(name), '--name', name.toUpperCase(), '--json'])
    assert.equal(r.code, 0, r.stderr)
    writeFileSync(idFile(name), r.stdout)
  }
  const r1 = join(dir.path, 'r1.json')
  assert.equal(cli(['roster', 'init', '--federation', 'fed', '-m', idFile('a'), '-m', idFile('b'), '-m', idFile('c'), '-o', r1]).code, 0)
  const signs = ['a', 'b', 'c'].map((n) => cli(['roster', 'sign', r1, '--data', data(n)]))
  for (const r of signs) assert.equal(r.code, 0, r.stderr)
  // each founder is told how far the ceremony is and what comes next
  assert.match(signs[0]!.stdout, /as A .*\n1 of 3 founders have signed; still to sign: B, C/)
  assert.match(signs[2]!.stdout, /every founder has signed: install it with "hashmesh roster install /)
  const outsider = cli(['roster', 'sign', r1, '--data', data('d')])
  assert.notEqual(outsider.code, 0, 'a non-member cannot sign the genesis')
  assert.match(outsider.stderr, /ROSTER_INVALID/)
  assert.equal(cli(['roster', 'install', r1, '--data', data('a')]).code, 0)
  const pinned = JSON.parse(readFileSync(join(data('a'), 'config.json'), 'utf8')).p2p.rosterGenesis
  assert.equal(pinned, JSON.parse(readFileSync(r1, 'utf8')).id)

  const dKey = JSON.parse(readFileSync(idFile('d'), 'utf8')).memberKey
  const cKey = JSON.parse(readFileSync(idFile('c'), 'utf8')).memberKey
  const r2 = join(dir.path, 'r2.json')
  const unknown = cli(['roster', 'propose', '--data', data('a'), '--remove', 'Nobody', '-o', r2])
  assert.equal(unknown.code, 2)
  assert.match(unknown.stderr, /--remove Nobody: no member has that key or name; the members are A [0-9a-f]{16}…, B /)
  // --remove takes a member's name as well as its key
  const proposed = cli(['roster', 'propose', '--data', data('a'), '--add', idFile('d'), '--remove', 'c', '-o', r2])
  assert.equal(proposed.code, 0, proposed.stderr)
  assert.match(proposed.stdout, /needs signatures from 2 of the 3 members of serial 1 \(A, B, C\)/)
  const first = cli(['roster', 'sign', r2, '--data', data('a')])
  assert.equal(first.code, 0)
  assert.match(first.stdout, /1 of the 3 members of serial 1 have signed; 2 needed. Not signed yet: B, C/)
  const minority = cli(['roster', 'install', r2, '--data', data('a')])
  assert.equal(minority.code, 2)
  assert.match(minority.stderr, /ROSTER_QUORUM: roster change signed by 1 of 3 members; 2 needed/)
  // a signer whose node lacks serial 1 is told that the majority cannot be counted there; the member
  // being added may sign, but its signature does not count
  const unaware = cli(['roster', 'sign', r2, '--data', data('b')])
  assert.match(unaware.stdout, /this node does not hold serial 1, the version this one follows/)
  assert.equal(cli(['roster', 'install', r1, '--data', data('d')]).code, 0)
  const added = cli(['roster', 'sign', r2, '--data', data('d')])
  assert.equal(added.code, 0)
  assert.match(added.stdout, /note: this member is not in serial 1, so its signature does not count/)
  assert.match(added.stdout, /2 of the 3 members of serial 1 have signed \(2 needed\)/)
  assert.equal(cli(['roster', 'install', r2, '--data', data('a')]).code, 0)
  const shown = JSON.parse(cli(['roster', 'show', '--data', data('a'), '--json']).stdout)
  assert.equal(shown.document.serial, 2)
  const keys = shown.document.members.map((m: { key: string }) => m.key)
  assert.ok(keys.includes(dKey))
  assert.ok(!keys.includes(cKey))
})

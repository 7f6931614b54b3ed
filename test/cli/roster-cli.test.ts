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
  for (const n of ['a', 'b', 'c']) assert.equal(cli(['roster', 'sign', r1, '--data', data(n)]).code, 0)
  const outsider = cli(['roster', 'sign', r1, '--data', data('d')])
  assert.notEqual(outsider.code, 0, 'a non-member cannot sign the genesis')
  assert.match(outsider.stderr, /ROSTER_INVALID/)
  assert.equal(cli(['roster', 'install', r1, '--data', data('a')]).code, 0)
  const pinned = JSON.parse(readFileSync(join(data('a'), 'config.json'), 'utf8')).p2p.rosterGenesis
  assert.equal(pinned, JSON.parse(readFileSync(r1, 'utf8')).id)

  const dKey = JSON.parse(readFileSync(idFile('d'), 'utf8')).memberKey
  const cKey = JSON.parse(readFileSync(idFile('c'), 'utf8')).memberKey
  const r2 = join(dir.path, 'r2.json')
  assert.equal(cli(['roster', 'propose', '--data', data('a'), '--add', idFile('d'), '--remove', cKey, '-o', r2]).code, 0)
  assert.equal(cli(['roster', 'sign', r2, '--data', data('a')]).code, 0)
  const minority = cli(['roster', 'install', r2, '--data', data('a')])
  assert.equal(minority.code, 2)
  assert.match(minority.stderr, /ROSTER_QUORUM: roster change signed by 1 of 3 members; 2 needed/)
  assert.equal(cli(['roster', 'sign', r2, '--data', data('b')]).code, 0)
  assert.equal(cli(['roster', 'install', r2, '--data', data('a')]).code, 0)
  const shown = JSON.parse(cli(['roster', 'show', '--data', data('a'), '--json']).stdout)
  assert.equal(shown.document.serial, 2)
  const keys = shown.document.members.map((m: { key: string }) => m.key)
  assert.ok(keys.includes(dKey))
  assert.ok(!keys.includes(cKey))
})

/**
 * Onboarding without hand-edited JSON (issue 15): init takes the network flags and writes a public member
 * card (no token in it), roster init takes the cards, and a joining member installs the whole roster chain
 * at once, in any order, from files or one bundle; an incomplete chain fails naming the missing serial.
 */
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { cli } from '../helpers/cli.js'
import { tempDir } from '../helpers/tmp.js'

const dir = tempDir('hashmesh-onboarding-')
after(() => dir.cleanup())
const data = (name: string) => join(dir.path, name)
const card = (name: string) => join(dir.path, `${name}-card.json`)
const ok = (args: string[]) => {
  const r = cli(args)
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`)
  return r
}

test('init writes config from --listen/--announce/--bootstrap/--p2p-port and a member card with nothing secret', () => {
  const a = ok(['init', '--data', data('a'), '--name', 'Alpha', '--p2p-port', '24001', '--announce', '/dns4/alpha.example.org/tcp/24001', '--card', card('a')])
  const alpha = JSON.parse(readFileSync(card('a'), 'utf8'))
  assert.deepEqual(Object.keys(alpha).sort(), ['addresses', 'hashmeshMemberCard', 'memberKey', 'name', 'peerId'])
  assert.deepEqual(alpha.addresses, [`/dns4/alpha.example.org/tcp/24001/p2p/${alpha.peerId}`])
  assert.deepEqual(JSON.parse(readFileSync(join(data('a'), 'member-card.json'), 'utf8')), alpha)
  const token = readFileSync(join(data('a'), 'api.token'), 'utf8').trim()
  assert.ok(!a.stdout.includes(token) && !readFileSync(card('a'), 'utf8').includes(token), 'the token is never printed nor in the card')
  assert.match(a.stdout, /api token +\S+api\.token/)
  assert.match(a.stdout, /member card +\S+a-card\.json +<- send this file/)
  const config = JSON.parse(readFileSync(join(data('a'), 'config.json'), 'utf8'))
  assert.deepEqual(config.p2p, { listen: ['/ip4/0.0.0.0/tcp/24001'], announce: ['/dns4/alpha.example.org/tcp/24001'] })

  const b = ok(['init', '--data', data('b'), '--name', 'Bravo', '--listen', '/ip4/127.0.0.1/tcp/24002', '--bootstrap', alpha.addresses[0], '--json'])
  const bravo = JSON.parse(b.stdout)
  assert.equal(bravo.apiToken, undefined, '--json prints the card, not the token')
  assert.deepEqual(bravo.addresses, [`/ip4/127.0.0.1/tcp/24002/p2p/${bravo.peerId}`])
  writeFileSync(card('b'), b.stdout)
  assert.deepEqual(JSON.parse(readFileSync(join(data('b'), 'config.json'), 'utf8')).p2p.bootstrap, [alpha.addresses[0]])
  ok(['init', '--data', data('c'), '--name', 'Charlie', '--card', card('c'), '--bootstrap', card('a')])
  assert.deepEqual(JSON.parse(readFileSync(join(data('c'), 'config.json'), 'utf8')).p2p.bootstrap, alpha.addresses, '--bootstrap takes a member card')
  ok(['init', '--data', data('d'), '--name', 'Delta', '--card', card('d')])
})

test('bad network flags fail before anything is written', () => {
  for (const [flags, message] of [
    [['--bootstrap', '/ip4/127.0.0.1/tcp/4001'], /must end in \/p2p\/<peerId>/],
    [['--listen', 'not-an-address'], /is not a multiaddr/],
    [['--p2p-port', '70000'], /must be a TCP port/],
  ] as const) {
    const r = cli(['init', '--data', data('bad'), '--name', 'Bad', ...flags])
    assert.notEqual(r.code, 0)
    assert.match(r.stderr, /^hashmesh: CONFIG_INVALID: /m)
    assert.match(r.stderr, message)
    assert.ok(!existsSync(join(data('bad'), 'member.key')), 'nothing written')
  }
})

test('the genesis from cards; a joining member installs the chain in any order, and a gap names the missing serial', () => {
  const r1 = join(dir.path, 'roster-1.json')
  ok(['roster', 'init', '--federation', 'fed', '-m', card('a'), '-m', card('b'), '-m', card('c'), '-o', r1])
  for (const n of ['a', 'b', 'c']) ok(['roster', 'sign', r1, '--data', data(n)])
  ok(['roster', 'install', r1, '--data', data('a')])
  const r2 = join(dir.path, 'roster-2.json')
  ok(['roster', 'propose', '--data', data('a'), '--add', card('d'), '-o', r2])
  for (const n of ['a', 'b']) ok(['roster', 'sign', r2, '--data', data(n)])
  ok(['roster', 'install', r2, '--data', data('a')])

  const gap = cli(['roster', 'install', r2, '--data', data('d')])
  assert.notEqual(gap.code, 0)
  assert.match(gap.stderr, /^hashmesh: ROSTER_INVALID: cannot complete the roster chain: serial 1 \(the genesis\) is missing/m)
  assert.equal(cli(['roster', 'show', '--data', data('d'), '--json']).stdout.trim(), 'null', 'nothing installed')

  const both = ok(['roster', 'install', r2, r1, '--data', data('d')])
  assert.match(both.stdout, /serial 1, 3 members\): accepted\n.*serial 2, 4 members\): accepted/)
  assert.equal(JSON.parse(ok(['roster', 'show', '--data', data('d'), '--json']).stdout).document.serial, 2)
  assert.match(ok(['roster', 'install', r1, r2, '--data', data('d')]).stdout, /nothing to install/)

  // one bundle exported from a member's node
  const bundle = join(dir.path, 'chain.json')
  writeFileSync(bundle, ok(['roster', 'show', '--all', '--json', '--data', data('a')]).stdout)
  ok(['roster', 'install', bundle, '--data', data('b')])
  assert.equal(JSON.parse(ok(['roster', 'show', '--data', data('b'), '--json']).stdout).document.serial, 2)
})

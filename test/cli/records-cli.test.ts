import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { cli } from '../helpers/cli.js'
import { tempDir } from '../helpers/tmp.js'
import { randomPdqHex } from '../helpers/records.js'

const dir = tempDir('hashmesh-cli-')
after(() => dir.cleanup())
const A = join(dir.path, 'a')
const B = join(dir.path, 'b')
let alpha: { memberKey: string; peerId: string; name: string; apiToken?: string }

test('init creates the identity with secret files at mode 0600 and refuses to overwrite it', () => {
  const r = cli(['init', '--data', A, '--name', 'Alpha', '--json'])
  assert.equal(r.code, 0, r.stderr)
  alpha = JSON.parse(r.stdout)
  assert.match(alpha.memberKey, /^[0-9a-f]{64}$/)
  assert.match(alpha.peerId, /^12D3KooW/)
  assert.equal(alpha.apiToken, undefined, 'init --json prints the public member card: no secret')
  assert.ok(readFileSync(join(A, 'api.token'), 'utf8').trim().length >= 32)
  for (const f of ['member.key', 'peer.key', 'api.token']) assert.equal(statSync(join(A, f)).mode & 0o777, 0o600, f)
  const again = cli(['init', '--data', A, '--name', 'Other'])
  assert.notEqual(again.code, 0)
  assert.match(again.stderr, /IDENTITY_EXISTS/)
  assert.equal(JSON.parse(readFileSync(join(A, 'identity.json'), 'utf8')).memberKey, alpha.memberKey)
})

test('submit signs signals into the feed; bad input exits non-zero with a typed message', () => {
  const ok = cli(['submit', '--data', A, '--pdq', randomPdqHex(), '--md5', 'd41d8cd98f00b204e9800998ecf8427e', '-l', 'behavior:recruitment', '-l', 'entity:some-group', '--json'])
  assert.equal(ok.code, 0, ok.stderr)
  assert.equal(JSON.parse(ok.stdout).records[0].signals, 2)
  const cases: Array<[string[], RegExp]> = [
    [['--pdq', 'abc'], /HASH_INVALID/],
    [['--md5', randomPdqHex()], /HASH_INVALID/],
    [['--pdq', randomPdqHex(), '-l', 'behavior:dancing'], /LABEL_INVALID/],
    [['--pdq', randomPdqHex(), '--content-type', 'hologram'], /LABEL_INVALID/],
    [[], /USAGE/],
  ]
  for (const [args, message] of cases) {
    const r = cli(['submit', '--data', A, ...args])
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
    assert.match(r.stderr, message)
  }
  const missing = cli(['submit', '--data', join(dir.path, 'nope'), '--pdq', randomPdqHex()])
  assert.equal(missing.code, 2)
  assert.match(missing.stderr, /IDENTITY_MISSING/)
})

test('export, then verify offline: exit 0 when all valid, 1 with a per-record report when not', () => {
  const signals = Array.from({ length: 2500 }, () => `pdq ${randomPdqHex()} 90`).join('\n')
  writeFileSync(join(dir.path, 'signals.txt'), signals)
  assert.equal(cli(['submit', '--data', A, '--signals', join(dir.path, 'signals.txt'), '-l', 'behavior:glorification']).code, 0)
  const exported = cli(['export', '--data', A])
  assert.equal(exported.code, 0, exported.stderr)
  const lines = exported.stdout.trim().split('\n')
  assert.equal(lines.length, 4) // 1 + 3 records (2,500 signals in batches of 1,000)
  const exportFile = join(dir.path, 'export.jsonl')
  writeFileSync(exportFile, exported.stdout)
  writeFileSync(join(dir.path, 'keys.txt'), `${alpha.memberKey} Alpha\n`)
  const good = cli(['verify', exportFile, '--keys', join(dir.path, 'keys.txt')])
  assert.equal(good.code, 0, good.stdout + good.stderr)
  assert.match(good.stdout, /4 valid, 0 invalid/)

  const tampered = lines.map((l, i) => (i === 2 ? l.replace(/"bytes":"(..)/, (_m, b: string) => `"bytes":"${b === '00' ? '01' : '00'}`) : l))
  writeFileSync(join(dir.path, 'tampered.jsonl'), tampered.join('\n') + '\n')
  const bad = cli(['verify', join(dir.path, 'tampered.jsonl'), '--keys', join(dir.path, 'keys.txt')])
  assert.equal(bad.code, 1)
  assert.match(bad.stdout, /line 3: INVALID/)
  // A line whose id (or feed, or seq) is not what its signed bytes say is INVALID, not silently re-labelled.
  const envelope = (i: number, field: string, value: unknown) => lines.map((l, k) => (k === i ? JSON.stringify({ ...JSON.parse(l), [field]: value }) : l)).join('\n') + '\n'
  const firstId = JSON.parse(lines[0]!).id as string
  for (const [field, value] of [['id', firstId], ['feed', 'ab'.repeat(32)], ['seq', 7]] as const) {
    writeFileSync(join(dir.path, 'misnamed.jsonl'), envelope(1, field, value))
    const misnamed = cli(['verify', join(dir.path, 'misnamed.jsonl'), '--keys', join(dir.path, 'keys.txt')])
    assert.equal(misnamed.code, 1, `${field}: ${misnamed.stdout}`)
    assert.match(misnamed.stdout, new RegExp(`line 2: INVALID {2}ENVELOPE_MISMATCH: the line declares ${field} `))
    assert.match(misnamed.stdout, /line 1: ok /)
    assert.match(misnamed.stdout, /line 3: ok /)
    assert.match(misnamed.stdout, /3 valid, 1 invalid/)
  }
  const report = JSON.parse(cli(['verify', join(dir.path, 'misnamed.jsonl'), '--keys', join(dir.path, 'keys.txt'), '--json']).stdout)
  assert.equal(report.entries[1].code, 'ENVELOPE_MISMATCH')
  assert.equal(report.entries[1].id, JSON.parse(lines[1]!).id, 'the report names the record the bytes really are')
  const missing = cli(['verify', join(dir.path, 'missing.jsonl'), '--keys', join(dir.path, 'keys.txt')])
  assert.equal(missing.code, 2)
  assert.match(missing.stderr, /FILE_NOT_FOUND: no such file or directory: .*missing.jsonl/)
  writeFileSync(join(dir.path, 'gap.jsonl'), [lines[0], lines[2]].join('\n') + '\n')
  const gapped = cli(['verify', join(dir.path, 'gap.jsonl'), '--keys', join(dir.path, 'keys.txt')])
  assert.equal(gapped.code, 1)
  assert.match(gapped.stdout, /SEQ_GAP/)
  // the key list names someone else: every record is by an unknown author
  writeFileSync(join(dir.path, 'other-keys.txt'), `${randomPdqHex()} Someone\n`)
  const stranger = cli(['verify', exportFile, '--keys', join(dir.path, 'other-keys.txt')])
  assert.equal(stranger.code, 1)
  assert.match(stranger.stdout, /line 1: INVALID {2}UNKNOWN_AUTHOR/)
  assert.match(stranger.stdout, /0 valid, 4 invalid/)
  const noKeys = cli(['verify', exportFile, '--keys', join(dir.path, 'signals.txt')])
  assert.equal(noKeys.code, 2)
  assert.match(noKeys.stderr, /BAD_REQUEST/)
})

test('import verifies every record and reports accepted / duplicate / rejected with reasons', () => {
  assert.equal(cli(['init', '--data', B, '--name', 'Bravo']).code, 0)
  const exportFile = join(dir.path, 'export.jsonl')
  const refused = cli(['import', exportFile, '--data', B, '--json'])
  assert.equal(refused.code, 1)
  assert.deepEqual({ ...JSON.parse(refused.stdout), reasons: undefined }, { accepted: 0, duplicate: 0, pending: 0, rejected: 4, reasons: undefined })
  assert.equal(JSON.parse(refused.stdout).reasons.UNKNOWN_AUTHOR, 4)

  // A roster makes Alpha a member of Bravo's federation.
  const rosterFile = join(dir.path, 'roster.json')
  writeFileSync(join(dir.path, 'alpha.json'), JSON.stringify({ ...alpha, name: 'Alpha' }))
  assert.equal(cli(['roster', 'init', '--federation', 'test', '-m', join(dir.path, 'alpha.json'), '-m', join(B, 'identity.json'), '-o', rosterFile]).code, 0)
  const early = cli(['roster', 'install', rosterFile, '--data', B])
  assert.equal(early.code, 2)
  assert.match(early.stderr, /ROSTER_QUORUM/)
  assert.equal(cli(['roster', 'sign', rosterFile, '--data', A]).code, 0)
  assert.equal(cli(['roster', 'sign', rosterFile, '--data', B]).code, 0)
  const installed = cli(['roster', 'install', rosterFile, '--data', B])
  assert.equal(installed.code, 0, installed.stderr)
  const imported = cli(['import', exportFile, '--data', B, '--json'])
  assert.equal(imported.code, 0, imported.stderr)
  assert.equal(JSON.parse(imported.stdout).accepted, 4)
  const again = cli(['import', exportFile, '--data', B, '--json'])
  assert.equal(JSON.parse(again.stdout).duplicate, 4)
  const garbage = join(dir.path, 'garbage.jsonl')
  writeFileSync(garbage, 'not json\n{"bytes":"zz"}\n{"bytes":"a1"}\n')
  const bad = cli(['import', garbage, '--data', B, '--json'])
  assert.equal(bad.code, 1)
  assert.equal(JSON.parse(bad.stdout).rejected, 3)
  const status = JSON.parse(cli(['status', '--data', B, '--json']).stdout)
  assert.equal(status.records, 4)
  assert.equal(status.roster.members, 2)
})

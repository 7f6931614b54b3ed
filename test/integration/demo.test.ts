import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { REPO } from '../helpers/cli.js'

test('npm run demo tells the whole story end to end and exits 0', { timeout: 240_000 }, () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/demo.ts'], { cwd: REPO, encoding: 'utf8', timeout: 230_000 })
  assert.equal(r.status, 0, r.stdout + r.stderr)
  assert.match(r.stdout, /all 10 steps worked/)
  assert.match(r.stdout, /contributed by Alpha, labels \[behavior:glorification, entity:example-group\].*signature verified: true/)
  assert.match(r.stdout, /matched a frame of Alpha's video at/)
  assert.match(r.stdout, /Charlie no longer matches the re-upload/)
  assert.match(r.stdout, /0 invalid/)
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { skipUnless, underCi } from './shared-data.js'

const HELPER = fileURLToPath(new URL('./shared-data.ts', import.meta.url))

test('underCi: CI=true or CI=1; unset, empty or false is not CI', () => {
  assert.equal(underCi({ CI: 'true' }), true)
  assert.equal(underCi({ CI: '1' }), true)
  assert.equal(underCi({}), false)
  assert.equal(underCi({ CI: '' }), false)
  assert.equal(underCi({ CI: 'false' }), false)
})

test('skipUnless gives a reason naming the missing path, false when it exists, and never skips under CI', () => {
  assert.equal(skipUnless(HELPER, 'helper', {}), false)
  assert.match(String(skipUnless('/nonexistent/testdata/pdq', 'PDQ data', {})), /PDQ data not present at \/nonexistent\/testdata\/pdq/)
  assert.equal(skipUnless('/nonexistent/testdata/pdq', 'PDQ data', { CI: 'true' }), false)
})

/** Runs a test file that requires a missing data set, with and without CI=true. */
function runRequiring(ci: string | undefined): { code: number | null; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'hashmesh-shared-data-'))
  try {
    const file = join(dir, 'needs-data.test.ts')
    writeFileSync(file, [
      `import { test } from 'node:test'`,
      `import { readFileSync } from 'node:fs'`,
      `import { requireSharedData, skipUnless } from ${JSON.stringify(HELPER)}`,
      `requireSharedData('/nonexistent/testdata/x', 'the X data set')`,
      `test('uses the data', { skip: skipUnless('/nonexistent/testdata/x', 'the X data set') }, () => { readFileSync('/nonexistent/testdata/x') })`,
    ].join('\n') + '\n')
    const env = { ...process.env }
    delete env.CI
    if (ci !== undefined) env.CI = ci
    delete env.NODE_TEST_CONTEXT // run as a test file of its own, not as a child of this run
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', file], { encoding: 'utf8', env, timeout: 60_000 })
    return { code: r.status, out: r.stdout + r.stderr }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

test('a missing data set fails the run under CI=true, and only skips without it', () => {
  const ci = runRequiring('true')
  assert.equal(ci.code, 1, ci.out)
  assert.match(ci.out, /# fail 2/)
  assert.match(ci.out, /# skipped 0/)
  assert.match(ci.out, /CI=true requires the conformance data/)
  const local = runRequiring(undefined)
  assert.equal(local.code, 0, local.out)
  assert.match(local.out, /# skipped 2/)
})

/**
 * The conformance data sets live outside the repository (../shared/testdata). Locally a missing set skips
 * its tests with a reason; under CI (CI=true, as .ci/run sets) a missing set is a failure, so that a green
 * run can never be a run that compared nothing.
 */
import { existsSync } from 'node:fs'
import { test } from 'node:test'
import assert from 'node:assert/strict'

export function underCi(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.CI === 'true' || env.CI === '1'
}

function missingReason(path: string, what: string): false | string {
  return existsSync(path) ? false : `${what} not present at ${path}`
}

/**
 * The `skip` option for tests that need `path`: false when it exists or under CI (where such a test then
 * fails on the missing file), else the reason.
 */
export function skipUnless(path: string, what: string, env: NodeJS.ProcessEnv = process.env): false | string {
  return underCi(env) ? false : missingReason(path, what)
}

/** A test saying plainly what is missing: it fails under CI, and is skipped with the reason elsewhere. */
export function requireSharedData(path: string, what: string, env: NodeJS.ProcessEnv = process.env): void {
  const missing = missingReason(path, what)
  const options = missing && !underCi(env) ? { skip: `${missing} (required when CI=true)` } : {}
  test(`${what} is present (required when CI=true)`, options, () => {
    assert.ok(!missing, `${missing}: CI=true requires the conformance data; install ../shared/testdata`)
  })
}

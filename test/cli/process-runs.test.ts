import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { processRuns } from '../../src/process-runs.js'

describe('processRuns (a running file\'s pid, a build directory\'s pid)', () => {
  it('is true for this process and false for one that cannot exist, or a pid that names a group', () => {
    assert.equal(processRuns(process.pid), true)
    assert.equal(processRuns(4_194_305), false) // (above the largest pid Linux allows)
    for (const pid of [0, -1, Number.NaN, 1.5]) assert.equal(processRuns(pid), false, String(pid))
  })
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadConfig } from '../../src/config.js'
import { tempDir } from '../helpers/tmp.js'

function codeAndMessage(fn: () => unknown): { code?: string; message?: string } {
  try {
    fn()
  } catch (err) {
    return { code: (err as { code?: string }).code, message: (err as Error).message }
  }
  return {}
}

test('defaults, then the node\'s config.json, then HASHMESH_* environment variables', () => {
  const dir = tempDir()
  try {
    assert.equal(loadConfig({ env: {} }).api.host, '127.0.0.1')
    writeFileSync(join(dir.path, 'config.json'), JSON.stringify({ api: { port: 9100 }, match: { pdqThreshold: 20 } }))
    const fromFile = loadConfig({ dataDir: dir.path, env: {} })
    assert.equal(fromFile.api.port, 9100)
    assert.equal(fromFile.match.pdqThreshold, 20)
    assert.equal(fromFile.match.minQuality, 50)
    const fromEnv = loadConfig({ dataDir: dir.path, env: { HASHMESH_API_PORT: '9200', HASHMESH_MATCH_PDQTHRESHOLD: '24', HASHMESH_P2P_BOOTSTRAP: '["/ip4/127.0.0.1/tcp/1/p2p/x"]' } })
    assert.equal(fromEnv.api.port, 9200)
    assert.equal(fromEnv.match.pdqThreshold, 24)
    assert.deepEqual(fromEnv.p2p.bootstrap, ['/ip4/127.0.0.1/tcp/1/p2p/x'])
  } finally {
    dir.cleanup()
  }
})

test('an invalid config names the bad key and why', () => {
  const dir = tempDir()
  try {
    writeFileSync(join(dir.path, 'config.json'), JSON.stringify({ api: { port: 'eighty' } }))
    const bad = codeAndMessage(() => loadConfig({ dataDir: dir.path, env: {} }))
    assert.equal(bad.code, 'CONFIG_INVALID')
    assert.match(bad.message!, /api\.port/)
    const range = codeAndMessage(() => loadConfig({ env: { HASHMESH_MATCH_PDQTHRESHOLD: '500' } }))
    assert.equal(range.code, 'CONFIG_INVALID')
    assert.match(range.message!, /match\.pdqThreshold/)
    assert.equal(loadConfig({ env: {} }).match.indexBuildPriority, 'idle')
    assert.equal(loadConfig({ env: { HASHMESH_MATCH_INDEXBUILDPRIORITY: 'normal' } }).match.indexBuildPriority, 'normal')
    const priority = codeAndMessage(() => loadConfig({ env: { HASHMESH_MATCH_INDEXBUILDPRIORITY: 'fast' } }))
    assert.equal(priority.code, 'CONFIG_INVALID')
    assert.match(priority.message!, /match\.indexBuildPriority": expected one of "idle", "low", "normal"/)
    writeFileSync(join(dir.path, 'config.json'), JSON.stringify({ nonsense: true }))
    assert.equal(codeAndMessage(() => loadConfig({ dataDir: dir.path, env: {} })).code, 'CONFIG_INVALID')
    writeFileSync(join(dir.path, 'config.json'), '{ not json')
    const unreadable = codeAndMessage(() => loadConfig({ dataDir: dir.path, env: {} }))
    assert.equal(unreadable.code, 'CONFIG_INVALID')
    assert.match(unreadable.message!, /config\.json/)
  } finally {
    dir.cleanup()
  }
})

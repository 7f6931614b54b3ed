/** src/heap.ts: the full collection a node runs before its API answers (api/server.ts startApiServer). */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { collectGarbage } from '../../src/heap.js'

test('collectGarbage collects what nothing holds (a WeakRef\'s target is gone after it), and leaves the process\'s own global without gc', async () => {
  const held = { kept: true }
  const refs = ((): [WeakRef<object>, WeakRef<object>] => [new WeakRef({ garbage: new Array(1000).fill(1) }), new WeakRef(held)])()
  await new Promise((resolve) => setImmediate(resolve)) // (a WeakRef keeps its target until the job that made it ends)
  collectGarbage()
  assert.equal(refs[0].deref(), undefined)
  assert.equal(refs[1].deref(), held)
  collectGarbage() // (a second call reuses the function)
  assert.equal((globalThis as { gc?: unknown }).gc, undefined)
})

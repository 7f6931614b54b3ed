/** asNetError: whatever a stream operation throws becomes a typed error with a message a person can read. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { asNetError } from '../../src/net/stream-io.js'

test('a DOM Event thrown by a closing stream reads as "the connection closed", not "[object Event]"', () => {
  const closed = asNetError(new Event('close'), 'open sync stream')
  assert.equal(closed.code, 'NODE_UNREACHABLE')
  assert.equal(closed.message, 'open sync stream: the connection closed')
  assert.equal(asNetError(new Event('abort'), 'read').message, 'read: the connection ended (abort)')
})

test('errors keep their code mapping and message', () => {
  const timeout = asNetError(Object.assign(new Error('took too long'), { name: 'TimeoutError' }), 'read')
  assert.equal(timeout.code, 'TIMEOUT')
  assert.equal(timeout.message, 'read: took too long')
  assert.equal(asNetError(new Error('reset'), 'write').code, 'NODE_UNREACHABLE')
})

/** Repeated sync failures with one peer cost at most one log line a minute, with a count. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { FailureLog, FAILURE_LOG_INTERVAL_MS } from '../../src/net/failure-log.js'

test('a peer failing every half second for eight minutes is 8 lines that count every failure, not 960', () => {
  let now = 0
  const lines: Array<Record<string, unknown>> = []
  const log = new FailureLog((_event, fields) => lines.push(fields), 'sync.session.failed', () => now)
  for (; now < 8 * 60_000; now += 500) log.failed('peerA', { code: 'NODE_UNREACHABLE' })
  assert.equal(lines.length, 8)
  assert.equal(lines[0]!.failures, 1)
  assert.ok(lines.slice(1).every((l) => l.failures === FAILURE_LOG_INTERVAL_MS / 500 && l.sinceMs === FAILURE_LOG_INTERVAL_MS))
  assert.equal(lines.reduce((n, l) => n + Number(l.failures), 0), 8 * 120 - 119, 'every failure but the last minute\'s is counted in a line')
})

test('peers are summarised apart, and a success ends a streak (the next failure is logged at once)', () => {
  let now = 0
  const lines: string[] = []
  const log = new FailureLog((_event, fields) => lines.push(String(fields.peer)), 'sync.session.failed', () => now)
  log.failed('a', { peer: 'a' })
  log.failed('b', { peer: 'b' })
  now += 1_000
  log.failed('a', { peer: 'a' })
  assert.deepEqual(lines, ['a', 'b'])
  log.succeeded('a')
  log.failed('a', { peer: 'a' })
  assert.deepEqual(lines, ['a', 'b', 'a'])
})

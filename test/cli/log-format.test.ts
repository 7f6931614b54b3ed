/** `hashmesh start` on a terminal: one readable line per pino JSON line, ISO time first. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import pino from 'pino'
import { prettyLine } from '../../src/cli/log-format.js'

test('a line with a sentence shows time, level, sentence and event; one without shows its fields', () => {
  const out: string[] = []
  const logger = pino({ base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, { write: (line: string) => void out.push(line) })
  logger.info({ event: 'peer.connected', msg: 'connected to Bravo (12D3KooW…abcd)', peer: '12D3KooWabcd' })
  logger.warn({ event: 'net.started', peerId: 'x', addresses: ['/ip4/127.0.0.1/tcp/1'] })
  const json = JSON.parse(out[0]!) as { time: string }
  assert.match(json.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'JSON lines carry ISO timestamps')
  assert.equal(prettyLine(out[0]!.trimEnd(), false), `${json.time} INFO  connected to Bravo (12D3KooW…abcd)  [peer.connected]\n`)
  assert.match(prettyLine(out[1]!.trimEnd(), false), /^\S+Z WARN  net.started  peerId=x addresses=\["\/ip4\/127.0.0.1\/tcp\/1"\]\n$/)
  assert.equal(prettyLine('not json', false), 'not json')
  assert.match(prettyLine(out[0]!.trimEnd(), true), /\x1b\[32mINFO \x1b\[0m/)
})

// bench-hma's /status client (scripts/lib/status-client.mjs): one keep-alive connection, each request
// stamped just before its write, and anything that is not a short answer with content-length ends the
// connection without hanging the poller.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { StatusClient } from '../../scripts/lib/status-client.mjs'
import { SEQ_HEADER, monotonicMs } from '../../scripts/lib/status-wire.mjs'

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; connections: () => number; close: () => Promise<void> }> {
  const server = createServer(handler)
  let connections = 0
  server.on('connection', () => connections++)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => connections,
    close: () => {
      server.closeAllConnections()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}

test('asks on one keep-alive connection, with the token and the number, and reads each status', async () => {
  const seen: string[] = []
  const server = await serve((req, res) => {
    seen.push(`${req.url} ${req.headers.authorization} ${req.headers[SEQ_HEADER]}`)
    res.statusCode = Number(req.headers[SEQ_HEADER]) < 3 ? 503 : 200
    res.end(res.statusCode === 503 ? 'INDEX-NOT-LOADED' : 'I-AM-ALIVE')
  })
  const client = new StatusClient(server.url, 'sesame', SEQ_HEADER)
  try {
    const before = monotonicMs()
    const answers = [await client.ask(1), await client.ask(2), await client.ask(3)]
    assert.deepEqual(answers.map((a) => a.status), [503, 503, 200])
    assert.ok(answers[0]!.askedAt >= before && answers[2]!.askedAt <= monotonicMs(), 'stamped on the monotonic clock, when asked')
    assert.ok(answers[0]!.askedAt < answers[1]!.askedAt && answers[1]!.askedAt < answers[2]!.askedAt)
    assert.deepEqual(seen, ['/status Bearer sesame 1', '/status Bearer sesame 2', '/status Bearer sesame 3'])
    assert.equal(server.connections(), 1)
  } finally {
    client.close()
    await server.close()
  }
})

test('an answer without content-length, or a closed connection, is -1; the next ask opens a new connection', async () => {
  const server = await serve((req, res) => {
    const seq = Number(req.headers[SEQ_HEADER])
    if (seq === 1) {
      res.write('chunked, no length') // (node sends transfer-encoding: chunked)
      res.end()
    } else if (seq === 2) req.socket.destroy()
    else res.end('I-AM-ALIVE')
  })
  const client = new StatusClient(server.url, 't', SEQ_HEADER)
  try {
    assert.equal((await client.ask(1)).status, -1)
    assert.equal((await client.ask(2)).status, -1)
    assert.equal((await client.ask(3)).status, 200)
    assert.equal(server.connections(), 3)
  } finally {
    client.close()
    await server.close()
  }
})

test('a server that is not there is -1, not a hang', async () => {
  const server = await serve((_req, res) => res.end())
  const url = server.url
  await server.close()
  const client = new StatusClient(url, 't', SEQ_HEADER)
  assert.equal((await client.ask(1)).status, -1)
  client.close()
})

test('close() while an ask waits ends that ask with -1', { timeout: 5000 }, async () => {
  const server = await serve(() => undefined) // (never answers)
  const client = new StatusClient(server.url, 't', SEQ_HEADER)
  try {
    const asked = client.ask(1)
    await new Promise((resolve) => setTimeout(resolve, 50))
    client.close()
    assert.equal((await asked).status, -1)
  } finally {
    await server.close()
  }
})

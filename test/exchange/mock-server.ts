/** A mock HTTP server on 127.0.0.1 (never off loopback) answering from a handler, recording each request. */
import http from 'node:http'
import type { AddressInfo } from 'node:net'

export interface SeenRequest { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }
export interface MockAnswer { status?: number; headers?: Record<string, string>; body?: string | object; delayMs?: number }
export type MockHandler = (request: SeenRequest) => MockAnswer | Promise<MockAnswer>

export interface MockServer {
  url: string
  requests: SeenRequest[]
  handler: MockHandler
  close(): Promise<void>
}

export async function mockServer(handler: MockHandler): Promise<MockServer> {
  const mock: MockServer = { url: '', requests: [], handler, close: async () => undefined }
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', async () => {
      const seen = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') }
      mock.requests.push(seen)
      const answer = await mock.handler(seen)
      if (answer.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs))
      if (res.destroyed) return
      const body = answer.body === undefined ? '' : typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body)
      res.writeHead(answer.status ?? 200, { 'content-type': typeof answer.body === 'object' ? 'application/json' : 'text/plain', ...answer.headers })
      res.end(body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  mock.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  mock.close = () => new Promise((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  })
  return mock
}

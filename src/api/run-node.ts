/**
 * A node as a running process: HashmeshNode.start() (verifier, match index, network: see node/node.ts,
 * the composition root) plus the HTTP API server on top, and the `running` file that tells CLI commands
 * where to find it. Used by `hashmesh start`, the devnet, the demo and integration tests.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ConfigOverrides } from '../config.js'
import { FILES, apiTokenReader } from '../node/identity.js'
import type { NodeLog } from '../node/log.js'
import { safetyCatch } from '../errors.js'
import { HashmeshNode } from '../node/node.js'
import { startApiServer, type ApiServer } from './server.js'

export type Log = NodeLog

export interface RunningNode {
  node: HashmeshNode
  network: HashmeshNode['net']
  api: ApiServer
  apiUrl: string
  stop(): Promise<void>
}

export interface RunNodeOptions {
  overrides?: ConfigOverrides
  log?: Log
  /** Log `record.stored` (trace) for every stored record; off unless the logger keeps trace lines. */
  traceRecords?: boolean
  apiLogger?: boolean | object
}

export async function runNode(dataDir: string, options: RunNodeOptions = {}): Promise<RunningNode> {
  const log: Log = options.log ?? (() => undefined)
  const node = await HashmeshNode.open(dataDir, { overrides: options.overrides })
  await node.prepareStart() // (its threads start before the API listens: see prepareStart)
  let api: ApiServer | undefined
  try {
    // The API listens first: a port in use fails before the index rebuild, and a load balancer watching
    // /status sees 503 INDEX-NOT-LOADED (not a refused connection) while the index is built.
    api = await startApiServer(node, {
      host: node.config.api.host,
      port: node.config.api.port,
      token: apiTokenReader(node.identity.dataDir),
      bodyLimitBytes: node.config.api.bodyLimitBytes,
      jsonBodyLimitBytes: node.config.api.jsonBodyLimitBytes,
      logger: options.apiLogger,
    })
    await node.start({ log, traceRecords: options.traceRecords })
  } catch (err) {
    await api?.close().catch(safetyCatch) // the start's own error is the one to report
    await node.stop()
    throw err
  }
  const network = node.net
  const runningFile = join(node.identity.dataDir, FILES.running)
  writeFileSync(runningFile, JSON.stringify({ pid: process.pid, apiUrl: api.url, peerId: node.identity.peerId, multiaddrs: network?.multiaddrs() ?? [] }, null, 2) + '\n')
  const p2p = network?.multiaddrs() ?? 'off (no roster)'
  const msg = `node started: API on ${api.url}, p2p ${Array.isArray(p2p) ? `on ${p2p.join(', ') || 'no address'}` : p2p}`
  log('info', 'node.started', { msg, api: api.url, peerId: node.identity.peerId, p2p })
  let stopping: Promise<void> | undefined
  const stop = () =>
    (stopping ??= (async () => {
      await api!.close().catch((err: Error) => log('warn', 'api.close.failed', { message: err.message }))
      await node.stop().catch((err: Error) => log('warn', 'node.stop.failed', { message: err.message }))
      removeRunningFile(runningFile)
      log('info', 'node.stopped')
    })())
  return { node, network, api, apiUrl: api.url, stop }
}

/** Removes the running file if it is still ours (a newer process may have replaced it). */
function removeRunningFile(path: string): void {
  let owner: number | undefined
  try {
    owner = (JSON.parse(readFileSync(path, 'utf8')) as { pid?: number }).pid
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || err instanceof SyntaxError) return
    throw err
  }
  if (owner === process.pid) rmSync(path, { force: true })
}

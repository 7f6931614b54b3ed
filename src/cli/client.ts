/**
 * The fast door to a node for CLI commands. When a node runs on the data directory, commands that prefer it
 * talk to it over HTTP without importing the store, the network or the node (start-up stays near Node's own);
 * otherwise cli/node-client.ts is imported, and with it everything needed to open the store directly.
 */
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { NodeApi } from '../node/contract.js'
import { HttpNodeClient } from './http-client.js'
import { findRunningNode, type RunningNodeInfo } from './running-node.js'

export { findRunningNode, type RunningNodeInfo }

/** The names node/identity.ts FILES gives them (importing it would load libp2p's key code). */
const API_TOKEN_FILE = 'api.token'

export function remoteClient(dataDir: string, running: RunningNodeInfo): HttpNodeClient {
  return new HttpNodeClient(running.apiUrl, readFileSync(join(resolve(dataDir), API_TOKEN_FILE), 'utf8').trim())
}

/** The running node over HTTP when `preferRemote` and one runs; otherwise as cli/node-client.ts decides. */
export async function connect(dataDir: string, options: { preferRemote?: boolean } = {}): Promise<NodeApi> {
  const running = options.preferRemote ? findRunningNode(dataDir) : undefined
  if (running) return remoteClient(dataDir, running)
  const { openClient } = await import('./node-client.js')
  return openClient(dataDir, options)
}

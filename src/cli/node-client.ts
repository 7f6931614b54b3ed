/**
 * Which NodeApi a CLI command talks to. LevelDB allows one process: if a node is running on the data
 * directory, commands talk to it over its HTTP API (HttpNodeClient); otherwise they open the store
 * directly (NodeService over an unstarted node: everything but matching, which needs the index).
 */
import { fail, isHashmeshError } from '../errors.js'
import type { NodeApi } from '../node/contract.js'
import { FILES, readApiToken } from '../node/identity.js'
import { HashmeshNode } from '../node/node.js'
import { NodeService } from '../node/service.js'
import { findRunningNode } from './running-node.js'
import { HttpNodeClient } from './http-client.js'

export { findRunningNode as readRunningNode, type RunningNodeInfo } from './running-node.js'

/** Opens the data directory directly, or connects to the node that holds it. */
export async function openClient(dataDir: string, options: { preferRemote?: boolean } = {}): Promise<NodeApi> {
  const running = findRunningNode(dataDir)
  if (running && options.preferRemote) return new HttpNodeClient(running.apiUrl, readApiToken(dataDir))
  try {
    return new NodeService(await HashmeshNode.open(dataDir), { ownsNode: true, operator: true })
  } catch (err) {
    if (!isHashmeshError(err, 'STORE_LOCKED')) throw err
    if (!running) fail('STORE_LOCKED', `${err.message}; no running node answers for ${dataDir} (is ${FILES.running} missing?)`)
    return new HttpNodeClient(running.apiUrl, readApiToken(dataDir))
  }
}

/**
 * Which NodeApi a CLI command talks to. LevelDB allows one process: if a node is running on the data
 * directory, commands talk to it over its HTTP API (HttpNodeClient); otherwise they open the store
 * directly (NodeService over an unstarted node: everything but matching, which needs the index).
 */
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fail, isHashmeshError } from '../errors.js'
import type { NodeApi } from '../node/contract.js'
import { FILES, readApiToken } from '../node/identity.js'
import { HashmeshNode } from '../node/node.js'
import { NodeService } from '../node/service.js'
import { HttpNodeClient } from './http-client.js'

export interface RunningNodeInfo { pid: number; apiUrl: string }

/** The node running on `dataDir`, when its `running` file names a live process. */
export function readRunningNode(dataDir: string): RunningNodeInfo | undefined {
  const path = join(resolve(dataDir), FILES.running)
  if (!existsSync(path)) return undefined
  let info: RunningNodeInfo
  try {
    info = JSON.parse(readFileSync(path, 'utf8')) as RunningNodeInfo
  } catch (err) {
    if (err instanceof SyntaxError || (err as NodeJS.ErrnoException).code === 'ENOENT') return undefined // half-written or just removed
    throw err
  }
  return isAlive(info.pid) ? info : undefined
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EPERM') return true // alive, another user's
    return false // ESRCH: a stale file left by a killed node
  }
}

/** Opens the data directory directly, or connects to the node that holds it. */
export async function openClient(dataDir: string, options: { preferRemote?: boolean } = {}): Promise<NodeApi> {
  const running = readRunningNode(dataDir)
  if (running && options.preferRemote) return new HttpNodeClient(running.apiUrl, readApiToken(dataDir))
  try {
    return new NodeService(await HashmeshNode.open(dataDir), { ownsNode: true, operator: true })
  } catch (err) {
    if (!isHashmeshError(err, 'STORE_LOCKED')) throw err
    if (!running) fail('STORE_LOCKED', `${err.message}; no running node answers for ${dataDir} (is ${FILES.running} missing?)`)
    return new HttpNodeClient(running.apiUrl, readApiToken(dataDir))
  }
}

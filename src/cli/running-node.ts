/** Which node runs on a data directory, from its running file: no store, network or node code loaded. */
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { processRuns } from '../process-runs.js'

/** The name node/identity.ts FILES.running gives it (importing identity.ts would load libp2p's key code). */
const RUNNING_FILE = 'node.json'

export interface RunningNodeInfo { pid: number; apiUrl: string }

/** The node running on `dataDir`, when its running file names a live process. */
export function findRunningNode(dataDir: string): RunningNodeInfo | undefined {
  const path = join(resolve(dataDir), RUNNING_FILE)
  if (!existsSync(path)) return undefined
  let info: RunningNodeInfo
  try {
    info = JSON.parse(readFileSync(path, 'utf8')) as RunningNodeInfo
  } catch (err) {
    if (err instanceof SyntaxError || (err as NodeJS.ErrnoException).code === 'ENOENT') return undefined // half-written or just removed
    throw err
  }
  return processRuns(info.pid) ? info : undefined // (not running: a stale file)
}


/** Starting and stopping real member nodes (real LevelDB, real libp2p over TCP on 127.0.0.1) in tests. */
import '../../src/shim.js'
import { runNode, type RunningNode } from '../../src/api/run-node.js'
import type { ConfigOverrides } from '../../src/config.js'
import { createLocalFederation, type LocalFederation } from '../../src/node/local-federation.js'
import { tempDir } from './tmp.js'

export interface TestFederation extends LocalFederation {
  running: Map<string, RunningNode>
  start(name: string, overrides?: ConfigOverrides): Promise<RunningNode>
  stop(name: string): Promise<void>
  node(name: string): RunningNode
  close(): Promise<void>
}

export async function testFederation(names: string[], syncIntervalMs = 500): Promise<TestFederation> {
  const dir = tempDir('hashmesh-fed-')
  const fed = await createLocalFederation(dir.path, names, { syncIntervalMs })
  const running = new Map<string, RunningNode>()
  const member = (name: string) => fed.members.find((m) => m.name === name)!
  return {
    ...fed,
    running,
    async start(name, overrides) {
      const r = await runNode(member(name).dataDir, { overrides })
      running.set(name, r)
      return r
    },
    async stop(name) {
      await running.get(name)?.stop()
      running.delete(name)
    },
    node(name) {
      const r = running.get(name)
      if (!r) throw new Error(`${name} is not running`)
      return r
    },
    async close() {
      for (const r of running.values()) await r.stop().catch(() => undefined)
      running.clear()
      dir.cleanup()
    },
  }
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000, everyMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, everyMs))
  }
}

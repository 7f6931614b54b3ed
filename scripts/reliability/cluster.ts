/**
 * Member nodes as separate `hashmesh start` processes (scripts/lib/devnet.ts) with what the reliability
 * suite needs on top: kill -9, restarts counted as crashes when they fail, unexpected exits noticed,
 * per-node bootstrap lists (partitions), reading each store after its node stopped (proof sets, chain
 * checks), and the member signing key from a data directory.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createDevnet, type Devnet, type DevnetMember } from '../lib/devnet.js'
import { NODE_CONFIG_FILE } from '../../src/config.js'
import { Signer } from '../../src/record/crypto.js'
import { loadIdentity } from '../../src/node/identity.js'
import { HashmeshNode } from '../../src/node/node.js'
import { api, status, type ApiTarget, type NodeStatus, type ProofView, type ScenarioContext } from './common.js'

export interface ClusterOptions {
  names: string[]
  syncIntervalMs?: number
  logLevel?: string
  /** Extra config merged into every node's config.json. */
  config?: Record<string, unknown>
}

export class Cluster {
  /** Unexpected exits and failed (re)starts, with the tail of the node's log. */
  readonly crashes: Array<{ name: string; what: string; log: string }> = []
  private readonly expectingExit = new Set<string>()

  private constructor(readonly devnet: Devnet) {}

  static async create(ctx: ScenarioContext, options: ClusterOptions): Promise<Cluster> {
    const devnet = await createDevnet({ names: options.names, syncIntervalMs: options.syncIntervalMs ?? 2000, logLevel: options.logLevel ?? 'warn', config: options.config })
    const cluster = new Cluster(devnet)
    ctx.onCleanup(() => cluster.close())
    return cluster
  }

  member(name: string): DevnetMember {
    return this.devnet.member(name)
  }

  get names(): string[] {
    return this.devnet.members.map((m) => m.name)
  }

  target(name: string): ApiTarget {
    return this.member(name)
  }

  isRunning(name: string): boolean {
    return this.member(name).process !== undefined
  }

  /** Starts the node and watches for it dying without being told to. A failed start counts as a crash. */
  async start(name: string): Promise<boolean> {
    const m = this.member(name)
    try {
      await this.devnet.start(name)
    } catch (err) {
      m.process?.kill('SIGKILL')
      m.process = undefined
      this.crashes.push({ name, what: `start failed: ${(err as Error).message.slice(0, 300)}`, log: tail(m) })
      return false
    }
    const child = m.process!
    this.expectingExit.delete(name)
    child.once('exit', (code, signal) => {
      if (this.expectingExit.has(name)) return
      if (m.process === child) m.process = undefined
      this.crashes.push({ name, what: `exited unexpectedly (code ${code}, signal ${signal})`, log: tail(m) })
    })
    return true
  }

  /** kill -9, and wait until the process is gone. */
  async kill9(name: string): Promise<void> {
    const m = this.member(name)
    const child = m.process
    if (!child) return
    this.expectingExit.add(name)
    m.process = undefined
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGKILL')
    await exited
  }

  /** SIGTERM (clean stop). */
  async stop(name: string): Promise<void> {
    this.expectingExit.add(name)
    await this.devnet.stop(name)
  }

  async stopAll(): Promise<void> {
    for (const name of this.names) this.expectingExit.add(name)
    await this.devnet.stopAll()
  }

  async close(): Promise<void> {
    for (const name of this.names) this.expectingExit.add(name)
    await this.devnet.close()
  }

  status(name: string): Promise<NodeStatus> {
    return status(this.target(name))
  }

  /** Head of `feed` on a running node (seq 0 when it has none). */
  async head(name: string, feed: string): Promise<{ seq: number; id: string | null }> {
    const { feeds } = await api<{ feeds: Array<{ feed: string; seq: number; id: string }> }>(this.target(name), 'GET', '/v1/feeds', undefined, 5_000)
    const h = feeds.find((f) => f.feed === feed)
    return h ? { seq: h.seq, id: h.id } : { seq: 0, id: null }
  }

  /** Replaces the node's bootstrap list in its config.json (takes effect at its next start). */
  setBootstrap(name: string, peers: string[]): void {
    const path = join(this.member(name).dataDir, NODE_CONFIG_FILE)
    const config = JSON.parse(readFileSync(path, 'utf8')) as { p2p: Record<string, unknown> }
    config.p2p.bootstrap = peers.map((p) => this.member(p).multiaddr)
    writeFileSync(path, JSON.stringify(config, null, 2) + '\n')
  }

  /** The member's signing key, read from its data directory (as its operator's tools would). */
  signerOf(name: string): Signer {
    return new Signer(loadIdentity(this.member(name).dataDir).memberKeyPair)
  }

  peerIdOf(name: string): string {
    return this.member(name).identity.peerId
  }

  memberKeyOf(name: string): string {
    return this.member(name).identity.memberKey
  }
}

function tail(m: DevnetMember): string {
  return m.log.join('').slice(-1500)
}

export interface StoreCheck {
  /** Feeds whose stored chain is broken (missing seq, wrong prev, head id mismatch, unreadable record). */
  problems: string[]
  /** Records missing below a head (seq without a record). */
  missing: number
  records: number
  heads: Array<{ feed: string; seq: number; id: string; equivocating: boolean }>
  proofs: ProofView[]
}

/**
 * Opens a stopped node's store and checks every feed's chain: each seq from 1 to the head is present,
 * decodes, carries that seq and the previous record's id as prev, and the last one is the head; the
 * record count equals the sum of the heads. Also reads the equivocation proofs.
 */
export async function checkStore(dataDir: string, options: { chains?: boolean } = {}): Promise<StoreCheck> {
  const node = await HashmeshNode.open(dataDir)
  const problems: string[] = []
  let missing = 0
  try {
    const status = node.status() as unknown as { records: number; heads: Array<{ feed: string; seq: number; id: string; equivocating: boolean }> }
    const heads = status.heads.map((h) => ({ feed: h.feed, seq: h.seq, id: h.id, equivocating: h.equivocating }))
    if (options.chains !== false) {
      for (const head of heads) {
        let prev: string | null = null
        let seq = 0
        for (let from = 1; from <= head.seq; from += 1000) {
          const want = Math.min(1000, head.seq - from + 1)
          let batch
          try {
            batch = await node.feedRecords(head.feed, from, want)
          } catch (err) {
            problems.push(`${head.feed.slice(0, 8)} seq ${from}..: unreadable (${(err as Error).message})`)
            break
          }
          for (const { record } of batch) {
            seq++
            if (record.seq !== seq || record.prev !== prev) {
              problems.push(`${head.feed.slice(0, 8)} seq ${seq}: found seq ${record.seq}, prev ${record.prev?.slice(0, 8)} (expected ${prev?.slice(0, 8)})`)
              if (problems.length > 20) break
            }
            prev = record.id
          }
          if (batch.length < want) {
            missing += want - batch.length
            problems.push(`${head.feed.slice(0, 8)}: ${want - batch.length} records missing in seq ${from}..${from + want - 1}`)
            break
          }
        }
        if (seq === head.seq && prev !== head.id) problems.push(`${head.feed.slice(0, 8)}: last record ${prev?.slice(0, 8)} is not the head ${head.id.slice(0, 8)}`)
      }
      const sum = heads.reduce((n, h) => n + h.seq, 0)
      // (a forked feed may hold records of the other branch too: counted, not in the head)
      if (status.records !== sum && !heads.some((h) => h.equivocating)) problems.push(`record count ${status.records} != sum of heads ${sum}`)
    }
    const proofs: ProofView[] = (await node.equivocations()).map((p) => ({ feed: p.feed, seq: p.seq, ids: [...p.ids].sort() as [string, string] }))
    return { problems, missing, records: status.records, heads, proofs }
  } finally {
    await node.close()
  }
}

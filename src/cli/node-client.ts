/**
 * What CLI commands need from a node. LevelDB allows one process: if a node is running on the data
 * directory, commands talk to it over its HTTP API (RemoteClient); otherwise they open the store directly.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fail, isHashmeshError } from '../errors.js'
import { fromHex } from '../record/crypto.js'
import type { OpinionBody, RevokeReason } from '../record/types.js'
import { HashmeshNode, type ContributionResult } from '../node/node.js'
import { FILES, readApiToken } from '../node/identity.js'
import { recordView, type RecordView } from '../node/views.js'
import type { ContributionInput } from '../node/contribute.js'
import type { FeedHead, ReceiveResult } from '../sync/types.js'
import { RemoteClient } from './remote-client.js'

export interface NodeClient {
  readonly mode: 'local' | 'remote'
  status(): Promise<Record<string, unknown>>
  contribute(input: ContributionInput): Promise<ContributionResult>
  revoke(id: string, options: { signal?: number; reason: RevokeReason }): Promise<RecordView>
  opinion(body: OpinionBody): Promise<RecordView>
  feeds(): Promise<FeedHead[]>
  feedRecords(feed: string, fromSeq: number, limit: number): Promise<RecordView[]>
  getRecord(id: string): Promise<RecordView>
  importRecords(bytesHex: string[]): Promise<ReceiveResult[]>
  match(request: Record<string, unknown>): Promise<unknown>
  matchBytes(bytes: Uint8Array, query: Record<string, string>): Promise<unknown>
  close(): Promise<void>
}

export class LocalClient implements NodeClient {
  readonly mode = 'local'
  constructor(readonly node: HashmeshNode) {}
  async status() { return this.node.status() }
  contribute(input: ContributionInput) { return this.node.contribute(input) }
  async revoke(id: string, options: { signal?: number; reason: RevokeReason }) {
    const record = await this.node.revoke(id, options)
    return recordView(await this.node.getRecord(record.id))
  }
  async opinion(body: OpinionBody) {
    const record = await this.node.opinion(body)
    return recordView(await this.node.getRecord(record.id))
  }
  async feeds() { return this.node.store.feedHeads() }
  async feedRecords(feed: string, fromSeq: number, limit: number) { return (await this.node.feedRecords(feed, fromSeq, limit)).map(recordView) }
  async getRecord(id: string) { return recordView(await this.node.getRecord(id)) }
  importRecords(bytesHex: string[]) {
    return this.node.receive(bytesHex.map((h) => (typeof h === 'string' && /^[0-9a-f]*$/i.test(h) && h.length % 2 === 0 ? fromHex(h, h.length / 2, 'record bytes') : new Uint8Array(0))))
  }
  async match(): Promise<unknown> {
    fail('NODE_UNREACHABLE', 'matching needs a running node: start one with "hashmesh start --data DIR"')
  }
  async matchBytes(): Promise<unknown> {
    fail('NODE_UNREACHABLE', 'matching needs a running node: start one with "hashmesh start --data DIR"')
  }
  close() { return this.node.close() }
}

export interface RunningNodeInfo { pid: number; apiUrl: string }

export function readRunningNode(dataDir: string): RunningNodeInfo | undefined {
  const path = join(resolve(dataDir), FILES.running)
  if (!existsSync(path)) return undefined
  try {
    const info = JSON.parse(readFileSync(path, 'utf8')) as RunningNodeInfo
    process.kill(info.pid, 0)
    return info
  } catch {
    return undefined
  }
}

/** Opens the data directory directly, or connects to the node that holds it. */
export async function openClient(dataDir: string, options: { preferRemote?: boolean } = {}): Promise<NodeClient> {
  const running = readRunningNode(dataDir)
  if (running && options.preferRemote) return new RemoteClient(running.apiUrl, readApiToken(dataDir))
  try {
    return new LocalClient(await HashmeshNode.open(dataDir))
  } catch (err) {
    if (!isHashmeshError(err, 'STORE_LOCKED')) throw err
    if (!running) fail('STORE_LOCKED', `${err.message}; no running node answers for ${dataDir} (is ${FILES.running} missing?)`)
    return new RemoteClient(running.apiUrl, readApiToken(dataDir))
  }
}

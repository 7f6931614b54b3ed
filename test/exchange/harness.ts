/** A real node (LevelDB in a temp dir) with its exchange manager (loopback allowed: test only) and banks. */
import { createHash } from 'node:crypto'
import { initDataDir } from '../../src/node/identity.js'
import { HashmeshNode } from '../../src/node/node.js'
import { BanksService } from '../../src/node/banks-service.js'
import { exchangesOf } from '../../src/node/exchanges.js'
import type { ExchangeManager } from '../../src/exchange/manager.js'
import { tempDir } from '../helpers/tmp.js'

export interface ExchangeHarness {
  node: HashmeshNode
  exchanges: ExchangeManager
  banks: BanksService
  dataDir: string
  logs: string[]
  /** The bank's signals as "type:value", sorted. */
  bankSignals(bank: string): Promise<string[]>
  close(): Promise<void>
}

/** `timerMs`: the scheduler's shortest wait; by default an hour, so only fetchNow runs fetches. */
export async function openExchangeHarness(options: { name?: string; timerMs?: number } = {}): Promise<ExchangeHarness> {
  const dir = tempDir('hashmesh-exchange-')
  await initDataDir(dir.path, { name: options.name ?? 'exchange-test-member' })
  const node = await HashmeshNode.open(dir.path, { env: {} })
  const exchanges = exchangesOf(node, { allowLoopbackForTests: true, minTimerMs: options.timerMs ?? 3_600_000 })
  const banks = new BanksService(node)
  const logs: string[] = []
  await exchanges.start((level, event, fields) => logs.push(JSON.stringify({ level, event, ...fields })))
  return {
    node, exchanges, banks, dataDir: dir.path, logs,
    async bankSignals(bank) {
      const contents = await Promise.all((await banks.listBanks()).filter((b) => b.name === bank).map(async () => (await banks.loaded).listContent(bank)))
      return (contents[0] ?? []).flatMap((c) => Object.entries(c.signals).map(([t, v]) => `${t}:${v}`)).sort()
    },
    close: async () => {
      await exchanges.stop()
      await node.close()
      dir.cleanup()
    },
  }
}

/** PDQ hashes far apart (about 128 bits), and MD5s. */
export const pdq = (i: number): string => createHash('sha256').update(`exchange pdq ${i}`).digest('hex')
export const md5 = (i: number): string => createHash('md5').update(`exchange md5 ${i}`).digest('hex')

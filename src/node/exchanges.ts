/**
 * A node's exchanges (docs/exchanges.md): the ExchangeManager (exchange/manager.ts) wired to this node's
 * banks (BanksService: the same BankStore the lookups use), its data directory (credentials), the
 * SSRF-safe HTTP client (exchange-http.ts) and the federation (its members' feeds). The manager is attached
 * to the node (HashmeshNode.attach): its scheduler starts with the node and stops with it.
 */
import { isHashmeshError } from '../errors.js'
import { memberBankName } from '../bank/types.js'
import { ExchangeManager } from '../exchange/manager.js'
import type { BankPort } from '../exchange/runner.js'
import type { FederationPort, FederationRecord } from '../exchange/types.js'
import { BanksService } from './banks-service.js'
import { createExchangeHttp, type ExchangeHttpOptions } from './exchange-http.js'
import type { HashmeshNode } from './node.js'

const managers = new WeakMap<HashmeshNode, ExchangeManager>()

export interface ExchangesOptions extends ExchangeHttpOptions {
  /** Shortest wait of the scheduler's timer (ms); tests lower it. */
  minTimerMs?: number
}

/** The node's exchange manager, made (and attached to the node) on first use. */
export function exchangesOf(node: HashmeshNode, options: ExchangesOptions = {}): ExchangeManager {
  let manager = managers.get(node)
  if (manager) return manager
  const banks = new BanksService(node)
  manager = new ExchangeManager({
    kv: node.bankStorage(),
    dataDir: node.identity.dataDir,
    banks: bankPort(banks),
    http: createExchangeHttp(options),
    federation: federationPort(node),
    bankExists: async (name) => {
      try {
        await banks.getBank(name)
        return true
      } catch (err) {
        if (isHashmeshError(err, 'NOT_FOUND')) return false
        throw err
      }
    },
    minTimerMs: options.minTimerMs,
  })
  managers.set(node, manager)
  const attached = manager
  node.attach({ start: (log) => attached.start(log), stop: () => attached.stop() })
  return manager
}

function bankPort(banks: BanksService): BankPort {
  return {
    async ensureBank(name) {
      try {
        await banks.getBank(name)
        return false
      } catch (err) {
        if (!isHashmeshError(err, 'NOT_FOUND')) throw err
        await banks.createBank({ name, kind: 'local' })
        return true
      }
    },
    // A local or negative bank takes a batch in one atomic store write (BankStore.addContents); a shared one
    // goes through BanksService item by item, which signs each into this member's feed.
    async addMany(bank, signals) {
      const inputs = signals.map((signal) => ({ signals: { [signal.type]: signal.value }, note: signal.note ?? null, metadata: signal.sourceId ? { content_id: signal.sourceId } : undefined }))
      const store = await banks.loaded
      if (store.getBank(bank)?.kind !== 'shared') return (await store.addContents(bank, inputs)).map((c) => c.id)
      const ids: number[] = []
      for (const input of inputs) ids.push((await banks.addContent(bank, input)).id)
      return ids
    },
    // Likewise: a local bank drops a batch in one write; a shared one item by item (each revoked in the feed).
    async removeMany(bank, contentIds) {
      const store = await banks.loaded
      if (store.getBank(bank)?.kind !== 'shared') return void (await store.deleteContents(bank, contentIds))
      for (const id of contentIds) await banks.deleteContent(bank, id)
    },
    deleteBank: (name) => banks.deleteBank(name),
  }
}

function federationPort(node: HashmeshNode): FederationPort {
  return {
    resolveMember(nameOrKey) {
      const wanted = nameOrKey.trim()
      for (const { feed } of node.feedHeads()) {
        const name = node.memberName(feed)
        if (feed === wanted.toLowerCase() || name?.toLowerCase() === wanted.toLowerCase() || memberBankName(name, feed) === wanted) return feed
      }
      return undefined
    },
    async readFeed(feed, fromSeq, limit) {
      return (await node.feedRecords(feed, fromSeq, limit)).map(({ record }): FederationRecord => {
        if (record.kind === 'signals') return { seq: record.seq, id: record.id, kind: 'signals', signals: record.body.signals.map((s) => ({ type: s.type, value: s.value })), labels: record.body.labels }
        if (record.kind === 'revoke') return { seq: record.seq, id: record.id, kind: 'revoke', target: record.body.target, ...(record.body.signal !== undefined ? { signal: record.body.signal } : {}) }
        return { seq: record.seq, id: record.id, kind: 'other' }
      })
    },
    async recordSignals(id) {
      try {
        const { record } = await node.getRecord(id)
        return record.kind === 'signals' ? record.body.signals.map((s) => ({ type: s.type, value: s.value })) : []
      } catch (err) {
        if (isHashmeshError(err, 'NOT_FOUND')) return undefined
        throw err
      }
    },
  }
}

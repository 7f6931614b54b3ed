/**
 * One fetch of one exchange: the adapter's updates applied to its bank. A delta page is applied and its
 * checkpoint saved before the next page is asked for (an interrupted fetch resumes there); a snapshot is
 * read whole, added as it streams, and only once it has all arrived are the signals the previous fetch had
 * and this one lacks removed from the bank (a failed or garbage fetch never empties a bank).
 * Within one delta page deletions are applied before additions.
 */
import { fail } from '../errors.js'
import type { ExchangeStore } from './exchange-store.js'
import { EXCHANGE_LIMITS, signalKey, type Checkpoint, type ExchangeAdapter, type ExchangeSignal, type ExchangeStatus, type FetchContext } from './types.js'

/** What the runner needs of the banks (node/exchanges.ts implements it over the node's BanksService). */
export interface BankPort {
  /** Makes the bank when it is not there; true when it had to (the item table is then stale). */
  ensureBank(name: string): Promise<boolean>
  /** Adds signals as bank content (one item each, in one write where the bank allows); their content ids, in order. */
  addMany(bank: string, signals: ExchangeSignal[]): Promise<number[]>
  /** Removes bank content (in one write where the bank allows). */
  removeMany(bank: string, contentIds: number[]): Promise<void>
  deleteBank(name: string): Promise<void>
}

export interface RunOutcome {
  result: 'succeeded' | 'unchanged'
  counts: ExchangeStatus['counts']
  checkpoint: Checkpoint | null
  signals: number
}

const ITEM_BATCH = 1000

export async function runFetch(
  adapter: ExchangeAdapter,
  context: FetchContext,
  store: ExchangeStore,
  banks: BankPort,
  saveCheckpoint: (checkpoint: Checkpoint, counts: ExchangeStatus['counts'], signals: number) => Promise<void>,
  previousSignals = 0,
): Promise<RunOutcome> {
  const name = context.config.name
  // A bank deleted by hand (or renamed) is made anew, empty: what the item table says it held is gone.
  if (await banks.ensureBank(name)) await store.clearItems(name)
  // The item table is read only when the source sends something: a 304 costs no scan of it.
  let items: Map<string, number> | undefined
  const loadItems = async () => (items ??= await store.items(name))
  const counts = { added: 0, removed: 0, unchanged: 0, skipped: 0, pages: 0 }
  let checkpoint = context.checkpoint
  let unchanged = true

  // New signals are queued and written ITEM_BATCH at a time (bank content and item table, each one batch).
  const queued = new Map<string, ExchangeSignal>()
  const flush = async (items: Map<string, number>) => {
    if (queued.size === 0) return
    const keys = [...queued.keys()]
    const ids = await banks.addMany(name, [...queued.values()])
    queued.clear()
    const added = keys.map((key, i): [string, number] => [key, ids[i]!])
    for (const [key, id] of added) items.set(key, id)
    await store.writeItems(name, added, [])
    counts.added += added.length
  }
  // Signals gone from the source leave the bank and the item table ITEM_BATCH at a time (one write each).
  const removeItems = async (items: Map<string, number>, keys: string[]) => {
    for (let from = 0; from < keys.length; from += ITEM_BATCH) {
      const chunk = keys.slice(from, from + ITEM_BATCH)
      await banks.removeMany(name, chunk.map((key) => items.get(key)!))
      for (const key of chunk) items.delete(key)
      await store.writeItems(name, [], chunk)
      counts.removed += chunk.length
    }
  }
  const add = async (items: Map<string, number>, signal: ExchangeSignal) => {
    const key = signalKey(signal)
    if (items.has(key) || queued.has(key)) {
      counts.unchanged++
      return
    }
    queued.set(key, signal)
    if (queued.size >= ITEM_BATCH) await flush(items)
  }

  for await (const update of adapter.fetch(context)) {
    context.signal.throwIfAborted()
    counts.pages++
    if (update.kind === 'unchanged') {
      checkpoint = update.checkpoint
      continue
    }
    unchanged = false
    const items = await loadItems()
    if (update.kind === 'delta') {
      const removed = new Set<string>()
      for (const d of update.deletes) {
        const key = signalKey(d)
        if (items.has(key)) removed.add(key)
      }
      await removeItems(items, [...removed])
      for (const signal of update.upserts) await add(items, signal)
      await flush(items)
      counts.skipped += update.skipped ?? 0
      checkpoint = update.checkpoint
      await saveCheckpoint(checkpoint, counts, items.size)
      continue
    }
    // snapshot
    const seen = new Set<string>()
    for await (const signal of update.signals) {
      context.signal.throwIfAborted()
      const key = signalKey(signal)
      if (seen.has(key)) continue
      seen.add(key)
      if (seen.size > EXCHANGE_LIMITS.maxSnapshotSignals) fail('EXCHANGE_PAYLOAD', `the list has more than ${EXCHANGE_LIMITS.maxSnapshotSignals} signals`)
      await add(items, signal)
    }
    await flush(items)
    await removeItems(items, [...items.keys()].filter((key) => !seen.has(key)))
    counts.skipped += update.skipped?.() ?? 0
    checkpoint = update.checkpoint()
    await saveCheckpoint(checkpoint, counts, items.size)
  }
  return { result: unchanged ? 'unchanged' : 'succeeded', counts, checkpoint, signals: items?.size ?? previousSignals }
}

/**
 * Exchange configs, their state (checkpoint and status) and the signals each put in its bank, in the
 * replica's key-value store beside the banks (bank/bank-store.ts):
 *
 *   xchg!cfg!<NAME>                    -> ExchangeConfig JSON
 *   xchg!state!<NAME>                  -> ExchangeStatus JSON (checkpoint included)
 *   xchg!item!<NAME>!<type>:<value>    -> bank content id (JSON number)
 *
 * The item table is what a fetch diffs against (the previous fetch's signals) and how a deletion finds the
 * bank content to remove.
 */
import type { BatchOp, KeyValueStore } from '../store/level-db.js'
import type { ExchangeConfig, ExchangeStatus } from './types.js'

const CFG = 'xchg!cfg!'
const STATE = 'xchg!state!'
const ITEM = 'xchg!item!'
const json = (value: unknown): Uint8Array => Buffer.from(JSON.stringify(value))
const parse = <T>(bytes: Uint8Array): T => JSON.parse(Buffer.from(bytes).toString('utf8')) as T
const range = (prefix: string) => ({ gte: prefix, lt: prefix + '\xff' })

export class ExchangeStore {
  constructor(private readonly kv: KeyValueStore) {}

  async configs(): Promise<ExchangeConfig[]> {
    const out: ExchangeConfig[] = []
    for await (const [, value] of this.kv.entries(range(CFG))) out.push(parse<ExchangeConfig>(value))
    return out
  }

  async putConfig(config: ExchangeConfig): Promise<void> {
    await this.kv.batch([{ type: 'put', key: CFG + config.name, value: json(config) }])
  }

  async status(name: string): Promise<ExchangeStatus | undefined> {
    const bytes = await this.kv.get(STATE + name)
    return bytes ? parse<ExchangeStatus>(bytes) : undefined
  }

  async putStatus(status: ExchangeStatus): Promise<void> {
    await this.kv.batch([{ type: 'put', key: STATE + status.name, value: json(status) }])
  }

  /** The signals the exchange put in its bank: `type:value` -> content id. */
  async items(name: string): Promise<Map<string, number>> {
    const prefix = `${ITEM}${name}!`
    const out = new Map<string, number>()
    for await (const [key, value] of this.kv.entries(range(prefix))) out.set(key.slice(prefix.length), parse<number>(value))
    return out
  }

  /** Records added (`key` -> content id) and removed items in one batch. */
  async writeItems(name: string, added: Array<[string, number]>, removed: string[]): Promise<void> {
    const ops: BatchOp[] = [
      ...added.map(([key, id]): BatchOp => ({ type: 'put', key: `${ITEM}${name}!${key}`, value: json(id) })),
      ...removed.map((key): BatchOp => ({ type: 'del', key: `${ITEM}${name}!${key}` })),
    ]
    if (ops.length > 0) await this.kv.batch(ops)
  }

  async clearItems(name: string): Promise<void> {
    const ops: BatchOp[] = []
    for await (const key of this.kv.keys(range(`${ITEM}${name}!`))) ops.push({ type: 'del', key })
    if (ops.length > 0) await this.kv.batch(ops)
  }

  /** Forgets the exchange: config, state and item table. */
  async remove(name: string): Promise<void> {
    const ops: BatchOp[] = [{ type: 'del', key: CFG + name }, { type: 'del', key: STATE + name }]
    for await (const key of this.kv.keys(range(`${ITEM}${name}!`))) ops.push({ type: 'del', key })
    await this.kv.batch(ops)
  }
}

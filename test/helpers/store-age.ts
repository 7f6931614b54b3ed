/** A LevelDB replica rewritten as an older hashmesh left it, for tests of what a node does with such a store. */
import type { KeyValueStore } from '../../src/store/level-db.js'
import { COUNTS_KEY, prefixRange } from '../../src/store/keys.js'

/**
 * Drops the records' PDQ values (pdq!<id>) but the first `keep`, and sets meta!counts' pdqColumns to
 * `pdqColumns` (undefined: no such field, as before it existed). Returns how many PDQ values the store held.
 */
export async function asOlderStore(kv: KeyValueStore, options: { keep?: number; pdqColumns?: number } = {}): Promise<number> {
  const { pdqColumns: _was, ...counts } = JSON.parse(Buffer.from((await kv.get(COUNTS_KEY))!).toString('utf8')) as Record<string, unknown>
  const keys: string[] = []
  for await (const key of kv.keys(prefixRange('pdq!'))) keys.push(key)
  const rewritten = options.pdqColumns === undefined ? counts : { ...counts, pdqColumns: options.pdqColumns }
  await kv.batch([
    ...keys.slice(options.keep ?? 0).map((key) => ({ type: 'del' as const, key })),
    { type: 'put', key: COUNTS_KEY, value: Buffer.from(JSON.stringify(rewritten)) },
  ])
  return keys.length
}

/**
 * One contract, two implementations: every case runs against LevelDB (level-db.ts) and against the
 * in-memory store (memory-kv.ts), so tests built on the memory store see what a node sees on disk.
 */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { WHOLE_SCAN, openLevel, type BatchOp, type KeyRange, type KeyValueStore } from '../../src/store/level-db.js'
import { MemoryKeyValueStore } from '../../src/store/memory-kv.js'
import { prefixRange } from '../../src/store/keys.js'
import { tempDir } from '../helpers/tmp.js'

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)
const text = (value: Uint8Array | undefined): string | undefined => (value === undefined ? undefined : new TextDecoder().decode(value))
const put = (key: string, value = key): BatchOp => ({ type: 'put', key, value: bytes(value) })
const isCode = (code: string) => (err: unknown) => (err as { code?: string }).code === code

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of items) out.push(item)
  return out
}

const dirs: Array<{ cleanup(): void }> = []
after(() => dirs.forEach((d) => d.cleanup()))

const implementations: Array<[string, () => Promise<KeyValueStore>]> = [
  ['LevelDB', () => {
    const dir = tempDir('hashmesh-kv-')
    dirs.push(dir)
    return openLevel(dir.path)
  }],
  ['memory', async () => new MemoryKeyValueStore()],
]

/** Keys whose UTF-8 byte order differs from JavaScript's string order (U+FFFF vs a surrogate pair). */
const ORDERED_KEYS = ['', '!', 'a', 'a!', 'a!b', 'ab', 'b', 'z', '\u00e9', '\u4e2d', '\uffff', '\u{1f600}']

for (const [name, open] of implementations) {
  describe(`KeyValueStore contract: ${name}`, () => {
    async function withKv(fn: (kv: KeyValueStore) => Promise<void>): Promise<void> {
      const kv = await open()
      try {
        await fn(kv)
      } finally {
        await kv.close()
      }
    }

    it('gets what a batch put, undefined for what is missing; getMany keeps the order asked', () =>
      withKv(async (kv) => {
        assert.equal(await kv.get('missing'), undefined)
        await kv.batch([put('k1', 'one'), put('k2', 'two')])
        assert.equal(text(await kv.get('k1')), 'one')
        assert.deepEqual((await kv.getMany(['k2', 'nope', 'k1'])).map(text), ['two', undefined, 'one'])
        assert.deepEqual(await kv.getMany([]), [])
        const value = await kv.get('k1')
        assert.ok(value instanceof Uint8Array)
      }))

    it('applies a batch in order: the last op on a key wins', () =>
      withKv(async (kv) => {
        await kv.batch([put('a', 'old'), put('b'), put('c')])
        await kv.batch([
          put('a', 'new'),
          { type: 'del', key: 'b' },
          put('b', 'back'),
          put('d'),
          { type: 'del', key: 'd' },
          { type: 'del', key: 'c' },
          { type: 'del', key: 'never-there' },
        ])
        assert.deepEqual((await kv.getMany(['a', 'b', 'c', 'd'])).map(text), ['new', 'back', undefined, undefined])
        assert.deepEqual(await collect(kv.keys({})), ['a', 'b'])
        await kv.batch([])
        assert.deepEqual(await collect(kv.keys({})), ['a', 'b'])
      }))

    it('a batch with a bad op writes nothing (INTERNAL)', () =>
      withKv(async (kv) => {
        const bad = { type: 'put', key: 'y', value: undefined } as unknown as BatchOp
        await assert.rejects(kv.batch([put('x'), bad]), isCode('INTERNAL'))
        assert.equal(await kv.get('x'), undefined)
        assert.deepEqual(await collect(kv.keys({})), [])
      }))

    it('keeps keys in UTF-8 byte order', () =>
      withKv(async (kv) => {
        await kv.batch([...ORDERED_KEYS].reverse().map((key) => put(key)))
        assert.deepEqual(await collect(kv.keys({})), ORDERED_KEYS)
        const entries = await collect(kv.entries({ reverse: true }))
        assert.deepEqual(entries.map(([key]) => key), [...ORDERED_KEYS].reverse())
        assert.deepEqual(entries.map(([, value]) => text(value)), [...ORDERED_KEYS].reverse())
        // keyBatches: the same keys in the same order, in arrays of up to the size asked
        const batches = await collect(kv.keyBatches({}, 5))
        assert.deepEqual(batches.map((b) => b.length), [5, 5, 2])
        assert.deepEqual(batches.flat(), ORDERED_KEYS)
        assert.deepEqual(await collect(kv.keyBatches({ gt: 'a', lt: 'b' }, 100)), [['a!', 'a!b', 'ab']])
        assert.deepEqual(await collect(kv.keyBatches({ gt: 'zz', lt: '\u00e8' }, 100)), [])
      }))

    it('ranges: gte/gt, lte/lt, limit, reverse', () =>
      withKv(async (kv) => {
        const keys = ['k0', 'k1', 'k2', 'k3', 'k4', 'k5']
        await kv.batch(keys.map((key) => put(key)))
        const cases: Array<[KeyRange, string[]]> = [
          [{ gte: 'k1', lt: 'k4' }, ['k1', 'k2', 'k3']],
          [{ gt: 'k1', lte: 'k4' }, ['k2', 'k3', 'k4']],
          [{ gt: 'k1', gte: 'k1', lt: 'k3', lte: 'k3' }, ['k1', 'k2', 'k3']], // gte and lte win
          [{ gte: 'k0a', lt: 'k2a' }, ['k1', 'k2']], // bounds need not be keys
          [{ gte: 'k2' }, ['k2', 'k3', 'k4', 'k5']],
          [{ lt: 'k2' }, ['k0', 'k1']],
          [{ gte: 'k4', lt: 'k1' }, []],
          [{ gt: 'k2', lt: 'k3' }, []],
          [{ gte: 'k1', limit: 2 }, ['k1', 'k2']],
          [{ limit: 0 }, []],
          [{ limit: -1 }, keys],
          [{ limit: 2.5 }, keys],
          [{ limit: 10 }, keys],
          [{ reverse: true }, [...keys].reverse()],
          [{ gte: 'k1', lt: 'k5', reverse: true, limit: 2 }, ['k4', 'k3']],
          [{ gt: 'k1', lte: 'k5', reverse: true }, ['k5', 'k4', 'k3', 'k2']],
          [{ gte: undefined, lt: 'k2' }, ['k0', 'k1']], // an undefined bound is no bound
          [{ gte: 'zz' }, []],
        ]
        for (const [range, expected] of cases) {
          assert.deepEqual(await collect(kv.keys(range)), expected, `keys ${JSON.stringify(range)}`)
          assert.deepEqual((await collect(kv.entries(range))).map(([key, value]) => [key, text(value)]), expected.map((k) => [k, k]), `entries ${JSON.stringify(range)}`)
        }
      }))

    it('prefix ranges take exactly the keys of one table', () =>
      withKv(async (kv) => {
        const keys = ['sif!x', 'sig!', 'sig!a!1', 'sig!b!2', 'sig!~', 'sig"', 'sigh']
        await kv.batch(keys.map((key) => put(key)))
        assert.deepEqual(await collect(kv.keys(prefixRange('sig!'))), ['sig!', 'sig!a!1', 'sig!b!2', 'sig!~'])
        assert.deepEqual(await collect(kv.keys(prefixRange('sig!a!'))), ['sig!a!1'])
        assert.deepEqual(await collect(kv.keys(prefixRange('nope!'))), [])
      }))

    it('an iterator sees the store as it was when it was made', () =>
      withKv(async (kv) => {
        await kv.batch([put('a'), put('b'), put('c')])
        const entries = kv.entries({})
        const keys = kv.keys({})
        await kv.batch([put('aa'), { type: 'del', key: 'c' }, put('b', 'changed')])
        assert.deepEqual((await collect(entries)).map(([key, value]) => [key, text(value)]), [['a', 'a'], ['b', 'b'], ['c', 'c']])
        assert.deepEqual(await collect(keys), ['a', 'b', 'c'])
        // writes made while iterating are not seen either; leaving early is fine
        const seen: string[] = []
        for await (const key of kv.keys({})) {
          if (key === 'a') await kv.batch([put('ab')])
          seen.push(key)
          if (key === 'aa') break
        }
        assert.deepEqual(seen, ['a', 'aa'])
        assert.deepEqual(await collect(kv.keys({})), ['a', 'aa', 'ab', 'b'])
      }))

    it('a scan read ahead (WHOLE_SCAN) gives what a plain one gives, each value whole, in a snapshot', () =>
      withKv(async (kv) => {
        // values of 32 KB (a PDQ column) and more than WHOLE_SCAN's read-ahead in all, with their own bytes
        const big = (i: number): Uint8Array => new Uint8Array(32_000 + i).fill(i)
        await kv.batch(Array.from({ length: 40 }, (_, i) => ({ type: 'put' as const, key: `pdq!${String(i).padStart(3, '0')}`, value: big(i) })))
        const ahead = kv.entries(prefixRange('pdq!'), WHOLE_SCAN)
        await kv.batch([{ type: 'del', key: 'pdq!000' }])
        const read = await collect(ahead)
        assert.equal(read.length, 40)
        read.forEach(([key, value], i) => {
          assert.equal(key, `pdq!${String(i).padStart(3, '0')}`)
          assert.equal(value.length, 32_000 + i)
          assert.ok(value.every((b) => b === i), `value ${i} whole`)
        })
        assert.deepEqual((await collect(kv.entries(prefixRange('pdq!'), WHOLE_SCAN))).map(([key]) => key), (await collect(kv.entries(prefixRange('pdq!')))).map(([key]) => key))
      }))

    it('values are copies: changing bytes given or returned does not change the store', () =>
      withKv(async (kv) => {
        const value = bytes('abc')
        await kv.batch([{ type: 'put', key: 'k', value }])
        value[0] = 0x7a
        const got = (await kv.get('k'))!
        assert.equal(text(got), 'abc')
        got[0] = 0x7a
        const [many] = await kv.getMany(['k'])
        many![1] = 0x7a
        for await (const [, v] of kv.entries({})) v[2] = 0x7a
        assert.equal(text(await kv.get('k')), 'abc')
        // a Buffer's slice() is a view, not a copy: still copied
        const buffer = Buffer.from('xyz')
        await kv.batch([{ type: 'put', key: 'b', value: buffer }])
        buffer.fill(0x30)
        assert.equal(text(await kv.get('b')), 'xyz')
      }))

    it('a closed store rejects every call with STORE_CLOSED; closing twice is fine', async () => {
      const kv = await open()
      await kv.batch([put('a'), put('b')])
      const open1 = kv.keys({})[Symbol.asyncIterator]()
      assert.deepEqual(await open1.next(), { done: false, value: 'a' })
      const open2 = kv.keyBatches({}, 1)[Symbol.asyncIterator]()
      assert.deepEqual(await open2.next(), { done: false, value: ['a'] })
      await kv.close()
      await kv.close()
      await assert.rejects(kv.get('a'), isCode('STORE_CLOSED'))
      await assert.rejects(kv.getMany(['a']), isCode('STORE_CLOSED'))
      await assert.rejects(kv.batch([put('c')]), isCode('STORE_CLOSED'))
      await assert.rejects(collect(kv.entries({})), isCode('STORE_CLOSED'))
      await assert.rejects(collect(kv.keys({})), isCode('STORE_CLOSED'))
      await assert.rejects(open1.next(), isCode('STORE_CLOSED'), 'an iterator open when the store closed')
      await assert.rejects(collect(kv.keyBatches({}, 2)), isCode('STORE_CLOSED'))
      await assert.rejects(open2.next(), isCode('STORE_CLOSED'), 'a batch iterator open when the store closed')
    })
  })
}

import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { readStateFile, threadpoolCopier, writeStateFile } from '../../src/match/state-file.js'

describe('state files (state-file.ts: a build\'s state between processes)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hashmesh-state-file-'))
  after(() => rmSync(dir, { recursive: true, force: true }))
  let n = 0
  const path = (): string => join(dir, `state-${++n}`)

  it('reads back what it wrote: numbers, Maps, small and large arrays of every kind, views that share a buffer', async () => {
    const big = new ArrayBuffer(256 * 1024)
    const words = new Uint32Array(big)
    for (let i = 0; i < words.length; i++) words[i] = (i * 2654435761) >>> 0
    const shared = new SharedArrayBuffer(128 * 1024)
    new Float64Array(shared).fill(0.5)
    const state = {
      count: 7, name: 'x', nothing: null, list: [1, 'two', [3]],
      frames: new Map([[3, [{ video: 'v', ms: 40, quality: 90 }]]]),
      small: Uint8Array.of(1, 2, 3),
      words,
      head: new Uint16Array(big, 8, 4), // a view into `words`' buffer
      tail: words.subarray(1000, 1010),
      floats: new Float64Array(shared, 64, 100),
      signed: new Int32Array(20_000).fill(-5),
      empty: new Uint32Array(0),
    }
    const file = path()
    await writeStateFile(file, state)
    assert.equal(statSync(file).mode & 0o777, 0o600)
    const back = await readStateFile<typeof state>(file)
    assert.deepEqual(back, state)
    for (const view of [back.words, back.head, back.tail, back.floats, back.signed]) assert.ok(view.buffer instanceof SharedArrayBuffer)
    assert.ok(back.small.buffer instanceof ArrayBuffer, 'small arrays stay in the serialized part')
    back.words[2] = 0xabcd1234 // still one buffer: the views that shared one see each other's writes
    assert.equal(back.head[0], 0x1234)
    assert.equal(back.head[1], 0xabcd)
    back.words[1005] = 42
    assert.equal(back.tail[5], 42)
  })

  it('refuses a file that is not a state file, or that ends early, with an error (no crash)', async () => {
    const file = path()
    writeFileSync(file, 'not a state file at all')
    await assert.rejects(readStateFile(file), /is not a state file/)
    const cut = path()
    await writeStateFile(cut, { words: new Uint32Array(100_000).fill(9) })
    truncateSync(cut, readFileSync(cut).length - 100)
    await assert.rejects(readStateFile(cut), /ends early/)
    await assert.rejects(readStateFile(join(dir, 'missing')), { code: 'ENOENT' })
  })

  it('writes only what the views cover of a larger buffer (a block that also holds replaced arrays)', async () => {
    const block = new SharedArrayBuffer(4 * 1024 * 1024)
    const used = new Uint32Array(block, 3 * 1024 * 1024 + 4, 100_000) // (not 8-byte aligned: kept so)
    used.fill(0xfeed)
    const other = new Float64Array(block, 1024 * 1024, 20_000).fill(1.25)
    const file = path()
    await writeStateFile(file, { used, other })
    const bytes = statSync(file).size
    assert.ok(bytes < 600 * 1024, `${bytes} bytes written for 560 KB of views in a 4 MB buffer`)
    const back = await readStateFile<{ used: Uint32Array; other: Float64Array }>(file)
    assert.deepEqual(back, { used, other })
    assert.equal(back.used.byteOffset % 4, 0)
    assert.equal(back.other.byteOffset % 8, 0)
  })

  it('a paced copier (a pause after each chunk) writes and reads the same files', async () => {
    const paced = threadpoolCopier({ rest: 1 })
    const shared = new Uint32Array(new SharedArrayBuffer(3 * 1024 * 1024 + 12)).map((_, i) => i)
    const plain = new Int16Array(300_000).fill(-7)
    const state = { shared, plain, tail: shared.subarray(10, 20) }
    const file = path()
    await writeStateFile(file, state, paced)
    assert.deepEqual(await readStateFile(file, paced), state)
    assert.deepEqual(await readStateFile(file), state, 'the same file as the unpaced copier reads')
    const cut = path()
    await writeStateFile(cut, state)
    truncateSync(cut, statSync(cut).size - 8)
    await assert.rejects(readStateFile(cut, paced), /ends early/)
  })

  it('does not overwrite a file that exists', async () => {
    const file = path()
    writeFileSync(file, 'kept')
    await assert.rejects(writeStateFile(file, { a: 1 }), { code: 'EEXIST' })
    assert.equal(readFileSync(file, 'utf8'), 'kept')
  })
})

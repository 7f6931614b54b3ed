import assert from 'node:assert/strict'
import { randomBytes, randomInt } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { isHashmeshError } from '../../src/errors.js'
import { ExactIndex } from '../../src/match/exact-index.js'
import { BUILD_DIR_PREFIX, SpareBuildProcess, buildInProcess, removeStaleBuildDirs } from '../../src/match/pdq-build-process.js'
import { PdqCatalog } from '../../src/match/pdq-catalog.js'
import { PdqIndex, hashToWords, sharedUint32Array, wordsToHash } from '../../src/match/pdq-index.js'
import { PdqSegment, WORDS_PER_HASH, type PdqMatch, type SlotStorage } from '../../src/match/pdq-segment.js'
import { readStateFile, writeStateFile } from '../../src/match/state-file.js'
import { runSteps } from '../../src/match/steps.js'

/** How many different hashes the packed arrays hold together. */
function distinctHashes(...packed: Uint32Array[]): number {
  const seen = new Set<string>()
  for (const words of packed) for (let at = 0; at < words.length; at += WORDS_PER_HASH) seen.add(words.subarray(at, at + WORDS_PER_HASH).join(','))
  return seen.size
}

/** n hashes: random ones plus near-duplicates (1..24 bits flipped) of earlier ones, 8 words each. */
function randomWords(n: number): Uint32Array {
  const words = new Uint32Array(n * WORDS_PER_HASH)
  const bytes = randomBytes(n * 32)
  for (let i = 0; i < n; i++) hashToWords(bytes.subarray(i * 32, i * 32 + 32), words, i * WORDS_PER_HASH)
  for (let i = 1; i < n; i += 3) {
    const from = randomInt(i)
    words.copyWithin(i * WORDS_PER_HASH, from * WORDS_PER_HASH, (from + 1) * WORDS_PER_HASH)
    for (let f = randomInt(1, 25); f > 0; f--) {
      const bit = randomInt(256)
      words[i * WORDS_PER_HASH + (bit >>> 5)]! ^= 1 << (bit & 31)
    }
  }
  return words
}

function ids(n: number, first = 0): Uint32Array {
  return Uint32Array.from({ length: n }, (_, i) => first + i * 7) // not dense: the id table is exercised
}

/** Queries: stored hashes with 0..31 bits flipped, plus random ones. */
function queries(words: Uint32Array, count: number): Uint8Array[] {
  const out: Uint8Array[] = []
  const n = words.length / WORDS_PER_HASH
  for (let q = 0; q < count; q++) {
    if (q % 4 === 3) {
      out.push(Uint8Array.from(randomBytes(32)))
      continue
    }
    const hash = wordsToHash(words, randomInt(n) * WORDS_PER_HASH)
    for (let f = randomInt(32); f > 0; f--) {
      const bit = randomInt(256)
      hash[bit >>> 3]! ^= 1 << (bit & 7)
    }
    out.push(hash)
  }
  return out
}

function results(index: PdqIndex, qs: Uint8Array[], threshold: number): PdqMatch[][] {
  return qs.map((q) => index.search(q, threshold).map((m) => ({ ...m })))
}

describe('stepped (async) PDQ index builds', () => {
  it('a segment built in small steps answers exactly as the one-shot build', () => {
    const n = 20_000
    const hashWords = randomWords(n)
    const removed = new Uint8Array(n)
    for (let i = 0; i < n; i += 11) removed[i] = 1
    const storage: SlotStorage = { hashWords, slotIds: Uint32Array.from({ length: n }, (_, i) => i), removed }
    const whole = PdqSegment.build(storage, 0, n)
    const stepped = runSteps(PdqSegment.buildSteps(storage, 0, n, 777))
    assert.equal(stepped.entries, whole.entries)
    assert.equal(stepped.memoryBytes(), whole.memoryBytes())
    let hits = 0
    for (const threshold of [0, 16, 31, 48]) {
      for (const q of queries(hashWords, 150)) {
        const words = hashToWords(q)
        const a: PdqMatch[] = []
        const b: PdqMatch[] = []
        whole.search(storage, words, threshold, a)
        stepped.search(storage, words, threshold, b)
        assert.deepEqual(b, a)
        hits += a.length
      }
    }
    assert.ok(hits > 100, `the queries find something (${hits})`)
  })

  it('addManyAsync gives the same index as addMany, into an empty index and onto a non-empty one', async () => {
    for (const [before, bulk] of [[0, 40_000], [3000, 30_000], [30_000, 5000]] as const) {
      const firstWords = randomWords(before)
      const bulkWords = randomWords(bulk)
      const firstIds = ids(before)
      const bulkIds = ids(bulk, 5) // some ids collide with the first ones: replaced hashes (tombstones)
      const sync = new PdqIndex()
      const async = new PdqIndex()
      for (const index of [sync, async]) if (before > 0) index.addMany({ ids: firstIds, hashes: firstWords })
      sync.addMany({ ids: bulkIds, hashes: bulkWords })
      await async.addManyAsync({ ids: bulkIds, hashes: bulkWords }, 0)
      assert.deepEqual(async.stats(), sync.stats())
      assert.equal(async.size, sync.size)
      assert.equal(async.memoryBytes(), sync.memoryBytes())
      const all = new Uint32Array(before * WORDS_PER_HASH + bulk * WORDS_PER_HASH)
      all.set(firstWords)
      all.set(bulkWords, firstWords.length)
      const qs = queries(all, 200)
      for (const threshold of [0, 31]) assert.deepEqual(results(async, qs, threshold), results(sync, qs, threshold))
      for (const id of [...firstIds.subarray(0, 50), ...bulkIds.subarray(-50)]) assert.deepEqual(async.hashOf(id), sync.hashOf(id))
      // and both keep working the same after the build
      sync.add(999_999, qs[0]!)
      async.add(999_999, qs[0]!)
      assert.deepEqual(async.search(qs[0]!, 31), sync.search(qs[0]!, 31))
    }
  })

  it('smaller steps than the default build the same index too', () => {
    const n = 25_000
    const words = randomWords(n)
    const sync = new PdqIndex()
    const stepped = new PdqIndex()
    sync.add(1, wordsToHash(words, 0))
    stepped.add(1, wordsToHash(words, 0))
    sync.addMany({ ids: ids(n, 3), hashes: words })
    runSteps(stepped.addManySteps({ ids: ids(n, 3), hashes: words }, 1000))
    assert.deepEqual(stepped.stats(), sync.stats())
    const qs = queries(words, 200)
    assert.deepEqual(results(stepped, qs, 31), results(sync, qs, 31))
  })

  it('lets the event loop turn while it builds, and refuses every other use of the index meanwhile', async () => {
    const n = 60_000
    const words = randomWords(n)
    const index = new PdqIndex()
    let turns = 0
    const ticker = setInterval(() => turns++, 0)
    const building = index.addManyAsync({ ids: ids(n), hashes: words }, 1)
    await new Promise((resolve) => setImmediate(resolve))
    const hash = wordsToHash(words, 0)
    assert.throws(() => index.add(1, hash), /being built/)
    assert.throws(() => index.addMany({ ids: ids(1), hashes: words.subarray(0, 8) }), /being built/)
    assert.throws(() => index.remove(0), /being built/)
    assert.throws(() => index.search(hash), /being built/)
    await assert.rejects(index.addManyAsync({ ids: ids(1), hashes: words.subarray(0, 8) }), /being built/)
    await building
    clearInterval(ticker)
    assert.ok(turns >= 3, `timers ran during the build (${turns})`)
    assert.equal(index.size, n)
    assert.deepEqual(index.search(hash, 0)[0], { entryId: 0, distance: 0 })
  })

  it('rejects bad bulk input with its error code and stays usable', async () => {
    const index = new PdqIndex()
    await assert.rejects(index.addManyAsync({ ids: [1, 2] as unknown as Uint32Array, hashes: new Uint32Array(16) }), (err) => isHashmeshError(err, 'BAD_REQUEST'))
    await assert.rejects(index.addManyAsync({ ids: new Uint32Array(2), hashes: new Uint32Array(15) }), (err) => isHashmeshError(err, 'HASH_INVALID'))
    index.add(3, new Uint8Array(32))
    assert.equal(index.size, 1)
  })
})

describe('PdqCatalog.addSignalsAsync and the exact index growing in steps', () => {
  it('gives the same catalog as addSignals, duplicates and bad hex included', async () => {
    const words = randomWords(30_000)
    const hexes: string[] = []
    for (let i = 0; i < 30_000; i++) hexes.push(Buffer.from(wordsToHash(words, i * WORDS_PER_HASH)).toString('hex'))
    for (let i = 0; i < 500; i++) hexes.push(hexes[randomInt(hexes.length)]!) // duplicates
    const sync = new PdqCatalog()
    const async = new PdqCatalog()
    for (const c of [sync, async]) c.addSignals(hexes.slice(0, 2000)) // a non-empty catalog grows
    sync.addSignals(hexes.slice(2000))
    const buffered = Buffer.from(randomBytes(32)).toString('hex')
    const done = async.addSignalsAsync(hexes.slice(2000), 0)
    async.addSignal(buffered) // arrives during the build: buffered, flushed after it
    async.flush()
    assert.equal(async.buffered, 1)
    await done
    assert.equal(async.buffered, 0)
    sync.addSignal(buffered)
    assert.equal(async.size, sync.size)
    for (const q of [...queries(words, 200), Buffer.from(buffered, 'hex')]) assert.deepEqual(async.search(q, 31), sync.search(q, 31))
    const bad = new PdqCatalog()
    await assert.rejects(bad.addSignalsAsync([hexes[0]!, 'zz']), (err) => isHashmeshError(err, 'HASH_INVALID'))
  })

  it('ExactIndex.reserveSteps keeps every entry findable and later adds work', () => {
    const index = new ExactIndex({ digestBytes: 32 })
    const values = Array.from({ length: 5000 }, () => Uint8Array.from(randomBytes(32)))
    values.forEach((v, i) => index.add(i, v))
    runSteps(index.reserveSteps(50_000, 300))
    values.forEach((v, i) => assert.deepEqual(index.lookup(v), [i]))
    const more = Array.from({ length: 20_000 }, () => Uint8Array.from(randomBytes(32)))
    more.forEach((v, i) => index.add(5000 + i, v))
    assert.deepEqual(index.lookup(more[12_345]!), [17_345])
    assert.equal(index.remove(3), true)
    assert.deepEqual(index.lookup(values[3]!), [])
    assert.equal(index.size, 24_999)
  })
})

describe('PDQ catalog builds in a process of their own (pdq-build-process.ts)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hashmesh-build-test-'))
  after(() => rmSync(dir, { recursive: true, force: true }))
  const shared = (words: Uint32Array): Uint32Array => {
    const out = sharedUint32Array(words.length)
    out.set(words)
    return out
  }

  it('a PdqIndex lent and given back (through a state file, as the build process gets it) answers as before, and refuses use meanwhile', async () => {
    const words = randomWords(20_000)
    const index = new PdqIndex()
    index.addMany({ ids: ids(20_000), hashes: words })
    for (let id = 0; id < 3000; id += 2) index.remove(id * 7)
    index.addMany({ ids: ids(700, 1_000_000), hashes: randomWords(700) }) // a tail, a tombstone count
    const qs = queries(words, 100)
    const before = results(index, qs, 31)
    const stats = index.stats()
    const state = index.lend()
    assert.throws(() => index.search(qs[0]!), /being built/)
    assert.throws(() => index.has(7), /being built/)
    assert.throws(() => index.hashOf(7), /being built/)
    assert.equal(index.size, 20_000 - 1500 + 700, 'the size from before')
    await writeStateFile(join(dir, 'index'), state)
    const moved = await readStateFile<typeof state>(join(dir, 'index'))
    assert.ok(moved.storage.hashWords.buffer instanceof SharedArrayBuffer, 'read onto shared memory')
    index.restore(moved)
    assert.deepEqual(index.stats(), stats)
    assert.deepEqual(results(index, qs, 31), before)
    index.add(5, qs[0]!)
    assert.deepEqual(index.search(qs[0]!, 0)[0], { entryId: 5, distance: 0 })
    assert.throws(() => index.restore(moved), /without lend/)
  })

  it('builds the same catalog as the main thread, with bank content and changes during the builds', async () => {
    const fed = randomWords(30_000)
    const bank = randomWords(20_000)
    bank.set(fed.subarray(0, 500 * WORDS_PER_HASH)) // bank content holding federation hashes
    const contentIds = Uint32Array.from({ length: 20_000 }, (_, i) => i + 1)
    contentIds[19_999] = 7 // re-added content: its hash changes
    const late = Array.from({ length: 3 }, () => Buffer.from(randomBytes(32)).toString('hex'))
    const hex = (i: number): string => Buffer.from(wordsToHash(fed, i * WORDS_PER_HASH)).toString('hex')
    const build = async (catalog: PdqCatalog): Promise<void> => {
      catalog.addSignals([hex(29_999), late[0]!]) // not empty before: the build process gets a catalog to grow
      const signals = catalog.addSignalWordsAsync(shared(fed), 0)
      const banks = catalog.addBankContentWordsAsync(shared(contentIds), shared(bank), 0)
      catalog.addSignal(late[1]!) // buffered until the builds are done
      catalog.removeSignal(hex(1)) // deferred: a bank-only entry then, still found through the bank
      catalog.removeSignal(hex(600)) // gone altogether
      catalog.addFrame(late[2]!, { video: 'v1', ms: 40, quality: 90 })
      await Promise.all([signals, banks])
      catalog.removeBankContent(3)
      catalog.addBankContentWords(Uint32Array.of(30_000), hashToWords(Buffer.from(late[1]!, 'hex')))
    }
    const here = new PdqCatalog({ processBuildMin: Infinity })
    const elsewhere = new PdqCatalog({ processBuildMin: 1 })
    let lends = 0
    const lend = elsewhere.lend.bind(elsewhere)
    elsewhere.lend = () => (lends++, lend())
    await build(here)
    let lent = false
    const building = build(elsewhere)
    while (!lent) {
      try {
        elsewhere.bankContentWith(new Uint8Array(32))
      } catch (err) {
        lent = /being built in its build process/.test(String(err))
      }
      await new Promise((resolve) => setTimeout(resolve, 1))
    }
    assert.throws(() => elsewhere.search(new Uint8Array(32), 31), /being built/)
    await building
    // the bank build, queued while the signals' build ran, ran in the same process on the catalog it held: one
    // lend, and the changes made meanwhile applied after both (here, between them: the same content, its index
    // laid out a little differently)
    assert.equal(lends, 1)
    assert.equal(elsewhere.size, here.size)
    assert.equal(elsewhere.bankSize, here.bankSize)
    assert.ok(Math.abs(elsewhere.memoryBytes() - here.memoryBytes()) < here.memoryBytes() * 0.05, `${elsewhere.memoryBytes()} against ${here.memoryBytes()} bytes`)
    const all = new Uint32Array(fed.length + bank.length)
    all.set(fed)
    all.set(bank, fed.length)
    let hits = 0
    for (const q of [...queries(all, 300), ...late.map((h) => Buffer.from(h, 'hex'))]) {
      // (entry ids aside: the adds made during the builds got theirs after both builds there, between them here)
      const withoutIds = (matches: ReturnType<PdqCatalog['search']>) => matches.map(({ entryId: _, ...rest }) => rest).sort((a, b) => a.distance - b.distance || a.hex.localeCompare(b.hex))
      const expected = here.search(q, 31)
      assert.deepEqual(withoutIds(elsewhere.search(q, 31)), withoutIds(expected))
      hits += expected.length
    }
    assert.ok(hits > 200, `the queries find something (${hits})`)
    assert.deepEqual(elsewhere.search(wordsToHash(fed, WORDS_PER_HASH), 0).map((m) => [m.isSignal, m.bank]), [[false, [2]]])
    assert.deepEqual(elsewhere.search(wordsToHash(fed, 600 * WORDS_PER_HASH), 0), [])
    assert.deepEqual(elsewhere.search(Buffer.from(late[2]!, 'hex'), 0).map((m) => m.frames), [[{ video: 'v1', ms: 40, quality: 90 }]])
    assert.deepEqual(elsewhere.bankContentWith(wordsToHash(bank, 19_999 * WORDS_PER_HASH)), [7])
    assert.deepEqual(elsewhere.bankContentWith(Buffer.from(late[1]!, 'hex')), [30_000])
  })

  it('refuses states that do not fit, and reports a build that fails in the build process, the state given back', async () => {
    const index = new PdqIndex()
    const state = index.toState()
    assert.throws(() => new PdqIndex().adopt({ ...state, capacity: state.capacity + 1 }), RangeError)
    assert.throws(() => new PdqIndex().adopt({ ...state, slotById: { buckets: new Uint32Array(24), count: 0 } }), /not a slot hash table/)
    const exact = new ExactIndex({ digestBytes: 32 }).toState()
    assert.throws(() => ExactIndex.fromState({ ...exact, used: exact.capacity + 1 }), RangeError)
    const catalog = new PdqCatalog()
    assert.throws(() => catalog.restore(catalog.toState()), /without lend/)
    const lent = catalog.lend()
    assert.throws(() => catalog.lend(), /lent already/)
    assert.throws(() => catalog.bankContentWith(new Uint8Array(32)), /being built in its build process/)
    catalog.restore(lent)
    assert.deepEqual(catalog.bankContentWith(new Uint8Array(32)), [])
    // a state the build process cannot take: its error comes back as INTERNAL, and the lender gets its state back
    const nonsense = { nonsense: true }
    const restored: unknown[] = []
    const broken = { lend: () => nonsense, restore: (state: unknown) => void restored.push(state) }
    await assert.rejects(buildInProcess(broken, { kind: 'signals', packed: sharedUint32Array(8) }, new SpareBuildProcess('normal')), (err) => isHashmeshError(err, 'INTERNAL') && /failed in its build process/.test(err.message))
    assert.deepEqual(restored, [nonsense])
    assert.equal(restored[0], nonsense, 'the very state it lent')
  })

  it('a held spare process runs every build until released, then ends; without a hold each build has its own', async () => {
    const spare = new SpareBuildProcess('idle')
    const catalog = new PdqCatalog({ processBuildMin: 1 })
    const job = (words: Uint32Array) => ({ kind: 'signals' as const, packed: shared(words) })
    await spare.settled() // (no process yet: at once)
    const release = spare.hold()
    const pid = spare.pid
    assert.equal(typeof pid, 'number')
    await spare.settled() // the process has loaded its modules (node.prepareStart waits for this before the API listens)
    assert.equal(spare.pid, pid)
    spare.hold()() // a second hold, released at once: the first still holds it
    const first = randomWords(20_000)
    assert.equal(await buildInProcess(catalog, job(first), spare), true)
    assert.equal(spare.pid, pid)
    // the large arrays come back on shared memory (no external-memory collection on adopting them)
    const { index, entries } = catalog.toState()
    for (const big of [index.storage.hashWords, index.slotById.buckets, entries.valueWords, entries.byValue.buckets]) assert.ok(big.buffer instanceof SharedArrayBuffer)
    const mainBuilt = new PdqCatalog({ processBuildMin: Infinity })
    await mainBuilt.addSignalWordsAsync(shared(first), 0)
    assert.equal(mainBuilt.toState().index.storage.hashWords.buffer instanceof SharedArrayBuffer, false)
    const more = randomWords(200)
    const second = buildInProcess(catalog, job(more), spare)
    assert.equal(spare.take(), undefined) // the build has it
    assert.equal(await second, true)
    assert.equal(spare.pid, pid)
    assert.equal(catalog.size, distinctHashes(first, more)) // (randomWords' near-duplicates can repeat a hash)
    assert.equal(catalog.search(wordsToHash(first, 7 * WORDS_PER_HASH), 0).length, 1)
    await release()
    await release() // (twice: no effect)
    assert.equal(spare.pid, undefined)
    assert.throws(() => process.kill(pid!, 0), /ESRCH/, 'the process has exited when its release resolves')
    const last = randomWords(100)
    assert.equal(await buildInProcess(catalog, job(last), spare), true) // a process of its own
    assert.equal(spare.pid, undefined)
    assert.equal(catalog.size, distinctHashes(first, more, last))
    // the catalog holds one when a build of that size is to come, and not for a small one
    const node = new PdqCatalog({ processBuildMin: 1000 })
    node.holdBuildProcess(999)()
    const held = node.holdBuildProcess(1000)
    const thousand = randomWords(1000)
    await node.addSignalWordsAsync(shared(thousand), 0)
    assert.equal(node.size, distinctHashes(thousand))
    held()
  })

  it('a spare process that died while idle is not given a build: the build runs in a process of its own', { timeout: 60_000 }, async () => {
    const spare = new SpareBuildProcess('idle')
    const release = spare.hold()
    const started = spare.take()!
    await started.ready
    started.child.kill('SIGKILL') // (as a process that crashed between builds)
    await started.exited
    spare.giveBack(false)
    assert.equal(spare.pid, undefined)
    const catalog = new PdqCatalog({ processBuildMin: 1 })
    const words = randomWords(500)
    assert.equal(await buildInProcess(catalog, { kind: 'signals', packed: shared(words) }, spare), true)
    assert.equal(catalog.size, distinctHashes(words))
    await release()
  })

  it('a build process killed during a build: the catalog gets its state back and builds on the main thread, the queued job too', { timeout: 120_000 }, async () => {
    const catalog = new PdqCatalog({ processBuildMin: 1 })
    const before = randomWords(1000)
    await catalog.addSignalWordsAsync(shared(before), 0) // (in a process of its own: the catalog is not empty when lent)
    const release = catalog.holdBuildProcess(1)
    await catalog.buildProcessSettled()
    const warnings: string[] = []
    const onWarning = (warning: Error): number => warnings.push(warning.message)
    process.on('warning', onWarning)
    try {
      const words = randomWords(300_000)
      const bank = randomWords(2000)
      const building = catalog.addSignalWordsAsync(shared(words), 0)
      const banked = catalog.addBankContentWordsAsync(shared(Uint32Array.from({ length: 2000 }, (_, i) => i + 1)), shared(bank), 0) // (queued for the same process)
      let killed = false
      while (!killed) {
        try {
          catalog.bankContentWith(new Uint8Array(32))
        } catch {
          // lent: the build process has it
          const pid = readdirSync('/proc').map(Number).find((p) => p > 0 && p !== process.pid && isBuildChild(p))
          if (pid !== undefined) (process.kill(pid, 'SIGKILL'), (killed = true))
        }
        await new Promise((resolve) => setTimeout(resolve, 1))
      }
      await Promise.all([building, banked])
      await new Promise((resolve) => setImmediate(resolve)) // ('warning' is emitted on the next tick)
      assert.deepEqual(catalog.bankContentWith(wordsToHash(bank, 1999 * WORDS_PER_HASH)), [2000], 'the queued job, built here too')
      assert.ok(warnings.some((w) => /build process failed, building on the main thread: the build process (exited \(SIGKILL\)|could not be reached \()/.test(w)), warnings.join('; '))
      assert.equal(catalog.size, distinctHashes(before, words, bank))
      assert.equal(catalog.search(wordsToHash(before, 5 * WORDS_PER_HASH), 0).length, 1, 'what it held before it was lent')
      assert.equal(catalog.search(wordsToHash(words, 299_998 * WORDS_PER_HASH), 0).length, 1)
    } finally {
      process.off('warning', onWarning)
      await release()
    }
  })

  /** TMPDIR set to `path` while `run` runs. */
  async function withTmpdir<T>(path: string, run: () => Promise<T>): Promise<T> {
    const tmp = process.env.TMPDIR
    process.env.TMPDIR = path
    try {
      return await run()
    } finally {
      if (tmp === undefined) delete process.env.TMPDIR
      else process.env.TMPDIR = tmp
    }
  }

  /**
   * Runs `run` with `catalog`'s build process started, and TMPDIR under a file (nothing can make it a
   * directory): its files have no room. `run` gets the process warnings emitted meanwhile.
   */
  async function withoutRoomForFiles(catalog: PdqCatalog, file: string, run: (warnings: string[]) => Promise<void>): Promise<void> {
    const warnings: string[] = []
    const onWarning = (warning: Error): number => warnings.push(warning.message)
    const release = catalog.holdBuildProcess(1) // (started first: it runs, its files have no room)
    await catalog.buildProcessSettled()
    writeFileSync(join(dir, file), '')
    process.on('warning', onWarning)
    try {
      await withTmpdir(join(dir, file, 'tmp'), () => run(warnings))
    } finally {
      process.off('warning', onWarning)
      await release()
    }
  }

  it('without a writable temporary directory the build runs on the main thread, with a warning that says so', async () => {
    const catalog = new PdqCatalog({ processBuildMin: 1 })
    await withoutRoomForFiles(catalog, 'a-file', async (warnings) => {
      const words = randomWords(2000)
      await catalog.addSignalWordsAsync(shared(words), 0)
      await new Promise((resolve) => setImmediate(resolve))
      assert.equal(catalog.size, distinctHashes(words))
      assert.ok(warnings.some((w) => /no room for the PDQ index build's files .*ENOTDIR.*building on the main thread: set TMPDIR/.test(w)), warnings.join('; '))
    })
  })

  it('tells a fallback to the listener the node gives (its log), not as a process warning', async () => {
    const told: string[] = []
    const catalog = new PdqCatalog({ processBuildMin: 1 })
    catalog.onBuildWarning((message) => told.push(message))
    await withoutRoomForFiles(catalog, 'another-file', async (warnings) => {
      const words = randomWords(1000)
      await catalog.addSignalWordsAsync(shared(words), 0)
      await new Promise((resolve) => setImmediate(resolve))
      assert.equal(catalog.size, distinctHashes(words))
      assert.equal(told.length, 1)
      assert.match(told[0]!, /no room for the PDQ index build's files .*building on the main thread/)
      assert.deepEqual(warnings, [])
    })
  })

  it('removes the build directories of nodes that have ended, and keeps those of running ones', async () => {
    const base = join(dir, 'tmp-dirs')
    const names = [`${BUILD_DIR_PREFIX}4194305-abc123`, `${BUILD_DIR_PREFIX}${process.pid}-def456`, 'someone-elses']
    for (const name of names) mkdirSync(join(base, name, 'inside'), { recursive: true })
    await withTmpdir(base, () => removeStaleBuildDirs())
    assert.deepEqual(readdirSync(base).sort(), names.slice(1).sort(), 'a process id above the kernel\'s limit has ended')
  })

  it('builds input that is not shared on the main thread (a caller may reuse it), readable meanwhile', async () => {
    const words = randomWords(5000)
    const catalog = new PdqCatalog({ processBuildMin: 1 })
    let done = false
    const building = catalog.addBankContentWordsAsync(Uint32Array.from({ length: 5000 }, (_, i) => i + 1), words, 0).then(() => (done = true))
    for (let reads = 0; !done; reads++) {
      catalog.bankContentWith(new Uint8Array(32)) // (a build in the build process would refuse this)
      await new Promise((resolve) => setTimeout(resolve, 1))
    }
    await building
    assert.deepEqual(catalog.bankContentWith(wordsToHash(words, 8 * WORDS_PER_HASH)), [9])
  })
})

/** Whether process `pid` is a PDQ build process that this test's process started. */
function isBuildChild(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
    return ppid === process.pid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('pdq-build-child')
  } catch {
    return false
  }
}

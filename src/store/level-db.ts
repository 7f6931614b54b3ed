/**
 * The only module that imports `level`. A thin wrapper so the rest of the store never sees its API.
 * KeyValueStore is the store's one storage shape; memory-kv.ts implements it without a disk (tests), and
 * test/store/key-value-contract.test.ts holds both to the same behaviour.
 */
import { Level } from 'level'
import { HashmeshError, fail } from '../errors.js'

export type BatchOp = { type: 'put'; key: string; value: Uint8Array } | { type: 'del'; key: string }

/**
 * Keys in [gte or gt, lte or lt], in UTF-8 byte order (reversed with `reverse`), at most `limit` of them
 * (a negative or non-integer limit is none). gte wins over gt and lte over lt when both are given; an
 * undefined bound is no bound.
 */
export interface KeyRange {
  gt?: string
  gte?: string
  lt?: string
  lte?: string
  limit?: number
  reverse?: boolean
}

/**
 * How entries() reads: `readAheadBytes`, how many bytes of keys and values one read from disk fetches at
 * most (LevelDB's default is 16 KiB, so each PDQ column of 32 KB was a read of its own). Each read is a job
 * on libuv's threadpool, which the main thread hands over through glibc's condition variable; at a thousand
 * reads a rebuild, that hand-over made the main thread sleep 3-8 ms at a time while /status waited (perf:
 * pthread_cond_signal waiting for a woken threadpool thread to get a CPU). For scans read whole, such as
 * a start-up's; not for one that stops early, which would read ahead for nothing.
 */
export interface ScanOptions {
  readAheadBytes?: number
}

/** A scan read whole at start-up (PDQ columns, bank chunks): 1 MiB a read, some 30 PDQ columns. */
export const WHOLE_SCAN: ScanOptions = { readAheadBytes: 2 ** 20 }

/**
 * Values are copied in and out (a caller never shares bytes with the store). A batch is atomic. An
 * iterator sees the store as it was when entries()/keys() was called. Every call on a closed store, and
 * every step of an iterator after its store closed, rejects with STORE_CLOSED.
 */
export interface KeyValueStore {
  get(key: string): Promise<Uint8Array | undefined>
  getMany(keys: string[]): Promise<(Uint8Array | undefined)[]>
  batch(ops: BatchOp[]): Promise<void>
  entries(range: KeyRange, options?: ScanOptions): AsyncIterable<[string, Uint8Array]>
  keys(range: KeyRange): AsyncIterable<string>
  /** keys() in arrays of up to `size` (a start-up reading a million keys: no promise and no result object per key). */
  keyBatches(range: KeyRange, size: number): AsyncIterable<string[]>
  close(): Promise<void>
}

export async function openLevel(path: string): Promise<KeyValueStore> {
  // A 16 MB write buffer (LevelDB's default is 4 MB): a 100,000-record import measured 20 % less CPU
  // (fewer, larger level-0 files to compact); 64 MB was slower again.
  const db = new Level<string, Uint8Array>(path, { keyEncoding: 'utf8', valueEncoding: 'view', writeBufferSize: 16 * 2 ** 20 })
  try {
    await db.open()
  } catch (cause) {
    const inner = (cause as { cause?: { code?: string } }).cause
    if (inner?.code === 'LEVEL_LOCKED') fail('STORE_LOCKED', `the store at ${path} is in use by another process (is a node running on it?)`, { cause })
    fail('STORE_CLOSED', `cannot open the store at ${path}: ${(cause as Error).message}`, { cause })
  }
  return {
    get: (key) => db.get(key).catch(rethrowAsStoreError),
    getMany: (keys) => db.getMany(keys).catch(rethrowAsStoreError),
    batch: (ops) => writeBatch(db, ops).catch(rethrowAsStoreError),
    entries: (range, options) => guardIterator(() => db.iterator({ ...definedBounds(range), ...readAhead(options) })),
    keys: (range) => guardIterator(() => db.keys(definedBounds(range))),
    keyBatches: (range, size) => keyBatches(db, range, size),
    close: () => db.close(),
  }
}

/** classic-level's option for ScanOptions.readAheadBytes (none: its default). */
function readAhead(options: ScanOptions | undefined): { highWaterMarkBytes?: number } {
  return options?.readAheadBytes === undefined ? {} : { highWaterMarkBytes: options.readAheadBytes }
}

/** level reads a bound that is present but undefined as the key "undefined"; here it is no bound. */
function definedBounds(range: KeyRange): KeyRange {
  const given = Object.entries(range)
  return given.every(([, value]) => value !== undefined) ? range : Object.fromEntries(given.filter(([, value]) => value !== undefined))
}

/** level's "not open" and "bad key/value" errors as the codes the rest of hashmesh tells apart. */
function rethrowAsStoreError(err: unknown): never {
  const code = (err as { code?: string } | undefined)?.code
  if (code === 'LEVEL_DATABASE_NOT_OPEN' || code === 'LEVEL_ITERATOR_NOT_OPEN') {
    throw new HashmeshError('STORE_CLOSED', 'the store is closed', { cause: err })
  }
  if (code === 'LEVEL_INVALID_KEY' || code === 'LEVEL_INVALID_VALUE') {
    throw new HashmeshError('INTERNAL', `bad key or value for the store: ${(err as Error).message}`, { cause: err })
  }
  throw err
}

/**
 * The iterator is opened now (its snapshot is taken at the call); errors of its steps are mapped. A thin
 * delegate rather than an async generator around it: a generator layer cost ~10 % more CPU per entry.
 */
function guardIterator<T>(open: () => AsyncIterable<T>): AsyncIterable<T> {
  let source: AsyncIterable<T> | undefined
  let openError: unknown
  try {
    source = open()
  } catch (err) {
    openError = err
  }
  return {
    [Symbol.asyncIterator](): AsyncIterator<T> {
      if (source === undefined) return { next: () => Promise.reject(openError).catch(rethrowAsStoreError) }
      const inner = source[Symbol.asyncIterator]()
      return {
        next: () => inner.next().catch(rethrowAsStoreError),
        return: (value?: unknown) => (inner.return ? inner.return(value).catch(rethrowAsStoreError) : Promise.resolve({ done: true, value: undefined })),
      }
    },
  }
}

async function* keyBatches(db: Level<string, Uint8Array>, range: KeyRange, size: number): AsyncIterable<string[]> {
  let iterator
  try {
    iterator = db.keys(definedBounds(range))
  } catch (err) {
    rethrowAsStoreError(err)
  }
  try {
    for (;;) {
      const keys = await iterator.nextv(size).catch(rethrowAsStoreError)
      if (keys.length === 0) return
      yield keys
    }
  } finally {
    await iterator.close().catch(safetyCatchClosed)
  }
}

/** (closing an iterator whose store closed first is not an error here: its step already said so) */
function safetyCatchClosed(err: unknown): void {
  const code = (err as { code?: string } | undefined)?.code
  if (code !== 'LEVEL_DATABASE_NOT_OPEN' && code !== 'LEVEL_ITERATOR_NOT_OPEN') throw err
}

/**
 * One atomic write through a chained batch: each op goes to LevelDB's native batch as it is added, which
 * took about half the main-thread time of the array form (that reads every op object from C++) for
 * 160,000 small puts here.
 */
async function writeBatch(db: Level<string, Uint8Array>, ops: BatchOp[]): Promise<void> {
  const batch = db.batch()
  try {
    for (const op of ops) {
      if (op.type === 'put') batch.put(op.key, op.value)
      else batch.del(op.key)
    }
  } catch (err) {
    await batch.close()
    throw err
  }
  await batch.write()
}

/**
 * A build's state (typed arrays, numbers, Maps and plain objects) in a file, to pass it to and from the
 * PDQ build process (pdq-build-process.ts), and read back with its large arrays on one SharedArrayBuffer.
 *
 * Why a file: two processes share no memory in node, and a pipe would be read on the main thread, in 64 KiB
 * pieces it then copies. A file is read by the threadpool straight into the arrays' final place: the main
 * thread only asks for each chunk. Why one SharedArrayBuffer: V8 counts an ArrayBuffer as its isolate's
 * external memory, and adopting ~0.5 GB of them made the main thread stop for full collections ("external
 * memory pressure", 10-25 ms) while it answered /status; a shared buffer is not counted per isolate.
 *
 * The layout: the magic, the lengths of two headers, the lengths of the stretches of large buffers that the
 * state's views cover (JSON), the state serialized by V8 with each large view written as (stretch, offset,
 * length, kind), then the stretches, each 8-byte aligned. Views that overlapped still overlap when read (a
 * view of a view stays one).
 */
import { read, write } from 'node:fs'
import { open } from 'node:fs/promises'
import { promisify } from 'node:util'
import { DefaultDeserializer, DefaultSerializer } from 'node:v8'

const MAGIC = Buffer.from('HMSTATE1')
/** magic, table length, skeleton length. */
const PREFIX_BYTES = MAGIC.length + 8
/** Views over buffers smaller than this stay inside the serialized state (a copy of their bytes). */
const PLACE_MIN_BYTES = 64 * 1024
/**
 * Who copies the large stretches between memory and an open file (`fd`): the threadpool, a chunk at a time
 * (threadpoolCopier). Each resolves once all is copied.
 */
export interface BulkCopier {
  /** Writes buffer[start, end) at `position`. */
  write(fd: number, buffer: ArrayBufferLike, start: number, end: number, position: number): Promise<void>
  /** Reads `length` bytes at `position` into block[at, at + length); rejects if the file ends first. */
  read(fd: number, block: SharedArrayBuffer, at: number, length: number, position: number): Promise<void>
}

const readAsync = promisify(read)
const writeAsync = promisify(write)

/**
 * A BulkCopier on the threadpool. `rest`: after each chunk, a pause of `rest` times the chunk's own time, so
 * that the copy takes at most 1 / (1 + rest) of a core: the PDQ build's files are copied so (pdq-build-process.ts)
 * while the main thread answers /status, on a machine whose other core the HTTP clients need.
 */
export function threadpoolCopier({ rest = 0 }: { rest?: number } = {}): BulkCopier {
  const paced = async <T>(chunk: () => Promise<T>): Promise<T> => {
    const from = performance.now()
    const result = await chunk()
    const pause = (performance.now() - from) * rest
    if (pause >= 1) await new Promise((resolve) => setTimeout(resolve, pause))
    return result
  }
  return {
    async write(fd, buffer, start, end, position) {
      for (let from = start; from < end; ) {
        const want = Math.min(STATE_CHUNK_BYTES, end - from)
        from += (await paced(() => writeAsync(fd, new Uint8Array(buffer, from, want), 0, want, position + from - start))).bytesWritten
      }
    },
    async read(fd, block, at, length, position) {
      for (let done = 0; done < length; ) {
        const want = Math.min(STATE_CHUNK_BYTES, length - done)
        const { bytesRead: got } = await paced(() => readAsync(fd, new Uint8Array(block, at + done, want), 0, want, position + done))
        if (got === 0) throw new RangeError('state file: it ends early')
        done += got
      }
    },
  }
}

const unpaced = threadpoolCopier()

/**
 * Each read or write is at most this much. Reading into fresh memory costs the kernel ~1.4 ms a MiB (page
 * faults, the copy), and this kernel does not preempt a thread in a system call: reads of 16 MiB kept a core
 * 20 ms at a time, and the main thread waited for it (answers of 15 ms while the built index was read back).
 */
export const STATE_CHUNK_BYTES = 1024 * 1024

/** Node's hooks for views (DefaultSerializer writes each view through them), not in its type declarations. */
interface ViewHooks {
  _writeHostObject(this: DefaultSerializer, view: ArrayBufferView): void
  _readHostObject(this: DefaultDeserializer): unknown
}
const serializerHooks = DefaultSerializer.prototype as unknown as ViewHooks
const deserializerHooks = DefaultDeserializer.prototype as unknown as ViewHooks

const INLINE = 0
const PLACED = 1

type ViewKind = new (buffer: ArrayBufferLike, byteOffset: number, length: number) => ArrayBufferView
const KINDS: readonly ViewKind[] = [
  Uint8Array, Int8Array, Uint16Array, Int16Array, Uint32Array, Int32Array, Float32Array, Float64Array, Uint8ClampedArray, BigInt64Array, BigUint64Array,
] as unknown as ViewKind[]

function align8(bytes: number): number {
  return Math.ceil(bytes / 8) * 8
}

/** A stretch of a buffer that views of the state cover (overlapping views share one). */
interface Range { buffer: ArrayBufferLike; start: number; end: number }

/**
 * The stretches of large buffers that the state's views cover, each once: only those are written. A buffer
 * may hold more than the state uses (read back as one block, the arrays a build replaced stay in it), and
 * writing it whole wrote that garbage too (685 MiB against 400 at 2 M hashes).
 */
class Ranges {
  readonly list: Range[] = []
  private readonly byBuffer = new Map<ArrayBufferLike, Range[]>()

  constructor(state: unknown) {
    const spans = new Map<ArrayBufferLike, [number, number][]>()
    const seen = new Set<object>()
    const walk = (value: unknown): void => {
      if (value === null || typeof value !== 'object' || seen.has(value)) return
      seen.add(value)
      if (ArrayBuffer.isView(value)) {
        if (value.buffer.byteLength < PLACE_MIN_BYTES) return
        const list = spans.get(value.buffer) ?? []
        // (from an 8-byte boundary: each view keeps its alignment in the block it is read into)
        list.push([value.byteOffset - (value.byteOffset % 8), value.byteOffset + value.byteLength])
        spans.set(value.buffer, list)
      } else if (value instanceof Map) for (const [key, entry] of value) (walk(key), walk(entry))
      else if (value instanceof Set) value.forEach(walk)
      else Object.values(value).forEach(walk)
    }
    walk(state)
    for (const [buffer, list] of spans) {
      list.sort((a, b) => a[0] - b[0])
      const merged: Range[] = []
      for (const [start, end] of list) {
        const last = merged.at(-1)
        if (last && start < last.end) last.end = Math.max(last.end, end)
        else merged.push({ buffer, start, end })
      }
      this.byBuffer.set(buffer, merged)
      this.list.push(...merged)
    }
  }

  /** The index of the range holding `view` (undefined: the view is small and travels inside the serialized state). */
  find(view: ArrayBufferView): number | undefined {
    const ranges = this.byBuffer.get(view.buffer)
    if (!ranges) return undefined
    const range = ranges.find((r) => r.start <= view.byteOffset && view.byteOffset + view.byteLength <= r.end)
    if (!range) throw new RangeError('state file: a view outside the ranges found') // (the walk above missed it)
    return this.list.indexOf(range)
  }
}

/** Writes the state with each large view as (range, offset in it, length, kind); the ranges follow it in the file. */
class PlacingSerializer extends DefaultSerializer {
  constructor(readonly ranges: Ranges) {
    super()
  }

  _writeHostObject(view: NodeJS.TypedArray | DataView): void {
    const kind = KINDS.findIndex((Kind) => view.constructor === Kind)
    const index = kind < 0 ? undefined : this.ranges.find(view)
    if (index === undefined) {
      this.writeUint32(INLINE)
      serializerHooks._writeHostObject.call(this, view)
      return
    }
    this.writeUint32(PLACED)
    this.writeUint32(index)
    this.writeDouble(view.byteOffset - this.ranges.list[index]!.start)
    this.writeDouble(view.byteLength / (view as NodeJS.TypedArray).BYTES_PER_ELEMENT)
    this.writeUint32(kind)
  }
}

/** Reads what PlacingSerializer wrote, its views over `block` at their stretches' places. */
class PlacingDeserializer extends DefaultDeserializer {
  constructor(bytes: Buffer, private readonly block: SharedArrayBuffer, private readonly places: readonly number[]) {
    super(bytes)
  }

  _readHostObject(): unknown {
    if (this.readUint32() === INLINE) return deserializerHooks._readHostObject.call(this)
    const place = this.places[this.readUint32()]
    const byteOffset = this.readDouble()
    const length = this.readDouble()
    const Kind = KINDS[this.readUint32()]
    if (place === undefined || Kind === undefined) throw new RangeError('state file: a view of an unknown stretch or kind')
    return new Kind(this.block, place + byteOffset, length)
  }
}

/** Writes `state` to a new file at `path` (mode 0600: a local bank's hashes never leave the node). */
export async function writeStateFile(path: string, state: unknown, copier: BulkCopier = unpaced): Promise<void> {
  const serializer = new PlacingSerializer(new Ranges(state))
  serializer.writeHeader()
  serializer.writeValue(state)
  const skeleton = serializer.releaseBuffer()
  const ranges = serializer.ranges.list
  const table = Buffer.from(JSON.stringify(ranges.map((range) => range.end - range.start)))
  const prefix = Buffer.alloc(PREFIX_BYTES)
  MAGIC.copy(prefix)
  prefix.writeUInt32LE(table.length, MAGIC.length)
  prefix.writeUInt32LE(skeleton.length, MAGIC.length + 4)
  const file = await open(path, 'wx', 0o600)
  try {
    let at = 0
    for (const part of [prefix, table, skeleton]) {
      await writeFully(file, part, at)
      at += part.length
    }
    const dataAt = align8(at)
    at = 0
    for (const { buffer, start, end } of ranges) {
      at = align8(at)
      await copier.write(file.fd, buffer, start, end, dataAt + at)
      at += end - start
    }
  } finally {
    await file.close()
  }
}

/** Reads a state written by writeStateFile: its large arrays on one SharedArrayBuffer, filled by `copier`. */
export async function readStateFile<T>(path: string, copier: BulkCopier = unpaced): Promise<T> {
  const file = await open(path, 'r')
  try {
    const prefix = Buffer.alloc(PREFIX_BYTES)
    await readFully(file, prefix, 0)
    if (!prefix.subarray(0, MAGIC.length).equals(MAGIC)) throw new RangeError(`${path} is not a state file`)
    const tableBytes = prefix.readUInt32LE(MAGIC.length)
    const skeletonBytes = prefix.readUInt32LE(MAGIC.length + 4)
    const headers = Buffer.alloc(tableBytes + skeletonBytes)
    await readFully(file, headers, PREFIX_BYTES)
    const lengths = JSON.parse(headers.subarray(0, tableBytes).toString('utf8')) as unknown
    if (!Array.isArray(lengths) || !lengths.every((n) => Number.isSafeInteger(n) && n >= 0)) throw new RangeError(`${path}: its buffer table is not a list of lengths`)
    const places: number[] = []
    let end = 0 // (the last buffer's end: the file has no padding after it)
    for (const length of lengths as number[]) {
      const at = align8(end)
      places.push(at)
      end = at + length
    }
    const block = new SharedArrayBuffer(end)
    const dataAt = align8(PREFIX_BYTES + tableBytes + skeletonBytes)
    await copier.read(file.fd, block, 0, end, dataAt)
    const deserializer = new PlacingDeserializer(headers.subarray(tableBytes), block, places)
    deserializer.readHeader()
    return deserializer.readValue() as T
  } finally {
    await file.close()
  }
}

type FileHandle = Awaited<ReturnType<typeof open>>

async function writeFully(file: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < bytes.length; ) done += (await file.write(bytes, done, bytes.length - done, position + done)).bytesWritten
}

async function readFully(file: FileHandle, into: Uint8Array, position: number): Promise<void> {
  for (let got = 0; got < into.length; ) {
    const { bytesRead } = await file.read(into, got, into.length - got, position + got)
    if (bytesRead === 0) throw new RangeError('state file: it ends early')
    got += bytesRead
  }
}

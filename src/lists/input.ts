/**
 * Opening a list: a path or a stream becomes a byte stream, gunzipped when it starts with gzip's magic,
 * refused when it is a zip (or another archive); its first bytes are kept for the format sniffer. Lines are
 * split with a bound: a line longer than the limit refuses the whole input as soon as that many bytes
 * have arrived without a newline, so a 1 GB line is never held (or even read) whole.
 */
import { createReadStream, statSync } from 'node:fs'
import { Readable } from 'node:stream'
import { createGunzip } from 'node:zlib'
import { fail } from '../errors.js'

/** Longest line of a line format (bytes). A hashmesh export line of a 1,000-signal record is ~100 KB. */
export const MAX_LINE_BYTES = 1 << 20
/** Bytes the sniffer looks at. */
export const SNIFF_BYTES = 64 * 1024

export interface OpenedInput {
  /** The (decompressed) bytes, from the start. */
  stream: Readable
  /** Up to SNIFF_BYTES of its start, as text. */
  head: string
  name: string
  gzip: boolean
}

/** Magic numbers of containers we do not read. */
const ARCHIVES: Array<{ magic: number[]; name: string }> = [
  { magic: [0x50, 0x4b, 0x03, 0x04], name: 'zip' },
  { magic: [0x50, 0x4b, 0x05, 0x06], name: 'zip (empty)' },
  { magic: [0x37, 0x7a, 0xbc, 0xaf], name: '7z' },
  { magic: [0x42, 0x5a, 0x68], name: 'bzip2' },
  { magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a], name: 'xz' },
  { magic: [0x28, 0xb5, 0x2f, 0xfd], name: 'zstd' },
  { magic: [0x52, 0x61, 0x72, 0x21], name: 'rar' },
]

function startsWith(bytes: Uint8Array, magic: number[]): boolean {
  return bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b)
}

/** Reads the first `size` bytes of a stream and gives back a stream of every byte, those included. */
async function peek(source: Readable, size: number): Promise<{ head: Buffer; stream: Readable }> {
  const iterator = source[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>
  const parts: Buffer[] = []
  let length = 0
  let done = false
  while (length < size) {
    const next = await iterator.next()
    if (next.done) {
      done = true
      break
    }
    const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value
    parts.push(chunk)
    length += chunk.length
  }
  const head = Buffer.concat(parts)
  async function* replay(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head
    if (done) return
    for (;;) {
      const next = await iterator.next()
      if (next.done) return
      yield typeof next.value === 'string' ? Buffer.from(next.value) : next.value
    }
  }
  return { head, stream: Readable.from(replay(), { objectMode: false }) }
}

/** Opens a path ('-' is stdin) or a stream; gunzips; refuses archives. */
export async function openInput(input: string | Readable, options: { name?: string } = {}): Promise<OpenedInput> {
  const name = options.name ?? (typeof input === 'string' ? (input === '-' ? 'stdin' : input) : 'input')
  if (typeof input === 'string' && input !== '-' && statSync(input).isDirectory()) fail('BAD_REQUEST', `${input} is a directory, not a list file`)
  // 64 KB reads: with 256 KB ones (each read, its join with a cut line, its decoded text and its lines), a
  // 1 M-line import's RSS rose 88-101 MB instead of 79-82, and no faster.
  const raw = typeof input === 'string' ? (input === '-' ? process.stdin : createReadStream(input, { highWaterMark: 64 * 1024 })) : input
  let { head, stream } = await peek(raw, SNIFF_BYTES)
  const archive = ARCHIVES.find((a) => startsWith(head, a.magic))
  if (archive) fail('BAD_REQUEST', `${name} is a ${archive.name} archive: unpack it and import the list inside (gzip is read as is)`, { details: { looksLike: archive.name } })
  const gzip = startsWith(head, [0x1f, 0x8b])
  if (gzip) {
    const gunzip = createGunzip()
    stream.on('error', (err) => gunzip.destroy(err))
    ;({ head, stream } = await peek(stream.pipe(gunzip), SNIFF_BYTES).catch((cause: unknown) => fail('BAD_REQUEST', `${name}: not a readable gzip file (${(cause as Error).message})`, { cause })))
    const inner = ARCHIVES.find((a) => startsWith(head, a.magic))
    if (inner) fail('BAD_REQUEST', `${name} holds a ${inner.name} archive inside gzip: unpack it first`, { details: { looksLike: inner.name } })
  }
  let text = head.toString('utf8')
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
  if (/[\u0000-\u0008\u000e-\u001a]/.test(text.slice(0, 4096))) {
    fail('BAD_REQUEST', `${name} is binary, not a text list`, { details: { looksLike: 'binary' } })
  }
  return { stream, head: text, name, gzip }
}

export interface Line { line: number; text: string }

const BOM = Buffer.from([0xef, 0xbb, 0xbf])

/** Consecutive lines of the input: `texts[i]` is line `first + i` (no line break, no CR). */
export interface LineBlock { first: number; texts: string[] }

/**
 * Lines of a byte stream (LF or CRLF; a UTF-8 BOM dropped), numbered from 1, blank ones included (readers
 * skip them, so line numbers stay those of the file), a block per chunk read: the chunk's complete lines are
 * decoded as one string and split there (one decode per chunk, not one per line; UTF-8 cannot hold a
 * newline byte inside a character, so the lines are the same). Refuses the input with PAYLOAD_TOO_LARGE as
 * soon as a line passes `maxLineBytes` without ending.
 */
export async function* boundedLineBlocks(stream: Readable, options: { maxLineBytes?: number; name?: string; signal?: AbortSignal } = {}): AsyncGenerator<LineBlock> {
  const max = options.maxLineBytes ?? MAX_LINE_BYTES
  let pending: Buffer | undefined
  let line = 0
  let first = true
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      options.signal?.throwIfAborted()
      const buffer = pending ? Buffer.concat([pending, chunk]) : chunk
      let start = 0
      if (first) {
        if (buffer.length < 3 && BOM.subarray(0, buffer.length).equals(buffer)) {
          pending = buffer // perhaps a BOM cut across chunks: wait for its end
          continue
        }
        first = false
        if (buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf) start = 3
      }
      const last = buffer.lastIndexOf(10)
      if (last >= start) {
        // Only a block longer than the limit can hold a line longer than it: then each line is measured.
        if (last - start > max) {
          let n = line
          for (let s = start, nl = buffer.indexOf(10, s); nl !== -1 && nl <= last; s = nl + 1, nl = buffer.indexOf(10, s)) {
            n++
            if ((nl > s && buffer[nl - 1] === 13 ? nl - 1 : nl) - s > max) tooLong(n, max, options.name)
          }
        }
        const texts = buffer.toString('utf8', start, last).split('\n')
        for (let i = 0; i < texts.length; i++) {
          const text = texts[i]!
          if (text.charCodeAt(text.length - 1) === 13) texts[i] = text.slice(0, -1)
        }
        const block = { first: line + 1, texts }
        line += texts.length
        start = last + 1
        pending = start < buffer.length ? buffer.subarray(start) : undefined
        if (pending && pending.length > max) tooLong(line + 1, max, options.name)
        yield block
        continue
      }
      pending = start < buffer.length ? buffer.subarray(start) : undefined
      if (pending && pending.length > max) tooLong(line + 1, max, options.name)
    }
  } finally {
    stream.destroy()
  }
  if (pending && pending.length > 0) {
    const end = pending[pending.length - 1] === 13 ? pending.length - 1 : pending.length
    yield { first: line + 1, texts: [pending.toString('utf8', 0, end)] }
  }
}

/** The same lines as { line, text }, a batch per chunk read. */
export async function* boundedLineBatches(stream: Readable, options: { maxLineBytes?: number; name?: string; signal?: AbortSignal } = {}): AsyncGenerator<Line[]> {
  for await (const { first, texts } of boundedLineBlocks(stream, options)) yield texts.map((text, i) => ({ line: first + i, text }))
}

/** The same lines one by one. */
export async function* boundedLines(stream: Readable, options: { maxLineBytes?: number; name?: string; signal?: AbortSignal } = {}): AsyncGenerator<Line> {
  for await (const batch of boundedLineBatches(stream, options)) yield* batch
}

function tooLong(line: number, max: number, name = 'input'): never {
  fail('PAYLOAD_TOO_LARGE', `${name}: line ${line} is longer than ${max} bytes; refused without reading it whole (is this the right file and format?)`, { details: { line } })
}

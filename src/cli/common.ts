/** Helpers shared by CLI commands: the data directory option, JSON Lines reading, progress bars. */
import { createReadStream } from 'node:fs'
import { createInterface } from 'node:readline'
import { Option } from 'commander'
import { fail } from '../errors.js'
import { fromSystemError, usageError } from './fail.js'

/** Required, but checked after unknown options (see main.ts's preAction hook), so a typo is named as such. */
export const dataOption = (): Option => {
  const option = new Option('-d, --data <dir>', 'the node\'s data directory (required)').env('HASHMESH_DATA')
  REQUIRED_DATA_OPTIONS.add(option)
  return option
}
const REQUIRED_DATA_OPTIONS = new WeakSet<Option>()

/** For main.ts's check: does this command need --data? */
export function requiresData(options: readonly Option[]): boolean {
  return options.some((o) => REQUIRED_DATA_OPTIONS.has(o))
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value]
}

export function parseIntOption(name: string) {
  return (value: string): number => {
    const n = Number(value)
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) usageError(`${name} must be a non-negative integer, got "${value}"`)
    return n
  }
}

export async function* readLines(path: string): AsyncIterable<{ line: number; text: string }> {
  const stream = path === '-' ? process.stdin : createReadStream(path)
  stream.on('error', () => undefined)
  const rl = createInterface({ input: stream, crlfDelay: Infinity })
  let line = 0
  try {
    for await (const text of rl) {
      line++
      if (text.trim()) yield { line, text }
    }
  } catch (cause) {
    if (fromSystemError(cause)) throw cause // ENOENT, EISDIR, EACCES: worded in cli/fail.ts
    fail('BAD_REQUEST', `cannot read ${path}: ${(cause as Error).message}`, { cause })
  }
}

const HEX_LENGTHS = { pdq: 64, md5: 32, sha256: 64, id: 64, key: 64 } as const

/** Checks a hex argument before anything is sent: `revoke xyz` says what an id looks like. */
export function requireHex(kind: keyof typeof HEX_LENGTHS, value: string, what: string = kind): string {
  const length = HEX_LENGTHS[kind]
  if (!new RegExp(`^[0-9a-fA-F]{${length}}$`).test(value)) {
    const got = /^[0-9a-fA-F]*$/.test(value) ? `${value.length} hex digits` : `"${value.length > 20 ? value.slice(0, 20) + '…' : value}", which is not hex`
    usageError(`${what} must be ${length} hex digits, got ${got}`, kind === 'id' ? 'record ids are printed by submit, list and show' : undefined)
  }
  return value.toLowerCase()
}

export interface Progress { tick: (n?: number) => void; stop: () => void }

/**
 * A progress bar with rate and ETA on stderr, when stderr is a terminal and the job is expected to take over
 * 2 s (`expectedMs`, or else by count); a no-op otherwise, and with `quiet`. cli-progress is imported only
 * when a bar is shown.
 */
export async function progressBar(total: number, label: string, options: { expectedMs?: number; quiet?: boolean } = {}): Promise<Progress> {
  const long = options.expectedMs !== undefined ? options.expectedMs > 2000 : total >= 1000
  if (options.quiet || !process.stderr.isTTY || !long || total === 0) return { tick: () => undefined, stop: () => undefined }
  const { default: cliProgress } = await import('cli-progress')
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {percentage}% {value}/{total} {rate}/s ETA {eta_formatted}`, stream: process.stderr, hideCursor: true, etaBuffer: 50 },
    cliProgress.Presets.shades_classic,
  )
  const started = Date.now()
  bar.start(total, 0, { rate: '0' })
  let done = 0
  return {
    tick: (n = 1) => {
      done += n
      bar.increment(n, { rate: (done / Math.max(0.001, (Date.now() - started) / 1000)).toFixed(1) })
    },
    stop: () => bar.stop(),
  }
}

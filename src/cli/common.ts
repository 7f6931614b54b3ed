/** Helpers shared by CLI commands: the data directory option, JSON Lines reading, progress bars. */
import { createReadStream } from 'node:fs'
import { createInterface } from 'node:readline'
import { Option } from 'commander'
import cliProgress from 'cli-progress'
import { fail } from '../errors.js'

export const dataOption = () =>
  new Option('-d, --data <dir>', 'the node\'s data directory').env('HASHMESH_DATA').makeOptionMandatory(true)

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value]
}

export function parseIntOption(name: string) {
  return (value: string): number => {
    const n = Number(value)
    if (!Number.isInteger(n) || n < 0) fail('BAD_REQUEST', `${name} must be a non-negative integer, got "${value}"`)
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
    fail('BAD_REQUEST', `cannot read ${path}: ${(cause as Error).message}`, { cause })
  }
}

/** A progress bar on stderr when it is a terminal and the job is long; a no-op otherwise. */
export function progressBar(total: number, label: string): { tick: (n?: number) => void; stop: () => void } {
  if (!process.stderr.isTTY || total < 1000) return { tick: () => undefined, stop: () => undefined }
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {percentage}% {value}/{total} {eta_formatted}`, stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  )
  bar.start(total, 0)
  return { tick: (n = 1) => bar.increment(n), stop: () => bar.stop() }
}

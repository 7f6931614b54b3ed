/**
 * The list format of the file and URL exchanges until the project's list readers (src/lists/) land:
 * python-threatexchange's `local_file` lists, one signal per line, `<signal_type> <value>` or just the
 * value when the exchange names the type; blank lines and `#` comments skipped. Unknown signal types
 * (`url`, `raw_text`…) are skipped and counted; a known type with a bad value is a rejected line.
 * Errors name line numbers and reasons, never the line's text (a list may be private).
 */
import { fail } from '../errors.js'
import { isBankSignalType, normaliseSignal, type BankSignalType } from '../bank/types.js'
import { isHashmeshError } from '../errors.js'
import type { ExchangeSignal } from './types.js'

/** Names other tools give the types hashmesh has. */
const TYPE_ALIASES: Record<string, BankSignalType> = { pdq: 'pdq', video_md5: 'video_md5', md5: 'md5', photo_md5: 'md5', sha256: 'sha256', vpdq: 'vpdq' }

export function bankSignalType(name: string): BankSignalType | undefined {
  const lower = name.trim().toLowerCase()
  return TYPE_ALIASES[lower] ?? (isBankSignalType(lower) ? lower : undefined)
}

export interface LineVerdict { signal?: ExchangeSignal; skipped?: boolean; rejected?: string }

/** One line of a list: a signal, skipped (blank, comment, a type hashmesh lacks) or rejected (why). */
export function parseSignalLine(text: string, defaultType: BankSignalType | undefined): LineVerdict {
  const line = text.trim()
  if (line.length === 0 || line.startsWith('#')) return { skipped: true }
  let type: BankSignalType | undefined = defaultType
  let value = line
  if (defaultType === undefined) {
    const space = line.search(/\s/)
    if (space < 0) return { rejected: 'no signal type (expected "<type> <value>")' }
    const name = line.slice(0, space)
    type = bankSignalType(name)
    if (type === undefined) return /^[a-z_][a-z0-9_]*$/i.test(name) ? { skipped: true } : { rejected: 'not "<type> <value>"' }
    value = line.slice(space).trim()
  }
  try {
    return { signal: { type: type!, value: normaliseSignal(type!, value) } }
  } catch (err) {
    if (isHashmeshError(err)) return { rejected: `bad ${type} value` }
    throw err
  }
}

/** Rejected lines tolerated in one list before the whole list is refused as garbage. */
export const MAX_REJECTED_FRACTION = 0.01

/**
 * The signals of a list, lazily, counting skipped lines; throws EXCHANGE_PAYLOAD when the list is not one
 * (its first meaningful line rejected, or more than 1 % of its lines), so garbage never empties a bank.
 */
export async function* signalsOfLines(lines: AsyncIterable<string> | Iterable<string>, defaultType: BankSignalType | undefined, counts: { skipped: number; rejected: number }): AsyncIterable<ExchangeSignal> {
  let lineNo = 0
  let accepted = 0
  const firstRejections: string[] = []
  for await (const text of lines) {
    lineNo++
    const verdict = parseSignalLine(text, defaultType)
    if (verdict.signal) {
      accepted++
      yield verdict.signal
    } else if (verdict.skipped) {
      counts.skipped++
    } else {
      counts.rejected++
      if (firstRejections.length < 5) firstRejections.push(`line ${lineNo}: ${verdict.rejected}`)
      if (accepted === 0 || counts.rejected > Math.max(10, (accepted + counts.rejected) * MAX_REJECTED_FRACTION)) {
        fail('EXCHANGE_PAYLOAD', `not a signal list (${firstRejections.join('; ')})`, { details: { rejected: counts.rejected } })
      }
    }
  }
}

export function* splitLines(body: Buffer | string): Iterable<string> {
  const text = typeof body === 'string' ? body : body.toString('utf8')
  let start = 0
  while (start < text.length) {
    let end = text.indexOf('\n', start)
    if (end < 0) end = text.length
    yield text.slice(start, end)
    start = end + 1
  }
}

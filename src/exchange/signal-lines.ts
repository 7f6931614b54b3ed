/**
 * The file and URL exchanges read their lists with the project's one list reader (lists/: readSignals),
 * in any format it knows (python-threatexchange local_file by default when sniffed, CSV, MISP, STIX, HMA
 * JSON Lines…). Here its items become exchange signals: a signal type hashmesh lacks (`url`, `raw_text`…)
 * is skipped and counted; other rejected lines are counted, and a list whose first line is rejected, or
 * more than 1 % of whose lines are, is refused whole (EXCHANGE_PAYLOAD), so garbage never empties a bank.
 * Whole-input refusals of the reader (not a list, an archive, a line too long) are EXCHANGE_PAYLOAD too.
 * Messages name line numbers and codes, never a line's text (a list may be private).
 */
import type { Readable } from 'node:stream'
import { fail, isHashmeshError } from '../errors.js'
import type { BankSignalType } from '../bank/types.js'
import { listSignalType, readSignals, type ListFormat } from '../lists/index.js'
import type { ExchangeSignal } from './types.js'

/** A signal type name (HMA's, hashmesh's, python-threatexchange's) as a bank signal type. */
export function bankSignalType(name: string): BankSignalType | undefined {
  return listSignalType(name)
}

/** Rejected lines tolerated in one list before the whole list is refused as garbage. */
export const MAX_REJECTED_FRACTION = 0.01

export interface ListReadOptions { format?: ListFormat; signalType?: BankSignalType; name: string; signal?: AbortSignal }

export async function* signalsOfList(input: string | Readable, options: ListReadOptions, counts: { skipped: number; rejected: number }): AsyncIterable<ExchangeSignal> {
  let accepted = 0
  const firstRejections: string[] = []
  try {
    for await (const item of readSignals(input, { format: options.format, signalType: options.signalType, name: options.name, signal: options.signal, unknownLabels: 'keep' })) {
      if (item.kind === 'signal') {
        accepted++
        yield { type: item.type, value: item.value, ...(item.note ? { note: item.note } : {}) }
      } else if (item.kind === 'revocation' || item.code === 'UNKNOWN_TYPE') {
        counts.skipped++
      } else {
        counts.rejected++
        if (firstRejections.length < 5) firstRejections.push(`line ${item.line}: ${item.code}`)
        if (accepted === 0 || counts.rejected > Math.max(10, (accepted + counts.rejected) * MAX_REJECTED_FRACTION)) {
          fail('EXCHANGE_PAYLOAD', `not a signal list (${firstRejections.join('; ')})`, { details: { rejected: counts.rejected } })
        }
      }
    }
  } catch (err) {
    if (isHashmeshError(err) && (err.code === 'BAD_REQUEST' || err.code === 'PAYLOAD_TOO_LARGE')) fail('EXCHANGE_PAYLOAD', err.message, { cause: err, details: err.details })
    throw err
  }
}

/** submit, revoke, opinion: writing to the member's own feed. */
import type { Command } from 'commander'
import { fail } from '../../errors.js'
import { OPINIONS, REVOKE_REASONS, SIGNAL_TYPES, type OpinionValue, type RevokeReason, type SignalType } from '../../record/types.js'
import type { ContributionInput } from '../../node/contribute.js'
import { collect, dataOption, parseIntOption, readLines } from '../common.js'
import { openClient } from '../node-client.js'
import { printJson, printLine } from '../output.js'
import { fingerprintFiles } from './fingerprint-files.js'

interface SubmitOptions {
  data: string; pdq: string[]; md5: string[]; sha256: string[]; signals?: string
  label: string[]; contentType?: string; note?: string; json?: boolean
}

async function readSignalsFile(path: string): Promise<ContributionInput['signals']> {
  const out: ContributionInput['signals'] = []
  for await (const { line, text } of readLines(path)) {
    try {
      out.push(JSON.parse(text))
    } catch (err) {
      if (!(err instanceof SyntaxError)) throw err
      const [type, value, quality] = text.trim().split(/\s+/)
      if (!type || !value) fail('BAD_REQUEST', `${path}:${line}: expected JSON or "type value [quality]"`)
      out.push({ type, value, ...(quality !== undefined ? { quality: Number(quality) } : {}) })
    }
  }
  return out
}

export function register(program: Command): void {
  program
    .command('submit')
    .description('sign fingerprints into your own feed (hashes given, or computed from FILEs)')
    .argument('[files...]', 'images or videos to fingerprint and submit')
    .addOption(dataOption())
    .option('--pdq <hex>', 'a PDQ hash (repeatable)', collect, [])
    .option('--md5 <hex>', 'an MD5 hash (repeatable)', collect, [])
    .option('--sha256 <hex>', 'a SHA-256 hash (repeatable)', collect, [])
    .option('--signals <file>', 'signals file: JSON Lines {type,value,quality} or "type value [quality]" lines; - for stdin')
    .option('-l, --label <ns:value>', 'label such as behavior:recruitment (repeatable)', collect, [])
    .option('--content-type <type>', 'photo, video, pdf, url, …')
    .option('--note <text>', 'a short note')
    .option('--json', 'print JSON')
    .action(async (files: string[], opts: SubmitOptions) => {
      const signals: ContributionInput['signals'] = [
        ...opts.pdq.map((value) => ({ type: 'pdq', value })),
        ...opts.md5.map((value) => ({ type: 'md5', value })),
        ...opts.sha256.map((value) => ({ type: 'sha256', value })),
        ...(opts.signals ? await readSignalsFile(opts.signals) : []),
        ...(files.length > 0 ? await fingerprintFiles(files, opts.data) : []),
      ]
      if (signals.length === 0) fail('BAD_REQUEST', 'nothing to submit: give FILEs, --pdq/--md5/--sha256 or --signals')
      const client = await openClient(opts.data)
      try {
        const result = await client.contribute({ signals, labels: opts.label, contentType: opts.contentType, note: opts.note })
        if (opts.json) return printJson(result)
        for (const r of result.records) printLine(`signed record ${r.id} (seq ${r.seq}, ${r.signals} signals)`)
        for (const s of result.skipped) printLine(`skipped ${s.type} ${s.value}: ${s.reason}`)
      } finally {
        await client.close()
      }
    })

  program
    .command('revoke')
    .description('revoke your own record (or one signal in it); a revoked signal is never matched again')
    .argument('<record-id>')
    .addOption(dataOption())
    .option('--signal <index>', 'only this signal of the record', parseIntOption('--signal'))
    .option('--reason <code>', `one of ${REVOKE_REASONS.join(', ')}`, 'mistake')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { data: string; signal?: number; reason: string; json?: boolean }) => {
      if (!REVOKE_REASONS.includes(opts.reason as RevokeReason)) fail('BAD_REQUEST', `--reason must be one of ${REVOKE_REASONS.join(', ')}`)
      const client = await openClient(opts.data)
      try {
        const view = await client.revoke(id, { signal: opts.signal, reason: opts.reason as RevokeReason })
        if (opts.json) printJson(view)
        else printLine(`revoked ${id}${opts.signal !== undefined ? ` signal ${opts.signal}` : ''} with record ${view.record.id}`)
      } finally {
        await client.close()
      }
    })

  program
    .command('opinion')
    .description('record your view on another member\'s signal')
    .argument('<type>', SIGNAL_TYPES.join(' | '))
    .argument('<value>', 'the signal value (hex)')
    .argument('<opinion>', OPINIONS.join(' | '))
    .addOption(dataOption())
    .option('--record <id>', 'the record carrying the signal')
    .option('--note <text>', 'a short note')
    .option('--json', 'print JSON')
    .action(async (type: string, value: string, opinion: string, opts: { data: string; record?: string; note?: string; json?: boolean }) => {
      if (!SIGNAL_TYPES.includes(type as SignalType)) fail('BAD_REQUEST', `type must be one of ${SIGNAL_TYPES.join(', ')}`)
      if (!OPINIONS.includes(opinion as OpinionValue)) fail('BAD_REQUEST', `opinion must be one of ${OPINIONS.join(', ')}`)
      const client = await openClient(opts.data)
      try {
        const body = { signal: { type: type as SignalType, value }, opinion: opinion as OpinionValue, ...(opts.record ? { record: opts.record } : {}), ...(opts.note ? { note: opts.note } : {}) }
        const view = await client.opinion(body)
        if (opts.json) printJson(view)
        else printLine(`recorded opinion ${opinion} on ${type}:${value} as record ${view.record.id}`)
      } finally {
        await client.close()
      }
    })
}

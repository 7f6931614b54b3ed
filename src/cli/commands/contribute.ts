/**
 * submit, revoke, opinion: writing to the member's own feed.
 *
 * `submit` in bulk: files and directories (walked), one record per file by default with per-file labels (flags,
 * or a `file,labels` CSV), `hash` output and signal lists read from --signals and sent in requests that stay
 * under the API's body limit. Prints `file<TAB>record id` (or JSON Lines), a progress bar on a terminal.
 */
import { readFileSync } from 'node:fs'
import { basename, dirname, relative, resolve } from 'node:path'
import type { Command } from 'commander'
import { isHashmeshError } from '../../errors.js'
import { OPINIONS, REVOKE_REASONS, SIGNAL_TYPES, type OpinionValue, type RevokeReason, type SignalType } from '../../record/types.js'
import type { ContributionResult, NodeApi } from '../../node/contract.js'
import { connect } from '../client.js'
import { collect, dataOption, parseIntOption, progressBar, readLines, requireHex } from '../common.js'
import { CliError, EXIT, formatFailure, debugEnabled, usageError } from '../fail.js'
import { printError, printJson, printLine } from '../output.js'
import { collectFiles, fileFingerprinter, parseSignalLine, type Signals } from './fingerprint-files.js'

interface SubmitOptions {
  data: string; pdq: string[]; md5: string[]; sha256: string[]; signals?: string; labelsCsv?: string; combine?: boolean
  label: string[]; contentType?: string; note?: string; json?: boolean; quiet?: boolean
}

/** Signals per request: one record holds 1,000; a request stays well under api.jsonBodyLimitBytes (4 MiB). */
const REQUEST_SIGNALS = 1000
const REQUEST_BYTES = 1024 * 1024
/** Rough cost of fingerprinting one file, to decide whether a progress bar is worth showing (> 2 s). */
const FILE_MS = 150

/** A unit of work: signals that go into their own record(s), with the file they came from. */
interface Item { source: string; signals: Signals; labels: string[] }

/** Splits signals into requests under the signal and byte limits. */
export function chunkSignals(signals: Signals, maxSignals = REQUEST_SIGNALS, maxBytes = REQUEST_BYTES): Signals[] {
  const chunks: Signals[] = []
  let current: Signals = []
  let bytes = 0
  for (const signal of signals) {
    const size = JSON.stringify(signal).length + 1
    if (current.length > 0 && (current.length >= maxSignals || bytes + size > maxBytes)) {
      chunks.push(current)
      current = []
      bytes = 0
    }
    current.push(signal)
    bytes += size
  }
  if (current.length) chunks.push(current)
  return chunks
}

/** `file,labels` lines (labels separated by spaces, `;` or `|`; a header line `file,labels` is skipped). */
export function readLabelsCsv(path: string): (file: string) => string[] | undefined {
  const byPath = new Map<string, string[]>()
  const byName = new Map<string, string[] | null>()
  const base = dirname(resolve(path))
  for (const [i, raw] of readFileSync(path, 'utf8').split(/\r?\n/).entries()) {
    const line = raw.trim()
    if (!line || line.startsWith('#')) continue
    const comma = line.indexOf(',')
    if (comma < 0) usageError(`${path}:${i + 1}: expected "file,labels"`, 'one line per file, e.g. photos/a.jpg,behavior:recruitment entity:some-group')
    const file = line.slice(0, comma).replace(/^"|"$/g, '').trim()
    const labels = line.slice(comma + 1).replace(/^"|"$/g, '').split(/[\s;|,]+/).filter(Boolean)
    if (i === 0 && file.toLowerCase() === 'file') continue
    byPath.set(resolve(base, file), labels)
    byName.set(basename(file), byName.has(basename(file)) ? null : labels)
  }
  return (file) => byPath.get(resolve(file)) ?? byPath.get(resolve(base, relative(process.cwd(), file))) ?? byName.get(basename(file)) ?? undefined
}

async function readSignalsFile(path: string): Promise<Item[]> {
  const loose: Signals = []
  const items: Item[] = []
  for await (const { line, text } of readLines(path)) {
    const parsed = parseSignalLine(text)
    if (!parsed || parsed.signals.some((sig) => !SIGNAL_TYPES.includes(sig.type as SignalType))) {
      usageError(`${path}:${line}: expected a signal (JSON or "type value [quality]", type one of ${SIGNAL_TYPES.join(', ')}) or a line of "hashmesh hash" output`)
    }
    if (parsed.path) items.push({ source: parsed.path, signals: parsed.signals, labels: [] })
    else loose.push(...parsed.signals)
  }
  return loose.length ? [{ source: path, signals: loose, labels: [] }, ...items] : items
}

async function submit(files: string[], opts: SubmitOptions): Promise<void> {
  const hashes: Signals = [
    ...opts.pdq.map((value) => ({ type: 'pdq', value })),
    ...opts.md5.map((value) => ({ type: 'md5', value })),
    ...opts.sha256.map((value) => ({ type: 'sha256', value })),
  ]
  const labelsOf = opts.labelsCsv ? readLabelsCsv(opts.labelsCsv) : () => undefined
  const paths = await collectFiles(files) // a missing path fails here, before anything is signed
  const items: Item[] = [...(hashes.length ? [{ source: 'arguments', signals: hashes, labels: [] }] : []), ...(opts.signals ? await readSignalsFile(opts.signals) : [])]
  if (files.length > 0 && paths.length === 0) usageError(`no files found in ${files.join(', ')}`)
  if (paths.length === 0 && items.length === 0) usageError('nothing to submit: give FILEs or directories, --pdq/--md5/--sha256 or --signals FILE')

  const client = await connect(opts.data)
  const fingerprint = paths.length ? await fileFingerprinter(opts.data) : undefined
  const bar = await progressBar(paths.length + items.length, 'submit', { quiet: opts.quiet, expectedMs: paths.length * FILE_MS + items.reduce((n, i) => n + i.signals.length, 0) / 50 })
  let failed = 0
  let signed = 0
  const report = (source: string, result: ContributionResult): void => {
    signed++
    if (opts.quiet) return
    if (opts.json) return printJson({ file: source, records: result.records, skipped: result.skipped })
    for (const r of result.records) printLine(`${source}\t${r.id}\t(seq ${r.seq}, ${r.signals} signals)`)
    for (const s of result.skipped) printLine(`${source}\tskipped ${s.type} ${s.value}: ${s.reason}`)
  }
  const send = async (api: NodeApi, item: Item): Promise<ContributionResult> => {
    const labels = [...opts.label, ...(labelsOf(item.source) ?? item.labels)]
    const merged: ContributionResult = { records: [], skipped: [] }
    for (const chunk of chunkSignals(item.signals)) {
      const r = await api.contribute({ signals: chunk, labels, contentType: opts.contentType, note: opts.note })
      merged.records.push(...r.records)
      merged.skipped.push(...r.skipped)
    }
    return merged
  }
  try {
    const combined: Item = { source: 'all files', signals: [], labels: [] }
    for (const item of items) {
      report(item.source, await send(client, item))
      bar.tick()
    }
    for (const file of paths) {
      try {
        const signals = await fingerprint!(file)
        if (opts.combine) combined.signals.push(...signals)
        else report(file, await send(client, { source: file, signals, labels: [] }))
      } catch (err) {
        if (!isHashmeshError(err) || err.code === 'INTERNAL' || ['NODE_UNREACHABLE', 'UNAUTHORIZED', 'STORE_CLOSED', 'TIMEOUT'].includes(err.code)) throw err
        failed++
        bar.stop()
        printError(formatFailure(new CliError(err.code, `${file}: ${err.message}`), debugEnabled()).text)
      }
      bar.tick()
    }
    if (combined.signals.length) report(combined.source, await send(client, combined))
  } finally {
    bar.stop()
    await client.close()
  }
  if (failed > 0 && signed === 0) process.exitCode = EXIT.ERROR
  else if (failed > 0) process.exitCode = EXIT.NEGATIVE
}

export function register(program: Command): void {
  program
    .command('submit')
    .description('sign fingerprints into your own feed: hashes given, "hashmesh hash" output, or computed from files and directories (one record per file)')
    .argument('[paths...]', 'images, videos or directories (walked recursively)')
    .addOption(dataOption())
    .option('--pdq <hex>', 'a PDQ hash (repeatable)', collect, [])
    .option('--md5 <hex>', 'an MD5 hash (repeatable)', collect, [])
    .option('--sha256 <hex>', 'a SHA-256 hash (repeatable)', collect, [])
    .option('--signals <file>', 'signals: JSON Lines {type,value,quality}, "type value [quality]" lines, or "hashmesh hash" TSV/JSON output (one record per file); - for stdin')
    .option('-l, --label <ns:value>', 'label such as behavior:recruitment for every record (repeatable)', collect, [])
    .option('--labels-csv <file>', 'per-file labels: lines of "file,labels" (labels separated by spaces or ;)')
    .option('--combine', 'pack all files\' signals into shared records instead of one record per file')
    .option('--content-type <type>', 'photo, video, pdf, url, …')
    .option('--note <text>', 'a short note')
    .option('--json', 'print one JSON line per file: {file, records, skipped}')
    .option('-q, --quiet', 'print nothing but errors, no progress bar')
    .action(submit)

  program
    .command('revoke')
    .description('revoke your own record (or one signal in it); a revoked signal is never matched again')
    .argument('<record-id>', 'the record id (64 hex digits) that submit printed')
    .addOption(dataOption())
    .option('--signal <index>', 'only this signal of the record', parseIntOption('--signal'))
    .option('--reason <code>', `one of ${REVOKE_REASONS.join(', ')}`, 'mistake')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { data: string; signal?: number; reason: string; json?: boolean }) => {
      const recordId = requireHex('id', id, 'the record id')
      if (!REVOKE_REASONS.includes(opts.reason as RevokeReason)) usageError(`--reason must be one of ${REVOKE_REASONS.join(', ')}`)
      const client = await connect(opts.data)
      try {
        const view = await client.revoke(recordId, { signal: opts.signal, reason: opts.reason as RevokeReason })
        if (opts.json) printJson(view)
        else printLine(`revoked ${recordId}${opts.signal !== undefined ? ` signal ${opts.signal}` : ''} with record ${view.record.id}`)
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
      if (!SIGNAL_TYPES.includes(type as SignalType)) usageError(`type must be one of ${SIGNAL_TYPES.join(', ')}, got "${type}"`)
      if (!OPINIONS.includes(opinion as OpinionValue)) usageError(`opinion must be one of ${OPINIONS.join(', ')}, got "${opinion}"`)
      const record = opts.record === undefined ? undefined : requireHex('id', opts.record, '--record')
      const client = await connect(opts.data)
      try {
        const body = { signal: { type: type as SignalType, value }, opinion: opinion as OpinionValue, ...(record ? { record } : {}), ...(opts.note ? { note: opts.note } : {}) }
        const view = await client.opinion(body)
        if (opts.json) printJson(view)
        else printLine(`recorded opinion ${opinion} on ${type}:${value} as record ${view.record.id}`)
      } finally {
        await client.close()
      }
    })
}

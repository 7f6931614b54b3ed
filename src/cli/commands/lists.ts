/**
 * `import FILE --format F [--bank NAME | --contribute]` and `export --format F [--bank NAME | --feed KEY]` for
 * hash lists (issue 16). transfer.ts hands over here when a list format, a bank or a contribution is asked
 * for; signed JSON Lines into the replica stay in transfer.ts. The work is node/list-import.ts and
 * node/list-export.ts: import runs in this process on the data directory, or, when a node runs, by its
 * POST /v1/import route; export reads through the node contract (the running node, or the store).
 */
import { createHash } from 'node:crypto'
import { createReadStream, realpathSync, statSync } from 'node:fs'
import { fail } from '../../errors.js'
import { LIST_FORMATS, type ColumnMap, type ListFormat, type ListSignalType, type ReadOptions, type UnknownLabelMode } from '../../lists/index.js'
import { progressBar } from '../common.js'
import { CliError, usageError } from '../fail.js'
import { printError, printJson, printLine } from '../output.js'

export interface ListImportCliOptions {
  data: string
  format?: string
  bank?: string
  contribute?: boolean
  dryRun?: boolean
  map?: string
  type?: string
  unknownLabels?: string
  restart?: boolean
  json?: boolean
  quiet?: boolean
}

export function parseColumnMap(spec: string): ColumnMap {
  const map: ColumnMap = {}
  for (const part of spec.split(',')) {
    const cut = part.indexOf('=')
    const field = part.slice(0, cut).trim()
    const column = part.slice(cut + 1).trim()
    if (cut <= 0 || !column) usageError(`--map takes field=column pairs separated by commas, got "${part}"`, 'e.g. --map hash=pdq_hash,type=hash_type,label=tags')
    if (field === 'label' || field === 'labels') map.label = [...(map.label ?? []), column]
    else if (field === 'hash' || field === 'type' || field === 'quality' || field === 'note') map[field] = column
    else usageError(`--map: unknown field "${field}" (hash, type, label, quality, note)`)
  }
  return map
}

function checkFormat(format: string | undefined): ListFormat | undefined {
  if (format === undefined) return undefined
  if (!(LIST_FORMATS as readonly string[]).includes(format)) usageError(`--format must be one of ${LIST_FORMATS.join(', ')}, got "${format}"`)
  return format as ListFormat
}

/** A file's identity for the checkpoint: the same file (path, size, mtime, inode) into the same target. */
function checkpointKey(file: string, format: string | undefined, target: string): string | undefined {
  if (file === '-') return undefined
  const info = statSync(file)
  if (info.isDirectory()) throw new CliError('IS_A_DIRECTORY', `${file} is a directory, not a list file`, 'give one file (or - for standard input); import each file of a directory on its own')
  return createHash('sha256').update(JSON.stringify([realpathSync(file), info.size, info.mtimeMs, info.ino, format ?? 'auto', target])).digest('hex').slice(0, 32)
}

/** Lines of a plain file, for the progress bar (0, no bar, for a gzip file: its lines are not countable as is). */
async function countLines(file: string): Promise<number> {
  let n = 0
  let first = true
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    if (first && chunk[0] === 0x1f && chunk[1] === 0x8b) return 0
    first = false
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) n++
  }
  return n
}

export async function runListImport(file: string, opts: ListImportCliOptions): Promise<void> {
  if (opts.bank && opts.contribute) usageError('give --bank NAME or --contribute, not both')
  const format = checkFormat(opts.format)
  if (!opts.bank && !opts.contribute && !opts.dryRun) usageError(`importing a ${format ?? 'list'} needs a target: --bank NAME or --contribute (or --dry-run to check it)`)
  const unknownLabels = (opts.unknownLabels ?? 'error') as UnknownLabelMode
  if (!['error', 'drop', 'keep'].includes(unknownLabels)) usageError(`--unknown-labels must be error, drop or keep, got "${opts.unknownLabels}"`)
  const { loadTaxonomy } = await import('../../config.js')
  const { isBankSignalType } = await import('../../bank/types.js')
  if (opts.type !== undefined && !isBankSignalType(opts.type)) usageError(`--type must be pdq, md5, video_md5, sha256 or vpdq, got "${opts.type}"`)
  const readOptions: ReadOptions = {
    format, map: opts.map ? parseColumnMap(opts.map) : undefined, signalType: opts.type as ListSignalType | undefined,
    unknownLabels, taxonomy: loadTaxonomy(), name: file === '-' ? 'stdin' : file,
  }
  const target = opts.bank ? `bank:${opts.bank}` : 'contribute'
  const key = checkpointKey(file, format, target)
  const { findRunningNode } = await import('../running-node.js')
  const running = findRunningNode(opts.data)
  if (running) return importThroughNode(file, opts, running.apiUrl, key)
  const { readImportBatches } = await import('../../lists/index.js')
  const { importList } = await import('../../node/list-import.js')
  const { HashmeshNode } = await import('../../node/node.js')
  const total = process.stderr.isTTY && !opts.quiet && file !== '-' ? await countLines(file) : 0
  const bar = await progressBar(total, opts.dryRun ? 'check' : 'import', { quiet: opts.quiet })
  // No match index in this process (it only writes; the node builds its index when it starts).
  const node = await HashmeshNode.open(opts.data, { bankMatching: false })
  let shown = 0
  try {
    const summary = await importList(node, readImportBatches(file, readOptions), {
      into: opts.bank ? { bank: opts.bank } : { contribute: true },
      dryRun: opts.dryRun, checkpointKey: key, restart: opts.restart,
      onRejected: (r) => printError(`line ${r.line}: ${r.code}: ${r.message}`),
      onProgress: (lines) => {
        if (lines <= shown) return // a batch's write ends after later lines were told
        bar.tick(lines - shown)
        shown = lines
      },
    })
    bar.stop()
    printSummary(summary, opts)
  } finally {
    bar.stop()
    await node.close()
  }
}

/** A node runs on the data directory: the file is streamed to its POST /v1/import (same path, same checks). */
async function importThroughNode(file: string, opts: ListImportCliOptions, apiUrl: string, key: string | undefined): Promise<void> {
  const { readFileSync } = await import('node:fs')
  const { join, resolve } = await import('node:path')
  const { Readable } = await import('node:stream')
  const token = readFileSync(join(resolve(opts.data), 'api.token'), 'utf8').trim()
  const query = new URLSearchParams()
  if (opts.format) query.set('format', opts.format)
  if (opts.bank) query.set('bank', opts.bank)
  if (opts.contribute) query.set('contribute', 'true')
  if (opts.dryRun) query.set('dryRun', 'true')
  if (opts.map) query.set('map', opts.map)
  if (opts.type) query.set('type', opts.type)
  if (opts.unknownLabels) query.set('unknownLabels', opts.unknownLabels)
  if (opts.restart) query.set('restart', 'true')
  if (key) query.set('key', key)
  const body = Readable.toWeb(file === '-' ? process.stdin : createReadStream(file)) as ReadableStream
  const res = await fetch(`${apiUrl}/v1/import?${query}`, {
    method: 'POST', body, duplex: 'half', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
  } as RequestInit)
  const answer = await res.json() as { error?: { code: string; message: string } } & RemoteSummary
  if (!res.ok || answer.error) fail((answer.error?.code ?? 'INTERNAL') as 'BAD_REQUEST', answer.error?.message ?? `the node answered ${res.status}`)
  for (const r of answer.rejections) printError(`line ${r.line}: ${r.code}: ${r.message}`)
  if (answer.rejectionsLeftOut > 0) printError(`… and ${answer.rejectionsLeftOut} more rejected lines`)
  printSummary(answer, opts)
}

interface RemoteSummary {
  lines: number; accepted: number; rejected: number; byCode: Record<string, number>; written: number; resumedAfterLine: number; dryRun: boolean
  revocations: number; removed: number
  rejections: Array<{ line: number; code: string; message: string }>; rejectionsLeftOut: number
}

function printSummary(summary: Omit<RemoteSummary, 'rejections' | 'rejectionsLeftOut'>, opts: ListImportCliOptions): void {
  if (opts.json) printJson({ lines: summary.lines, accepted: summary.accepted, rejected: summary.rejected, byCode: summary.byCode, written: summary.written, resumedAfterLine: summary.resumedAfterLine, revocations: summary.revocations, removed: summary.removed, dryRun: summary.dryRun })
  else {
    const codes = Object.entries(summary.byCode).map(([c, n]) => `${c}: ${n}`).join(', ')
    const verb = summary.dryRun ? 'would add' : 'added'
    const written = opts.bank ? `${summary.written} content items to ${opts.bank}` : `${summary.written} records`
    const revoked = summary.revocations ? `, ${summary.revocations} revocations${summary.dryRun ? '' : ` (${summary.removed} content items removed)`}` : ''
    printLine(`${summary.lines} lines${summary.resumedAfterLine ? ` (resumed after line ${summary.resumedAfterLine})` : ''}: ${summary.accepted} signals ${verb}${summary.dryRun ? '' : ` (${written})`}${revoked}, ${summary.rejected} rejected${codes ? ` (${codes})` : ''}`)
  }
  if (summary.rejected > 0) process.exitCode = 1
}

export interface ListExportCliOptions { data: string; format?: string; bank?: string; feed?: string[]; title?: string }

export async function runListExport(opts: ListExportCliOptions): Promise<void> {
  const format = checkFormat(opts.format) ?? 'jsonl'
  if (opts.bank && opts.feed) usageError('give --bank NAME or --feed KEY, not both')
  const { writeSignals } = await import('../../lists/index.js')
  const { bankSignals, feedSignals } = await import('../../node/list-export.js')
  const out = process.stdout
  const { connect } = await import('../client.js')
  const client = await connect(opts.data, { preferRemote: true })
  try {
    const signals = opts.bank ? bankSignals(client, opts.bank) : feedSignals(client, opts.feed)
    await writeSignals(signals, out, format, { title: opts.title ?? (opts.bank ? `hashmesh bank ${opts.bank}` : 'hashmesh export') })
  } finally {
    await client.close()
  }
}

/** export, import, verify: records as JSON Lines, and the offline audit. */
import { readFileSync } from 'node:fs'
import type { Command } from 'commander'
import { fail } from '../../errors.js'
import type { AuditItem, DeclaredEnvelope } from '../../record/audit.js'
import { connect } from '../client.js'
import { dataOption, parseIntOption, progressBar, readLines, requireHex } from '../common.js'
import { usageError } from '../fail.js'
import { printError, printJson, printLine } from '../output.js'

const IMPORT_BATCH = 500
/** The names `--format` takes (lists/types.ts LIST_FORMATS; not imported, to keep start-up light). */
const LIST_FORMAT_NAMES = 'jsonl, hashes, hash-tsv, te-local, te-csv, hma, csv, tsv, misp, stix'
const EXPORT_PAGE = 500

/** An export line's signed bytes, and the id, feed and seq it declares beside them (checked against the bytes). */
function lineBytes(fromHex: (hex: string, length: number, what: string) => Uint8Array, text: string): { bytes?: Uint8Array; error?: string; declared?: DeclaredEnvelope } {
  try {
    const { bytes: hex, id, feed, seq } = JSON.parse(text) as { bytes?: unknown } & DeclaredEnvelope
    if (typeof hex !== 'string' || hex.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(hex)) return { error: 'line has no hex "bytes" field' }
    return { bytes: fromHex(hex, hex.length / 2, 'bytes'), declared: { id, feed, seq } }
  } catch (err) {
    if (err instanceof SyntaxError) return { error: 'line is not JSON' }
    throw err
  }
}

/** Signed JSON Lines are the default: a list in another format is named, with the flags it needs. */
async function refuseOtherList(file: string): Promise<void> {
  const { openList } = await import('../../lists/index.js')
  const { sniffed, stream } = await openList(file)
  stream.destroy()
  if (sniffed.format && sniffed.format !== 'jsonl') {
    usageError(`${file} looks like ${sniffed.format}, not signed JSON Lines`, `import it with --format ${sniffed.format} and --bank NAME or --contribute (or --dry-run)`)
  }
}

export function register(program: Command): void {
  program
    .command('export')
    .description('write signed records as JSON Lines (id, feed, seq, kind, bytes)')
    .addOption(dataOption())
    .option('--feed <key>', 'only this feed (repeatable)', (v: string, p: string[] = []) => [...p, v])
    .option('--since <seq>', 'only records with seq > this', parseIntOption('--since'), 0)
    .option('--format <format>', `signals as a list: ${LIST_FORMAT_NAMES} (default: signed records as JSON Lines)`)
    .option('--bank <name>', 'signals of one bank (a local bank, or a member\'s MEMBER_… bank)')
    .option('--title <text>', 'MISP event info / STIX identity name')
    .action(async (opts: { data: string; feed?: string[]; since: number; format?: string; bank?: string; title?: string }) => {
      if (opts.format !== undefined || opts.bank !== undefined) return (await import('./lists.js')).runListExport(opts)
      const feeds = opts.feed?.map((f) => requireHex('key', f, '--feed'))
      const { exportLine } = await import('../../node/views.js')
      const { fromHex } = await import('../../record/crypto.js')
      const client = await connect(opts.data)
      try {
        const heads = (await client.feeds()).filter((h) => !feeds || feeds.includes(h.feed))
        const bar = await progressBar(heads.reduce((n, h) => n + Math.max(0, h.seq - opts.since), 0), 'export')
        for (const head of heads) {
          for (let seq = opts.since + 1; seq <= head.seq; seq += EXPORT_PAGE) {
            const { records: page } = await client.feed(head.feed, { from: seq, limit: EXPORT_PAGE })
            for (const view of page) printJson(exportLine({ record: view.record, bytes: fromHex(view.bytes, view.bytes.length / 2, 'bytes') }))
            bar.tick(page.length)
          }
        }
        bar.stop()
      } finally {
        await client.close()
      }
    })

  program
    .command('import')
    .description('verify and append records from a JSON Lines export; or, with --format/--bank/--contribute, import a hash list')
    .argument('<file>', 'JSON Lines file, or a list (- for stdin)')
    .addOption(dataOption())
    .option('--json', 'print the summary as JSON')
    .option('--format <format>', `list format: ${LIST_FORMAT_NAMES} (sniffed when not given with --bank/--contribute)`)
    .option('--bank <name>', 'add the list\'s signals to this local bank')
    .option('--contribute', 'sign the list\'s signals into your feed (records of up to 1,000, labels per line kept)')
    .option('--dry-run', 'check and count every line, write nothing')
    .option('--map <spec>', 'csv/tsv columns: hash=COL,type=COL,label=COL,quality=COL,note=COL')
    .option('--type <type>', 'signal type of lines that name none (pdq, md5, video_md5, sha256, vpdq)')
    .option('--unknown-labels <mode>', 'labels outside the taxonomy: error (reject the line), drop, keep (as source:…)', 'error')
    .option('--restart', 'ignore the checkpoint of an earlier import of this file')
    .option('--quiet', 'no progress bar')
    .action(async (file: string, opts: { data: string; json?: boolean } & Omit<import('./lists.js').ListImportCliOptions, 'data'>) => {
      if ((opts.format !== undefined && opts.format !== 'jsonl') || opts.bank || opts.contribute || opts.dryRun) {
        return (await import('./lists.js')).runListImport(file, opts)
      }
      if (file !== '-') await refuseOtherList(file)
      const lines: { line: number; text: string }[] = []
      for await (const l of readLines(file)) lines.push(l)
      const client = await connect(opts.data)
      const counts: Record<string, number> = { accepted: 0, duplicate: 0, pending: 0, rejected: 0 }
      const reasons: Record<string, number> = {}
      const bar = await progressBar(lines.length, 'import')
      try {
        for (let i = 0; i < lines.length; i += IMPORT_BATCH) {
          const batch = lines.slice(i, i + IMPORT_BATCH)
          const hexes = batch.map(({ text }) => {
            try {
              return String((JSON.parse(text) as { bytes?: unknown }).bytes ?? '')
            } catch (err) {
              if (err instanceof SyntaxError) return '' // not JSON: the node reports it as undecodable
              throw err
            }
          })
          const results = await client.importRecords(hexes)
          results.forEach((r, k) => {
            counts[r.verdict] = (counts[r.verdict] ?? 0) + 1
            if (r.verdict === 'rejected') {
              reasons[r.code ?? 'INTERNAL'] = (reasons[r.code ?? 'INTERNAL'] ?? 0) + 1
              if (!opts.json) printError(`line ${batch[k]!.line}: rejected ${r.code}: ${r.message ?? ''}`)
            }
          })
          bar.tick(batch.length)
        }
      } finally {
        bar.stop()
        await client.close()
      }
      if (opts.json) printJson({ ...counts, reasons })
      else printLine(`accepted ${counts.accepted}, duplicate ${counts.duplicate}, pending ${counts.pending}, rejected ${counts.rejected}${Object.keys(reasons).length ? ` (${Object.entries(reasons).map(([c, n]) => `${c}: ${n}`).join(', ')})` : ''}`)
      if (counts.rejected! > 0) process.exitCode = 1
    })

  program
    .command('verify')
    .description('offline audit of an export: signatures, hash chains, authors against a key list, each line\'s id/feed/seq against its signed bytes; exit 0 only if all valid')
    .argument('<file>', 'JSON Lines export')
    .option('--keys <file>', 'trusted member keys: lines of "hex [name]"')
    .option('--roster <file>', 'trusted member keys from a roster JSON file')
    .option('--json', 'print the report as JSON')
    .action(async (file: string, opts: { keys?: string; roster?: string; json?: boolean }) => {
      const { auditRecords } = await import('../../record/audit.js')
      const { rosterFromJson } = await import('../../record/roster.js')
      const { fromHex } = await import('../../record/crypto.js')
      const members = new Map<string, string>()
      if (opts.roster) for (const m of rosterFromJson(readFileSync(opts.roster, 'utf8')).document.members) members.set(m.key, m.name)
      if (opts.keys) {
        for (const line of readFileSync(opts.keys, 'utf8').split('\n')) {
          const [key, ...name] = line.trim().split(/\s+/)
          if (key && /^[0-9a-f]{64}$/i.test(key)) members.set(key.toLowerCase(), name.join(' ') || key.slice(0, 12))
        }
      }
      if (members.size === 0) fail('BAD_REQUEST', 'give the trusted member keys with --keys FILE or --roster FILE')
      const items: AuditItem[] = []
      for await (const { line, text } of readLines(file)) {
        const { bytes, error, declared } = lineBytes(fromHex, text)
        items.push({ line, bytes, parseError: error, declared })
      }
      const report = auditRecords(items, members)
      if (opts.json) printJson(report)
      else {
        for (const e of report.entries) {
          printLine(e.ok ? `line ${e.line}: ok       ${e.kind} seq ${e.seq} of ${members.get(e.feed!)} (${e.id})` : `line ${e.line}: INVALID  ${e.code}: ${e.message}`)
        }
        for (const [feed, f] of Object.entries(report.feeds)) printLine(`feed ${feed} (${f.member}): seq ${f.first}..${f.last}, ${f.records} records, chain intact`)
        printLine(`${report.valid} valid, ${report.invalid} invalid`)
      }
      if (report.invalid > 0 || report.entries.length === 0) process.exitCode = 1
    })
}

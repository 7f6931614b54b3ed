/**
 * bank create | list | add | disable | delete | show — the node's banks (docs/hma.md): through the running
 * node's HTTP API when one runs on the data directory, otherwise on the store directly.
 */
import { readFile } from 'node:fs/promises'
import { Option, type Command } from 'commander'
import { BANK_KINDS, MAX_DISABLE_UNTIL_TS } from '../../bank/types.js'
import type { BankContentView, BankView, NodeApi } from '../../node/contract.js'
import { connect } from '../client.js'
import { collect, dataOption, parseIntOption, requireHex } from '../common.js'
import { usageError } from '../fail.js'
import { printJson, printLine } from '../output.js'

async function withClient<T>(dataDir: string, work: (client: NodeApi) => Promise<T>): Promise<T> {
  const client = await connect(dataDir, { preferRemote: true })
  try {
    return await work(client)
  } finally {
    await client.close()
  }
}

function parseRatio(value: string): number {
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) usageError(`--ratio must be a number from 0 to 1, got "${value}"`)
  return n
}

function parseContentId(value: string): number {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value)) || Number(value) < 1) usageError(`a content id is a positive integer, got "${value}"`, 'ids are printed by "bank add" and "bank show NAME"')
  return Number(value)
}

/** Unix seconds, or a date (2026-12-31, 2026-12-31T12:00:00Z). */
function parseUntil(value: string): number {
  const seconds = /^\d+$/.test(value) ? Number(value) : Math.floor(Date.parse(value) / 1000)
  if (!Number.isSafeInteger(seconds) || seconds < 2) usageError(`--until must be unix seconds or a date such as 2026-12-31, got "${value}"`)
  if (seconds > MAX_DISABLE_UNTIL_TS) usageError(`--until must be before 2100-01-01, got "${value}"`, 'leave --until out to disable for good')
  return seconds
}

function bankLine(b: BankView): string {
  const count = b.contentCount !== undefined ? `  ${b.contentCount} item(s)` : ''
  const member = b.member ? `  feed ${b.member.slice(0, 16)}…` : ''
  return `${b.name.padEnd(24)} ${b.kind.padEnd(8)} ratio ${b.matchingEnabledRatio}${count}${member}`
}

function contentLine(c: BankContentView): string {
  const state = c.enabled ? 'enabled' : c.disableUntilTs === 1 ? 'disabled' : `disabled until ${new Date(c.disableUntilTs * 1000).toISOString()}`
  const signals = Object.entries(c.signals).map(([t, v]) => `${t}:${v}`).join(' ')
  return `${String(c.id).padStart(6)}  ${state}  ${signals}${c.note ? `  "${c.note}"` : ''}`
}

interface AddOptions { data: string; pdq: string[]; md5: string[]; sha256: string[]; videoMd5: string[]; note?: string; json?: boolean }

/** The hashes given to `bank add`, checked before the node is asked; none when a FILE is given. */
function givenSignals(file: string | undefined, opts: AddOptions): Record<string, string> {
  const given: Array<[string, string]> = [
    ...opts.pdq.map((v): [string, string] => ['pdq', requireHex('pdq', v, '--pdq')]),
    ...opts.md5.map((v): [string, string] => ['md5', requireHex('md5', v, '--md5')]),
    ...opts.sha256.map((v): [string, string] => ['sha256', requireHex('sha256', v, '--sha256')]),
    ...opts.videoMd5.map((v): [string, string] => ['video_md5', requireHex('md5', v, '--video-md5')]),
  ]
  if (file && given.length) usageError('give a FILE or hashes, not both')
  if (!file && given.length === 0) usageError('nothing to add: give a FILE or --pdq/--md5/--sha256/--video-md5')
  const types = given.map(([t]) => t)
  if (new Set(types).size !== types.length) usageError('one content item has at most one signal of each type: run "bank add" once per item')
  return Object.fromEntries(given)
}

/** The bank signals of a file, hashed by the node (or in process). */
async function fileSignals(client: NodeApi, bytes: Uint8Array): Promise<Record<string, string>> {
  const fp = await client.hashMedia(bytes, {})
  if (fp.kind === 'image') return { pdq: fp.pdq.hash, md5: fp.md5, sha256: fp.sha256 }
  return { video_md5: fp.md5, sha256: fp.sha256, ...(fp.vpdq.value ? { vpdq: fp.vpdq.value } : {}) }
}

export function register(program: Command): void {
  const bank = program.command('bank').description('banks: curated signal collections (local, negative allow-lists, shared), as HMA has them')

  bank
    .command('create')
    .description('create a bank (NAME in UPPER_SNAKE_CASE)')
    .argument('<name>', 'bank name')
    .addOption(dataOption())
    .addOption(new Option('--kind <kind>', 'local (never leaves the node), negative (allow-list) or shared (each addition is signed into your feed)').choices([...BANK_KINDS]).default('local'))
    .option('--ratio <r>', 'HMA\'s matching_enabled_ratio, 0 to 1', parseRatio)
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { data: string; kind: (typeof BANK_KINDS)[number]; ratio?: number; json?: boolean }) => {
      const created = await withClient(opts.data, (c) => c.banks.create({ name, kind: opts.kind, ...(opts.ratio !== undefined ? { matchingEnabledRatio: opts.ratio } : {}) }))
      if (opts.json) printJson(created)
      else printLine(`created ${bankLine(created)}`)
    })

  bank
    .command('list')
    .description('list banks: your own, and every federation member\'s feed (read-only)')
    .addOption(dataOption())
    .option('--json', 'print JSON')
    .action(async (opts: { data: string; json?: boolean }) => {
      const banks = await withClient(opts.data, (c) => c.banks.list())
      if (opts.json) return printJson({ banks })
      if (banks.length === 0) printLine('no banks (create one with "hashmesh bank create NAME")')
      for (const b of banks) printLine(bankLine(b))
    })

  bank
    .command('add')
    .description('add content to a bank: a FILE (hashed) or its hashes')
    .argument('<name>', 'bank name')
    .argument('[file]', 'image or video file')
    .addOption(dataOption())
    .option('--pdq <hex>', 'PDQ hash', collect, [])
    .option('--md5 <hex>', 'MD5 hash', collect, [])
    .option('--sha256 <hex>', 'SHA-256 hash', collect, [])
    .option('--video-md5 <hex>', 'MD5 of a video file (HMA\'s video_md5)', collect, [])
    .option('--note <text>', 'a note kept with the content')
    .option('--json', 'print JSON')
    .action(async (name: string, file: string | undefined, opts: AddOptions) => {
      const given = givenSignals(file, opts)
      const bytes = file ? await readFile(file) : undefined // a missing file is reported before the node is asked
      const added = await withClient(opts.data, async (c) => {
        const signals = bytes ? await fileSignals(c, bytes) : given
        return c.banks.addContent(name, { signals, ...(opts.note !== undefined ? { note: opts.note } : {}) })
      })
      if (opts.json) printJson(added)
      else printLine(`added ${contentLine(added)} to ${added.bank}`)
    })

  bank
    .command('disable')
    .description('stop matching a content item, for good or --until a time; --enable matches it again')
    .argument('<name>', 'bank name')
    .argument('<id>', 'content id')
    .addOption(dataOption())
    .option('--until <time>', 'unix seconds or a date (2026-12-31): matched again from then', parseUntil)
    .option('--enable', 'match it again now')
    .option('--json', 'print JSON')
    .action(async (name: string, idText: string, opts: { data: string; until?: number; enable?: boolean; json?: boolean }) => {
      const id = parseContentId(idText)
      if (opts.enable && opts.until !== undefined) usageError('give --until or --enable, not both')
      const disableUntilTs = opts.enable ? 0 : (opts.until ?? 1)
      const updated = await withClient(opts.data, (c) => c.banks.updateContent(name, id, { disableUntilTs }))
      if (opts.json) printJson(updated)
      else printLine(contentLine(updated))
    })

  bank
    .command('delete')
    .description('delete a bank with all its content, or one content item (a shared bank\'s records are revoked)')
    .argument('<name>', 'bank name')
    .argument('[id]', 'content id: delete only this item')
    .addOption(dataOption())
    .action(async (name: string, idText: string | undefined, opts: { data: string }) => {
      const id = idText === undefined ? undefined : parseContentId(idText)
      await withClient(opts.data, (c) => (id === undefined ? c.banks.delete(name) : c.banks.deleteContent(name, id)))
      printLine(id === undefined ? `deleted bank ${name}` : `deleted content ${id} from ${name}`)
    })

  bank
    .command('show')
    .description('a bank and a page of its content, or one content item')
    .argument('<name>', 'bank name')
    .argument('[id]', 'content id')
    .addOption(dataOption())
    .option('--after <id>', 'content ids above this one', parseIntOption('--after'))
    .option('--limit <n>', 'content items to list (1 to 1000)', parseIntOption('--limit'), 100)
    .option('--json', 'print JSON')
    .action(async (name: string, idText: string | undefined, opts: { data: string; after?: number; limit: number; json?: boolean }) => {
      const id = idText === undefined ? undefined : parseContentId(idText)
      if (id !== undefined) {
        const content = await withClient(opts.data, (c) => c.banks.getContent(name, id))
        return opts.json ? printJson(content) : printLine(contentLine(content))
      }
      const { bank: info, page } = await withClient(opts.data, async (c) => {
        const info = await c.banks.get(name)
        return { bank: info, page: info.kind === 'member' ? undefined : await c.banks.listContent(name, { after: opts.after, limit: opts.limit }) }
      })
      if (opts.json) return printJson({ ...info, ...(page ? { content: page.content, next: page.next } : {}) })
      printLine(bankLine(info))
      if (!page) return printLine(`  a federation member's feed: its records are listed by "hashmesh list --feed ${info.member}"`)
      for (const c of page.content) printLine(contentLine(c))
      if (page.next !== null) printLine(`  more: --after ${page.next}`)
    })

  for (const sub of bank.commands) sub.exitOverride().configureOutput({ outputError: () => undefined })
}

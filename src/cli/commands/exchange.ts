/**
 * exchange add | list | show | fetch | remove | credentials — sources that fill a bank of their name on a
 * schedule (docs/exchanges.md): a list file, a list URL, a federation member's feed, TCAP, ThreatExchange.
 * Through the running node when one runs on the data directory (its scheduler fetches), otherwise on the
 * store. Credentials are read from stdin as JSON (never from the command line, where `ps` shows them).
 */
import { isAbsolute, resolve } from 'node:path'
import { Option, type Command } from 'commander'
import { dataOption, collect, parseIntOption } from '../common.js'
import { CliError, EXIT, usageError } from '../fail.js'
import { printJson, printLine } from '../output.js'
import { exchangesClient, type ExchangeView, type ExchangesClient } from '../exchanges-client.js'

const APIS = ['local_file', 'url', 'hashmesh', 'tat', 'fb_threatexchange', 'sample']

async function withClient<T>(dataDir: string, work: (client: ExchangesClient) => Promise<T>): Promise<T> {
  const client = await exchangesClient(dataDir)
  try {
    return await work(client)
  } finally {
    await client.close()
  }
}

const when = (ms: number | null): string => (ms === null ? '-' : new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z'))

function summary({ exchange, status }: ExchangeView): string {
  const state = exchange.enabled ? 'enabled' : 'disabled'
  const error = status.error ? `  ${status.error.code}: ${status.error.message}` : ''
  return `${exchange.name.padEnd(24)} ${exchange.api.padEnd(18)} ${state.padEnd(8)} ${status.lastResult.padEnd(12)} ${String(status.signals).padStart(8)} signal(s)  next ${when(status.nextRunAt)}${error}`
}

function details(view: ExchangeView): string[] {
  const { exchange, status } = view
  return [
    summary(view),
    `  settings     ${JSON.stringify(exchange.settings)}`,
    `  interval     ${exchange.intervalSeconds} s`,
    `  last fetch   ${when(status.lastFetchStartedAt)} -> ${when(status.lastFetchCompletedAt)} ${status.lastResult}${status.runningSince ? ` (running since ${when(status.runningSince)})` : ''}`,
    `  counts       added ${status.counts.added}, removed ${status.counts.removed}, unchanged ${status.counts.unchanged}, skipped ${status.counts.skipped}, pages ${status.counts.pages}`,
    `  checkpoint   ${status.checkpoint ? JSON.stringify(status.checkpoint) : '-'}${status.checkpointTime ? ` (${when(status.checkpointTime)})` : ''}`,
    ...(status.error ? [`  error        ${status.error.code}: ${status.error.message} (${status.consecutiveFailures} failure(s) in a row)`] : []),
  ]
}

interface AddOptions {
  data: string; api: string; path?: string; url?: string; signalType?: string; format?: string; member?: string; label: string[]
  mode?: string; privacyGroup?: number; baseUrl?: string; interval?: number; disabled?: boolean; json?: boolean
}

/** The settings (HMA's api_json) of `exchange add`, from its options; the node checks them again. */
function settingsOf(opts: AddOptions): Record<string, unknown> {
  const need = (value: unknown, flag: string) => {
    if (value === undefined) usageError(`--api ${opts.api} needs ${flag}`)
  }
  const common = { ...(opts.signalType ? { signal_type: opts.signalType } : {}), ...(opts.format ? { format: opts.format } : {}) }
  switch (opts.api) {
    case 'local_file':
      need(opts.path, '--path FILE')
      return { path: isAbsolute(opts.path!) ? opts.path : resolve(opts.path!), ...common }
    case 'url':
      need(opts.url, '--url URL')
      return { url: opts.url, ...common }
    case 'hashmesh':
      need(opts.member, '--member NAME')
      return { member: opts.member, labels: opts.label }
    case 'tat':
      return { ...(opts.mode ? { mode: opts.mode } : {}), ...(opts.baseUrl ? { base_url: opts.baseUrl } : {}) }
    case 'sample':
      return {}
    case 'fb_threatexchange':
      need(opts.privacyGroup, '--privacy-group ID')
      return { privacy_group: opts.privacyGroup, ...(opts.baseUrl ? { base_url: opts.baseUrl } : {}) }
    default:
      usageError(`--api must be one of ${APIS.join(', ')}, got "${opts.api}"`)
  }
}

async function readStdinJson(): Promise<Record<string, unknown>> {
  if (process.stdin.isTTY) usageError('pipe the credentials as JSON on stdin', `echo '{"api_token":"…"}' | hashmesh exchange credentials fb_threatexchange --data DIR`)
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  let value: unknown
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    usageError('the credentials on stdin are not JSON', 'tat: {"username":"…","password":"…"}; fb_threatexchange: {"api_token":"…"}')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) usageError('the credentials on stdin must be a JSON object')
  return value as Record<string, unknown>
}

export function register(program: Command): void {
  const exchange = program.command('exchange').description('exchanges: sources that fill a bank of their name on a schedule (list file or URL, a member\'s feed, TCAP, ThreatExchange)')

  exchange.command('add')
    .description('create an exchange and its bank; the node fetches it at once and then every --interval seconds')
    .argument('<name>', 'UPPER_SNAKE_CASE; the bank it fills has this name')
    .addOption(dataOption())
    .addOption(new Option('--api <api>', 'the source').choices(APIS).makeOptionMandatory())
    .option('--path <file>', 'local_file: the list file')
    .option('--url <url>', 'url: the list URL (http or https)')
    .option('--format <format>', 'local_file, url: the list format (sniffed when absent)')
    .option('--signal-type <type>', 'local_file, url: the type of lines that carry only a value')
    .option('--member <name>', 'hashmesh: the member (roster name, MEMBER_ bank name or key)')
    .option('--label <label>', 'hashmesh: only records with this label (repeatable)', collect, [])
    .option('--mode <mode>', 'tat: delta (default) or full')
    .option('--privacy-group <id>', 'fb_threatexchange: the ThreatPrivacyGroup id', parseIntOption('--privacy-group'))
    .option('--base-url <url>', 'tat, fb_threatexchange: another API address')
    .option('--interval <seconds>', 'time between fetches (default 3600)', parseIntOption('--interval'))
    .option('--disabled', 'create it without scheduling fetches')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: AddOptions) => {
      const settings = settingsOf(opts)
      const view = await withClient(opts.data, (c) => c.create({ name, api: opts.api, settings, enabled: !opts.disabled, ...(opts.interval !== undefined ? { intervalSeconds: opts.interval } : {}) }))
      if (opts.json) printJson(view)
      else printLine(`created ${view.exchange.name} (${view.exchange.api}); its bank is ${view.exchange.name}`)
    })

  exchange.command('list')
    .description('every exchange: api, enabled, last result, signals in its bank, next fetch')
    .addOption(dataOption())
    .option('--json', 'print JSON')
    .action(async (opts: { data: string; json?: boolean }) => {
      const views = await withClient(opts.data, (c) => c.list())
      if (opts.json) printJson(views)
      else if (views.length === 0) printLine('no exchanges')
      else for (const v of views) printLine(summary(v))
    })

  exchange.command('show')
    .description('one exchange: settings, last fetch, counts, checkpoint, next run, error')
    .argument('<name>')
    .addOption(dataOption())
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { data: string; json?: boolean }) => {
      const view = await withClient(opts.data, (c) => c.get(name))
      if (opts.json) printJson(view)
      else for (const line of details(view)) printLine(line)
    })

  exchange.command('fetch')
    .description('fetch now and print the result (exit 1 when the fetch failed)')
    .argument('<name>')
    .addOption(dataOption())
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { data: string; json?: boolean }) => {
      const view = await withClient(opts.data, (c) => c.fetch(name))
      if (opts.json) printJson(view)
      else for (const line of details(view)) printLine(line)
      if (view.status.error) process.exitCode = EXIT.NEGATIVE
    })

  exchange.command('remove')
    .description('remove an exchange and its bank')
    .argument('<name>')
    .addOption(dataOption())
    .action(async (name: string, opts: { data: string }) => {
      await withClient(opts.data, async (c) => {
        await c.get(name) // a typo is NOT_FOUND here, not a silent success
        await c.remove(name)
      })
      printLine(`removed ${name} and its bank`)
    })

  exchange.command('credentials')
    .description('set an exchange API\'s credentials from JSON on stdin ({} clears them); stored 0600 in the data directory')
    .argument('<api>', 'tat or fb_threatexchange')
    .addOption(dataOption())
    .action(async (api: string, opts: { data: string }) => {
      if (api !== 'tat' && api !== 'fb_threatexchange') throw new CliError('USAGE', `${api} takes no credentials`, 'tat: {"username","password"}; fb_threatexchange: {"api_token"}')
      const credentials = await readStdinJson()
      const set = await withClient(opts.data, (c) => c.setCredentials(api, credentials))
      printLine(set ? `credentials for ${api} set` : `credentials for ${api} cleared`)
    })
}

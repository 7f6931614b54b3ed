/**
 * switch list | suspend | disable | resume, and quarantine list | release: this node's local controls over
 * matching (issue 18). Nothing is signed or sent; a running node applies a switch to its next match.
 */
import { userInfo } from 'node:os'
import type { Command } from 'commander'
import { collect, dataOption } from '../common.js'
import { usageError } from '../fail.js'
import { connectLocalControls, type LocalControlsClient } from '../local-controls-client.js'
import { printJson, printLine } from '../output.js'
import type { QuarantinedView, SwitchView } from '../../node/local-controls-service.js'
import type { IncidentView } from '../../node/incidents-service.js'

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** --until (ISO time or ms since the epoch) or --for (30m, 2h, 7d): the end of a switch, or null (until resumed). */
export function untilFrom(opts: { until?: string; for?: string }, now = Date.now()): number | null {
  if (opts.until !== undefined && opts.for !== undefined) usageError('give --until or --for, not both')
  if (opts.for !== undefined) {
    const m = /^(\d+)\s*([smhd])$/.exec(opts.for.trim())
    if (!m) usageError(`--for must be a duration such as 90s, 30m, 2h or 7d, got "${opts.for}"`)
    return now + Number(m[1]) * UNITS[m[2]!]!
  }
  if (opts.until === undefined) return null
  const t = /^\d+$/.test(opts.until) ? Number(opts.until) : Date.parse(opts.until)
  if (!Number.isSafeInteger(t)) usageError(`--until must be an ISO time (2026-12-01T12:00Z) or milliseconds since the epoch, got "${opts.until}"`)
  return t
}

const operator = (): string => {
  try {
    return userInfo().username || 'operator'
  } catch {
    return 'operator' // no user entry (a container's uid): the switch still says it was set by an operator
  }
}

async function withClient<T>(dataDir: string, run: (client: LocalControlsClient) => Promise<T>): Promise<T> {
  const client = await connectLocalControls(dataDir)
  try {
    return await run(client)
  } finally {
    await client.close()
  }
}

function switchLine(s: SwitchView): string {
  const who = s.kind === 'member' ? `${s.memberName ?? '?'} ${s.target}` : s.target
  return `${s.kind.padEnd(6)} ${who}  ${s.effect}`
}

function quarantinedLine(e: QuarantinedView): string {
  return `${e.id}  ${e.memberName ?? e.author.slice(0, 12)} seq ${e.seq}  ${e.signals} signals  ${e.rule} ${e.count}/${e.limit}  at ${new Date(e.at).toISOString()}`
}

interface TargetOptions { member?: string; signal?: string; record?: string }
function oneTarget(opts: TargetOptions, allowed: Array<keyof TargetOptions>): { kind: 'member' | 'signal' | 'record'; target: string } {
  const given = allowed.filter((k) => opts[k] !== undefined)
  if (given.length !== 1) usageError(`give exactly one of ${allowed.map((k) => `--${k}`).join(', ')}`)
  const kind = given[0]!
  return { kind, target: opts[kind]! }
}

export function register(program: Command): void {
  registerIncident(program)
  const sw = program.command('switch').description('local switches: suspend a member\'s feed, disable a signal or record, resume (this node only)')

  sw.command('list').description('switches in force').addOption(dataOption()).option('--json', 'print JSON')
    .action(async (opts: { data: string; json?: boolean }) => {
      const switches = await withClient(opts.data, (c) => c.switches())
      if (opts.json) return printJson({ switches })
      if (switches.length === 0) printLine('no local switches')
      for (const s of switches) printLine(switchLine(s))
    })

  const timing = (c: Command) => c
    .option('--until <time>', 'ISO time or ms since the epoch (default: until resumed)')
    .option('--for <duration>', 'a duration: 90s, 30m, 2h, 7d')
    .option('--reason <text>', 'why (shown in match results)')
    .option('--by <name>', 'who sets it (default: your user name)')
    .option('--json', 'print JSON')

  timing(sw.command('suspend').description('stop matching every signal of a member\'s feed here (its records still replicate)').argument('<member-key>', 'the member\'s feed key (64 hex digits)').addOption(dataOption()))
    .action(async (member: string, opts: { data: string; until?: string; for?: string; reason?: string; by?: string; json?: boolean }) => {
      const until = untilFrom(opts) // a usage mistake is refused before the store is opened
      const s = await withClient(opts.data, (c) => c.setSwitch({ kind: 'member', target: member, until, reason: opts.reason, by: opts.by ?? operator() }))
      if (opts.json) printJson(s)
      else printLine(switchLine(s))
    })

  timing(sw.command('disable').description('stop matching one signal (TYPE:VALUE) or one record here').addOption(dataOption())
    .option('--signal <type:value>', 'e.g. pdq:f8f8…, md5:…')
    .option('--record <id>', 'a record id'))
    .action(async (opts: TargetOptions & { data: string; until?: string; for?: string; reason?: string; by?: string; json?: boolean }) => {
      const { kind, target } = oneTarget(opts, ['signal', 'record'])
      const until = untilFrom(opts)
      const s = await withClient(opts.data, (c) => c.setSwitch({ kind, target, until, reason: opts.reason, by: opts.by ?? operator() }))
      if (opts.json) printJson(s)
      else printLine(switchLine(s))
    })

  sw.command('resume').description('lift a switch').addOption(dataOption())
    .option('--member <key>', 'a suspended member\'s feed key')
    .option('--signal <type:value>', 'a disabled signal')
    .option('--record <id>', 'a disabled record')
    .option('--json', 'print JSON')
    .action(async (opts: TargetOptions & { data: string; json?: boolean }) => {
      const { kind, target } = oneTarget(opts, ['member', 'signal', 'record'])
      const s = await withClient(opts.data, (c) => c.resumeSwitch(kind, target))
      if (opts.json) printJson(s)
      else printLine(`resumed ${s.kind} ${s.target}`)
    })

  const q = program.command('quarantine').description('flood quarantine: records stored but not matched until released')
  q.command('list', { isDefault: true }).description('quarantined records and the members over their limits').addOption(dataOption()).option('--json', 'print JSON')
    .action(async (opts: { data: string; json?: boolean }) => {
      const view = await withClient(opts.data, (c) => c.quarantine())
      if (opts.json) return printJson(view)
      if (view.records.length === 0) printLine('nothing in quarantine')
      for (const m of view.members) printLine(`${m.memberName ?? m.member.slice(0, 12)}: ${m.records} records (${m.signals} signals) held; ${m.overLimit ? 'still over its limits' : 'back under its limits'}${view.autoRelease ? '' : ' (release by hand: quarantine.autoRelease is off)'}`)
      for (const e of view.records) printLine('  ' + quarantinedLine(e))
    })
  q.command('release').description('release quarantined records: --all, --member KEY or --record ID (repeatable)').addOption(dataOption())
    .option('--all', 'every quarantined record')
    .option('--member <key>', 'every quarantined record of this member')
    .option('--record <id>', 'one record (repeatable)', collect, [])
    .option('--by <name>', 'who releases (default: your user name)')
    .option('--json', 'print JSON')
    .action(async (opts: { data: string; all?: boolean; member?: string; record: string[]; by?: string; json?: boolean }) => {
      const chosen = [opts.all, opts.member !== undefined, opts.record.length > 0].filter(Boolean).length
      if (chosen !== 1) usageError('give exactly one of --all, --member KEY, --record ID')
      const request = opts.all ? { all: true } : opts.member !== undefined ? { member: opts.member } : { records: opts.record }
      const { released } = await withClient(opts.data, (c) => c.releaseQuarantine({ ...request, by: opts.by ?? operator() }))
      if (opts.json) return printJson({ released })
      printLine(`released ${released.length} record${released.length === 1 ? '' : 's'}; they match again`)
    })
}

function incidentLines(i: IncidentView): string[] {
  const lines = [`${i.id}  ${i.state.toUpperCase()} ${i.severity}  ${i.title}  (by ${i.declaredBy.name ?? i.declaredBy.key.slice(0, 12)}, ${new Date(i.start).toISOString()} to ${new Date(i.expiry).toISOString()}${i.reference ? `, ref ${i.reference}` : ''})`]
  if (i.description) lines.push(`  ${i.description}`)
  for (const c of i.contributions) {
    lines.push(`  record ${c.record} by ${c.member.name ?? c.member.key.slice(0, 12)} seq ${c.seq}: ${c.signals} signals, here ${c.latencyMs} ms after signing`)
    const others = c.heldBy.filter((h) => h.how === 'peer-sync')
    if (others.length > 0) lines.push(`    held by ${others.map((h) => `${h.member.name ?? h.member.key.slice(0, 12)} (by +${h.at - c.signedAt} ms)`).join(', ')}`)
  }
  return lines
}

export function registerIncident(program: Command): void {
  const inc = program.command('incident').description('incidents: declare | update | close | list | show (crisis fast path)')
  inc.command('list', { isDefault: true }).description('open incidents (--all: every one known) with their contributions').addOption(dataOption()).option('--all', 'closed and expired too').option('--json', 'print JSON')
    .action(async (opts: { data: string; all?: boolean; json?: boolean }) => {
      const incidents = await withClient(opts.data, (c) => c.incidents({ all: opts.all }))
      if (opts.json) return printJson({ incidents })
      if (incidents.length === 0) printLine(opts.all ? 'no incidents known' : 'no open incident')
      for (const i of incidents) for (const line of incidentLines(i)) printLine(line)
    })
  inc.command('show').argument('<id>', 'incident id (32 hex digits)').addOption(dataOption()).option('--json', 'print JSON')
    .action(async (id: string, opts: { data: string; json?: boolean }) => {
      const i = await withClient(opts.data, (c) => c.incident(id))
      if (opts.json) printJson(i)
      else for (const line of incidentLines(i)) printLine(line)
    })
  const fields = (c: Command) => c
    .option('--severity <level>', 'low, medium, high or critical')
    .option('--description <text>', 'what members should share')
    .option('--reference <text>', 'e.g. a CIP reference')
    .option('--for <duration>', 'expires after this long (default 24h; at most 30d)')
    .option('--json', 'print JSON')
  fields(inc.command('declare').description('declare an incident: a signed notice every member gets at once').argument('<title>').addOption(dataOption()))
    .action(async (title: string, opts: { data: string; severity?: string; description?: string; reference?: string; for?: string; json?: boolean }) => {
      const expiry = opts.for ? untilFrom({ for: opts.for }) ?? undefined : undefined
      const i = await withClient(opts.data, (c) => c.declareIncident({ title, severity: opts.severity ?? 'high', description: opts.description, reference: opts.reference, expiry }))
      if (opts.json) return printJson(i)
      for (const line of incidentLines(i)) printLine(line)
      printLine(`contributions name it with: hashmesh submit … --label incident:${i.id}`)
    })
  fields(inc.command('update').description('update an incident you declared').argument('<id>').addOption(dataOption()).option('--title <text>'))
    .action(async (id: string, opts: { data: string; title?: string; severity?: string; description?: string; reference?: string; for?: string; json?: boolean }) => {
      const expiry = opts.for ? untilFrom({ for: opts.for }) ?? undefined : undefined
      const i = await withClient(opts.data, (c) => c.updateIncident(id, { title: opts.title, severity: opts.severity, description: opts.description, reference: opts.reference, expiry }))
      if (opts.json) printJson(i)
      else for (const line of incidentLines(i)) printLine(line)
    })
  inc.command('close').description('close an incident you declared').argument('<id>').addOption(dataOption()).option('--description <text>', 'closing note').option('--json', 'print JSON')
    .action(async (id: string, opts: { data: string; description?: string; json?: boolean }) => {
      const i = await withClient(opts.data, (c) => c.closeIncident(id, { description: opts.description }))
      if (opts.json) printJson(i)
      else for (const line of incidentLines(i)) printLine(line)
    })
}

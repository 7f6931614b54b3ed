/** status, list, show: reading the replica. */
import type { Command } from 'commander'
import type { StatusView } from '../../node/contract.js'
import { connect } from '../client.js'
import { dataOption, parseIntOption, requireHex } from '../common.js'
import { printJson, printLine } from '../output.js'
import { memberNames } from '../member-names.js'

const MIB = 1024 * 1024

/** The status as a few readable lines; `--json` gives all of it. */
export function statusSummary(s: StatusView, mode: 'local' | 'remote', peerNames: Map<string, string> = new Map()): string[] {
  const lines = [
    `member      ${s.member.name} (${s.member.key})`,
    `peer id     ${s.peerId}`,
    `node        ${mode === 'remote' ? 'running' : 'not running (read from the store)'}`,
    `roster      ${s.roster ? `federation ${s.roster.federation}, serial ${s.roster.serial}, ${s.roster.members} members (${s.roster.id.slice(0, 16)}…)` : 'none installed: p2p is off (see "hashmesh roster install")'}`,
    `replica     ${s.records} records (${Object.entries(s.recordsByKind).map(([k, n]) => `${n} ${k}`).join(', ') || 'none'}), ${s.signals} signals, ${s.feeds} feeds, ${s.pending} pending`,
    ...s.heads.map((h) => `  feed      ${h.member ?? '(not in roster)'} ${h.feed.slice(0, 16)}… seq ${h.seq}${h.equivocating ? ' FORKED' : ''}`),
    `index       ${s.index.ready ? `${s.index.pdqHashes} distinct PDQ hashes (feeds and banks), ${(s.index.memoryBytes / MIB).toFixed(1)} MiB` : 'not built (built when the node starts)'}`,
  ]
  if (s.network) {
    lines.push(`peers       ${s.network.peers} connected${s.network.peerList.length ? `: ${s.network.peerList.map((p) => `${peerNames.get(p.peerId) ?? p.peerId.slice(-8)} (${p.direction})`).join(', ')}` : ''}`)
    lines.push(`sync        ${s.network.sync.sessionsSucceeded} sessions ok, ${s.network.sync.sessionsFailed} failed`)
    if (s.network.addresses.length) lines.push(`listening   ${s.network.addresses.join(' ')}`)
  } else {
    lines.push(`peers       ${mode === 'remote' ? 'p2p is off (no roster installed)' : 'unknown (the node is not running)'}`)
  }
  const forked = s.heads.filter((h) => h.equivocating)
  lines.push(`forked      ${forked.length === 0 ? 'none' : forked.map((h) => `${h.member ?? h.feed.slice(0, 12)} at seq ${h.forkSeq}`).join(', ')}`)
  lines.push(`digest      ${s.replicaDigest} (equal on nodes that have exchanged everything)`)
  return lines
}

export function register(program: Command): void {
  program
    .command('status')
    .description('a summary of the node: member, roster, records, signals, feeds, index, peers, forked feeds, replica digest')
    .addOption(dataOption())
    .option('--json', 'print everything as JSON')
    .action(async (opts: { data: string; json?: boolean }) => {
      const client = await connect(opts.data, { preferRemote: true })
      try {
        const status = await client.status()
        if (opts.json) return printJson(status)
        const names = status.network?.peerList.length ? (await memberNames(client)).byPeer : undefined
        for (const line of statusSummary(status, client.mode, names)) printLine(line)
      } finally {
        await client.close()
      }
    })

  program
    .command('list')
    .description('list feeds (heads), or the records of one feed')
    .addOption(dataOption())
    .option('--feed <key>', 'list this feed\'s records (a member key: 64 hex digits)')
    .option('--from <seq>', 'first seq', parseIntOption('--from'), 1)
    .option('--limit <n>', 'at most n records', parseIntOption('--limit'), 100)
    .option('--json', 'print JSON Lines')
    .action(async (opts: { data: string; feed?: string; from: number; limit: number; json?: boolean }) => {
      const feed = opts.feed === undefined ? undefined : requireHex('key', opts.feed, '--feed')
      const client = await connect(opts.data, { preferRemote: true })
      try {
        if (!feed) {
          const heads = await client.feeds()
          const names = !opts.json && heads.length ? (await memberNames(client)).byKey : new Map<string, string>()
          for (const head of heads) opts.json ? printJson(head) : printLine(`${(names.get(head.feed) ?? '(not in roster)').padEnd(16)} ${head.feed}  seq ${head.seq}  head ${head.id}`)
          return
        }
        for (const { record } of (await client.feed(feed, { from: opts.from, limit: opts.limit })).records) {
          if (opts.json) printJson(record)
          else {
            const what = record.kind === 'signals' ? `${record.body.signals.length} signals [${record.body.labels.join(' ')}]` : record.kind === 'revoke' ? `revoke ${record.body.target}` : `${record.body.opinion} on ${record.body.signal.type}:${record.body.signal.value}`
            printLine(`${String(record.seq).padStart(6)}  ${record.id}  ${new Date(record.timestamp).toISOString()}  ${record.kind}  ${what}`)
          }
        }
      } finally {
        await client.close()
      }
    })

  program
    .command('show')
    .description('show one record with its signed bytes')
    .argument('<id>', 'record id (64 hex digits)')
    .addOption(dataOption())
    .action(async (id: string, opts: { data: string }) => {
      const recordId = requireHex('id', id, 'a record id')
      const client = await connect(opts.data, { preferRemote: true })
      try {
        process.stdout.write(JSON.stringify(await client.record(recordId), null, 2) + '\n')
      } finally {
        await client.close()
      }
    })
}

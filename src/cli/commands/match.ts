/** match and peers: asking the running node. `match` exits like grep: 0 on a match, 1 on none, 2 on error. */
import { readFile } from 'node:fs/promises'
import type { Command } from 'commander'
import type { MatchResponse } from '../../node/contract.js'
import { connect, findRunningNode, remoteClient } from '../client.js'
import { collect, dataOption, parseIntOption, requireHex } from '../common.js'
import { CliError, EXIT, usageError } from '../fail.js'
import { printJson, printLine } from '../output.js'
import { memberNames } from '../member-names.js'

type Matched = MatchResponse['matches'][number]

/** One match, then one line per contributing record and a line of other members' opinions. */
export function describeMatch(m: Matched): string[] {
  const frames = m.frames ? ` frames at ${m.frames.map((f) => (f.ms / 1000).toFixed(1) + 's').join(', ')}` : ''
  const lines = [`${m.status.toUpperCase()} ${m.type} ${m.value} distance ${m.distance}${frames}, ${m.agreeingMembers} member(s) agree`]
  if (m.reasons.length) lines.push(`  policy: ${m.reasons.join('; ')}`)
  for (const r of m.records) {
    lines.push(`  by ${r.member.name ?? r.member.key.slice(0, 12)} on ${new Date(r.timestamp).toISOString().slice(0, 10)} [${r.labels.join(' ')}] ${r.contentType}${r.signatureVerified ? ', signature ok' : ', SIGNATURE BAD'}${r.equivocated ? ', FEED FORKED' : ''} (record ${r.id}, signal ${r.signalIndex})`)
  }
  const opinions = Object.entries(m.opinions.summary).filter(([, n]) => n > 0)
  if (opinions.length) {
    lines.push(`  opinions: ${opinions.map(([o, n]) => `${n} ${o}`).join(', ')} (${m.opinions.members.map((o) => `${o.name ?? o.member.slice(0, 12)}: ${o.opinion}${o.ignored ? ` (not counted: ${o.ignored})` : ''}`).join(', ')})`)
  }
  return lines
}

export function register(program: Command): void {
  program
    .command('match')
    .description('ask the running node whether members flagged FILE (image or video) or the given hashes; exit 0 on a match, 1 on none, 2 on error')
    .argument('[file]', 'image or video file')
    .addOption(dataOption())
    .option('--pdq <hex>', 'a PDQ hash (repeatable)', collect, [])
    .option('--md5 <hex>', 'an MD5 hash (repeatable)', collect, [])
    .option('--sha256 <hex>', 'a SHA-256 hash (repeatable)', collect, [])
    .option('--threshold <bits>', 'PDQ Hamming threshold', parseIntOption('--threshold'))
    .option('--dihedral', 'also match rotated and flipped copies (files only)')
    .option('--json', 'print JSON')
    .action(async (file: string | undefined, opts: { data: string; pdq: string[]; md5: string[]; sha256: string[]; threshold?: number; dihedral?: boolean; json?: boolean }) => {
      const signals = [
        ...opts.pdq.map((value) => ({ type: 'pdq' as const, value: requireHex('pdq', value, '--pdq') })),
        ...opts.md5.map((value) => ({ type: 'md5' as const, value: requireHex('md5', value, '--md5') })),
        ...opts.sha256.map((value) => ({ type: 'sha256' as const, value: requireHex('sha256', value, '--sha256') })),
      ]
      if (file && signals.length) usageError('give a FILE or hashes, not both')
      if (!file && signals.length === 0) usageError('nothing to match: give a FILE or --pdq/--md5/--sha256')
      const bytes = file ? await readFile(file) : undefined // a missing file is reported before the node is asked
      const client = await connect(opts.data, { preferRemote: true })
      let result: MatchResponse
      try {
        if (client.mode === 'local') throw new CliError('NODE_NOT_RUNNING', `no node is running on ${opts.data}: matching needs the node's index`, `start it with "hashmesh start --data ${opts.data}"`)
        result = bytes
          ? await client.matchMedia(bytes, { dihedral: opts.dihedral, threshold: opts.threshold })
          : await client.match({ signals, ...(opts.threshold !== undefined ? { threshold: opts.threshold } : {}) })
      } finally {
        await client.close()
      }
      if (opts.json) printJson(result)
      else if (result.matches.length === 0) printLine('no match')
      else for (const m of result.matches) for (const line of describeMatch(m)) printLine(line)
      process.exitCode = result.matches.length > 0 ? EXIT.OK : EXIT.NEGATIVE
    })

  program
    .command('peers')
    .description('peers the running node is connected to')
    .addOption(dataOption())
    .option('--json', 'print JSON')
    .action(async (opts: { data: string; json?: boolean }) => {
      const running = findRunningNode(opts.data)
      if (!running) throw new CliError('NODE_NOT_RUNNING', `no node is running on ${opts.data}`, `start one with "hashmesh start --data ${opts.data}"`)
      const client = remoteClient(opts.data, running)
      const status = await client.status()
      const peers = await client.peers()
      if (opts.json) return printJson({ peers })
      if (peers.length === 0) printLine(status.network ? 'no peers connected' : 'p2p is off (no roster installed)')
      const names = peers.length ? (await memberNames(client)).byPeer : new Map<string, string>()
      for (const p of peers) printLine(`${(names.get(p.peerId) ?? '(not in roster)').padEnd(16)} ${p.peerId}  ${p.direction}  ${p.addresses.join(' ')}  invalid=${p.invalid}`)
    })
}

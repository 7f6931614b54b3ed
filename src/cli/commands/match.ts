/** match and peers: asking the running node. */
import { readFile } from 'node:fs/promises'
import type { Command } from 'commander'
import { fail } from '../../errors.js'
import { collect, dataOption, parseIntOption } from '../common.js'
import { openClient, readRunningNode } from '../node-client.js'
import { printJson, printLine } from '../output.js'
import { HttpNodeClient } from '../http-client.js'
import { readApiToken } from '../../node/identity.js'
import type { MatchResponse } from '../../node/contract.js'

export function register(program: Command): void {
  program
    .command('match')
    .description('ask the running node whether members flagged FILE (image or video) or the given hashes')
    .argument('[file]', 'image or video file')
    .addOption(dataOption())
    .option('--pdq <hex>', 'a PDQ hash (repeatable)', collect, [])
    .option('--md5 <hex>', 'an MD5 hash (repeatable)', collect, [])
    .option('--sha256 <hex>', 'a SHA-256 hash (repeatable)', collect, [])
    .option('--threshold <bits>', 'PDQ Hamming threshold', parseIntOption('--threshold'))
    .option('--dihedral', 'also match rotated and flipped copies (files only)')
    .option('--json', 'print JSON')
    .action(async (file: string | undefined, opts: { data: string; pdq: string[]; md5: string[]; sha256: string[]; threshold?: number; dihedral?: boolean; json?: boolean }) => {
      const client = await openClient(opts.data, { preferRemote: true })
      try {
        let result: MatchResponse
        if (file) {
          result = await client.matchMedia(await readFile(file), { dihedral: opts.dihedral, threshold: opts.threshold })
        } else {
          const signals = [...opts.pdq.map((value) => ({ type: 'pdq' as const, value })), ...opts.md5.map((value) => ({ type: 'md5' as const, value })), ...opts.sha256.map((value) => ({ type: 'sha256' as const, value }))]
          if (signals.length === 0) fail('BAD_REQUEST', 'give a FILE or --pdq/--md5/--sha256')
          result = await client.match({ signals, ...(opts.threshold !== undefined ? { threshold: opts.threshold } : {}) })
        }
        if (opts.json) return printJson(result)
        if (result.matches.length === 0) printLine('no match')
        for (const m of result.matches) {
          const who = m.records.map((r) => `${r.member.name ?? r.member.key.slice(0, 12)} [${r.labels.join(' ')}]${r.signatureVerified ? ' signature ok' : ' SIGNATURE BAD'}${r.equivocated ? ' FEED FORKED' : ''}`).join('; ')
          const frames = m.frames ? ` frames at ${m.frames.map((f) => (f.ms / 1000).toFixed(1) + 's').join(', ')}` : ''
          printLine(`${m.status.padEnd(10)} ${m.type} ${m.value} distance ${m.distance}${frames}: ${who}${m.reasons.length ? ` (${m.reasons.join('; ')})` : ''}`)
        }
      } finally {
        await client.close()
      }
    })

  program
    .command('peers')
    .description('peers the running node is connected to')
    .addOption(dataOption())
    .option('--json', 'print JSON')
    .action(async (opts: { data: string; json?: boolean }) => {
      const running = readRunningNode(opts.data)
      if (!running) fail('NODE_UNREACHABLE', `no node is running on ${opts.data}: start one with "hashmesh start --data ${opts.data}"`)
      const client = new HttpNodeClient(running.apiUrl, readApiToken(opts.data))
      const status = await client.status()
      const peers = await client.peers()
      if (opts.json) return printJson({ peers })
      if (peers.length === 0) printLine(status.network ? 'no peers connected' : 'p2p is off (no roster installed)')
      for (const p of peers) printLine(`${p.peerId}  ${p.direction}  ${p.addresses.join(' ')}  invalid=${p.invalid}`)
    })
}

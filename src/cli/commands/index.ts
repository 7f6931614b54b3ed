/**
 * The command registry. Start-up time matters (`--help`, and every command that asks a running node): a
 * command's module, and with it sharp, level, libp2p or fastify, is imported only when that command runs.
 * `--help` lists the commands from this table without importing any of them.
 */
import type { Command } from 'commander'

interface CommandModule { register(program: Command): void }

interface CommandEntry { name: string; summary: string; load: () => Promise<CommandModule> }

/** Each command module exports `register(program)`, which defines its commands in full. */
export const COMMANDS: readonly CommandEntry[] = [
  { name: 'init', summary: 'create a data directory: member signing key, libp2p peer key, API token, config', load: () => import('./init.js') },
  { name: 'start', summary: 'run the node: HTTP API on 127.0.0.1, p2p replication, match index', load: () => import('./start.js') },
  { name: 'status', summary: 'a summary of the node: member, roster, records, index, peers', load: () => import('./read.js') },
  { name: 'submit', summary: 'sign fingerprints (given, or computed from files and directories) into your own feed', load: () => import('./contribute.js') },
  { name: 'revoke', summary: 'revoke your own record (or one signal in it)', load: () => import('./contribute.js') },
  { name: 'opinion', summary: 'record your view on another member\'s signal', load: () => import('./contribute.js') },
  { name: 'match', summary: 'ask the running node whether members flagged a file or hashes (exit 0 match, 1 none)', load: () => import('./match.js') },
  { name: 'peers', summary: 'peers the running node is connected to', load: () => import('./match.js') },
  { name: 'list', summary: 'list feeds (heads), or the records of one feed', load: () => import('./read.js') },
  { name: 'show', summary: 'show one record with its signed bytes', load: () => import('./read.js') },
  { name: 'export', summary: 'write signed records as JSON Lines, or a bank, feeds or the replica as a hash list (--format csv, misp, stix, …)', load: () => import('./transfer.js') },
  { name: 'import', summary: 'verify and append records from a JSON Lines export, or import a hash list into a bank or your feed', load: () => import('./transfer.js') },
  { name: 'verify', summary: 'offline audit of an export (exit 0 only if all valid)', load: () => import('./transfer.js') },
  { name: 'hash', summary: 'PDQ, MD5, SHA-256 of images and vPDQ of videos (directories walked)', load: () => import('./hash.js') },
  { name: 'roster', summary: 'membership: roster init | propose | sign | install | show', load: () => import('./roster.js') },
  { name: 'psk', summary: 'write a new pre-shared key file (libp2p pnet)', load: () => import('./start.js') },
  { name: 'token', summary: 'rotate the HTTP API bearer token', load: () => import('./start.js') },
  { name: 'switch', summary: 'local switches: suspend a member\'s feed, disable a signal or record, resume (this node only)', load: () => import('./local-controls.js') },
  { name: 'quarantine', summary: 'flood quarantine: list records held back from matching, release them', load: () => import('./local-controls.js') },
  { name: 'incident', summary: 'incidents: declare | update | close | list | show (the crisis fast path)', load: () => import('./local-controls.js') },
  { name: 'bank', summary: 'banks (HMA\'s curated signal collections): bank create | list | add | disable | delete | show', load: () => import('./bank.js') },
  { name: 'exchange', summary: 'exchanges: sources filling a bank of their name on a schedule: exchange add | list | show | fetch | remove | credentials', load: () => import('./exchange.js') },
  { name: 'doctor', summary: 'check a data directory (keys, config, roster, ports, peers) and print what to fix', load: () => import('./doctor.js') },
]

/** The command named on the command line (`hashmesh [global options] NAME …` or `hashmesh help NAME`). */
export function commandNameFrom(argv: readonly string[]): string | undefined {
  const words = argv.filter((a) => !a.startsWith('-'))
  return words[0] === 'help' ? words[1] : words[0]
}

/**
 * Registers the command about to run in full (importing its module only), and every other command as a
 * one-line entry for `--help` and for "unknown command" suggestions.
 */
export async function registerCommands(program: Command, argv: readonly string[]): Promise<void> {
  const name = commandNameFrom(argv)
  const entry = COMMANDS.find((c) => c.name === name)
  const module = entry ? await entry.load() : undefined
  module?.register(program)
  const defined = new Set(program.commands.map((c) => c.name()))
  for (const c of COMMANDS) if (!defined.has(c.name)) program.command(c.name).description(c.summary)
}

/**
 * roster init | propose | sign | install | show — membership without a central server.
 * The ceremony: founders exchange `hashmesh init --json` outputs; one runs `roster init`; each signs the
 * file with `roster sign`; every node runs `roster install` (which pins the genesis id in its config).
 */
import { readFileSync, writeFileSync } from 'node:fs'
import type { Command } from 'commander'
import { fail } from '../../errors.js'
import { rosterFromJson, rosterId, rosterToJson, signRoster, type RosterDocument, type RosterMember, type SignedRoster } from '../../record/roster.js'
import { Signer } from '../../record/crypto.js'
import { loadIdentity } from '../../node/identity.js'
import { collect, dataOption } from '../common.js'
import { openClient } from '../node-client.js'
import { printJson, printLine } from '../output.js'

/** A member from an identity file (`init --json` output or identity.json) or "name:key[:peerId,peerId]". */
function parseMember(spec: string): RosterMember {
  if (spec.endsWith('.json')) {
    const id = JSON.parse(readFileSync(spec, 'utf8')) as { name?: string; memberKey?: string; peerId?: string }
    if (!id.name || !id.memberKey) fail('BAD_REQUEST', `${spec} must hold name and memberKey (the output of "hashmesh init --json")`)
    return { name: id.name, key: id.memberKey, peers: id.peerId ? [id.peerId] : [] }
  }
  const [name, key, peers] = spec.split(':')
  if (!name || !key) fail('BAD_REQUEST', `member "${spec}" must be NAME:KEY[:PEER,PEER] or an identity JSON file`)
  return { name, key: key.toLowerCase(), peers: peers ? peers.split(',') : [] }
}

function show(roster: ReturnType<typeof rosterFromJson>): void {
  const d = roster.document
  printLine(`roster ${rosterId(d)}  federation ${d.federation}  serial ${d.serial}${d.prev ? `  prev ${d.prev}` : '  (genesis)'}`)
  for (const m of d.members) {
    const signed = roster.signatures.some((s) => s.key === m.key) ? 'signed' : 'not signed'
    printLine(`  ${m.name.padEnd(20)} ${m.key}  ${signed}  peers: ${m.peers.join(', ') || '-'}`)
  }
}

/** The roster versions installed on the node (from the running node, or from its store). */
async function installedVersions(dataDir: string): Promise<SignedRoster[]> {
  const client = await openClient(dataDir, { preferRemote: true })
  try {
    return (await client.roster()).versions
  } finally {
    await client.close()
  }
}

/** Installs through the running node (it then gossips the version), or directly into the store. */
async function installViaNode(dataDir: string, text: string): Promise<Record<string, unknown>> {
  const roster = rosterFromJson(text)
  const client = await openClient(dataDir, { preferRemote: true })
  try {
    return { ...(await client.installRoster(roster)) }
  } finally {
    await client.close()
  }
}

export function register(program: Command): void {
  const roster = program.command('roster').description('the federation\'s member list, signed by the members')

  roster
    .command('init')
    .description('write an unsigned genesis roster listing the founders')
    .requiredOption('--federation <id>', 'federation id (short lowercase name)')
    .requiredOption('-m, --member <spec>', 'identity JSON file or NAME:KEY[:PEER,PEER] (repeatable)', collect, [])
    .requiredOption('-o, --out <file>', 'roster file to write')
    .action((opts: { federation: string; member: string[]; out: string }) => {
      const document: RosterDocument = { federation: opts.federation, serial: 1, prev: null, members: opts.member.map(parseMember), createdAt: Date.now() }
      writeFileSync(opts.out, rosterToJson({ document, signatures: [] }), { flag: 'wx' })
      printLine(`wrote genesis roster ${rosterId(document)} to ${opts.out}; every founder must now run "hashmesh roster sign ${opts.out} --data DIR"`)
    })

  roster
    .command('propose')
    .description('write the next roster version (add or remove members, change peer ids) for members to sign')
    .addOption(dataOption())
    .option('--add <spec>', 'member to add (repeatable)', collect, [])
    .option('--remove <key>', 'member key to remove (repeatable)', collect, [])
    .option('--set-peers <key=peers>', 'replace a member\'s peer ids: KEY=PEER,PEER (repeatable)', collect, [])
    .requiredOption('-o, --out <file>', 'roster file to write')
    .action(async (opts: { data: string; add: string[]; remove: string[]; setPeers: string[]; out: string }) => {
      const current = (await installedVersions(opts.data)).at(-1)
      if (!current) fail('ROSTER_INVALID', 'this node has no roster yet: install the genesis first')
      let members = current.document.members.filter((m) => !opts.remove.includes(m.key))
      if (members.length === current.document.members.length && opts.remove.length > 0) fail('BAD_REQUEST', 'no member has the key given to --remove')
      for (const spec of opts.setPeers) {
        const [key, peers] = spec.split('=')
        const m = members.find((x) => x.key === key)
        if (!m) fail('BAD_REQUEST', `no member ${key}`)
        members = members.map((x) => (x.key === key ? { ...x, peers: peers ? peers.split(',') : [] } : x))
      }
      members = [...members, ...opts.add.map(parseMember)]
      const document: RosterDocument = { federation: current.document.federation, serial: current.document.serial + 1, prev: current.id, members, createdAt: Date.now() }
      writeFileSync(opts.out, rosterToJson({ document, signatures: [] }), { flag: 'wx' })
      printLine(`wrote roster ${rosterId(document)} (serial ${document.serial}); it needs signatures from a majority of the ${current.document.members.length} current members`)
    })

  roster
    .command('sign')
    .description('add your member signature to a roster file (in place)')
    .argument('<file>')
    .addOption(dataOption())
    .action((file: string, opts: { data: string }) => {
      const signer = new Signer(loadIdentity(opts.data).memberKeyPair)
      const signed = signRoster(rosterFromJson(readFileSync(file, 'utf8')), signer)
      writeFileSync(file, rosterToJson(signed))
      printLine(`signed roster ${signed.id} as ${signer.publicKeyHex} (${signed.signatures.length} signatures)`)
    })

  roster
    .command('install')
    .description('verify a roster version and install it on this node (pins the genesis); it then spreads by gossip')
    .argument('<file>')
    .addOption(dataOption())
    .action(async (file: string, opts: { data: string }) => {
      const result = await installViaNode(opts.data, readFileSync(file, 'utf8'))
      printLine(`roster ${String(result.id)}: ${String(result.verdict)}`)
    })

  roster
    .command('show')
    .description('show a roster file, or the roster installed on the node')
    .argument('[file]')
    .option('-d, --data <dir>', 'the node\'s data directory')
    .option('--json', 'print JSON')
    .action(async (file: string | undefined, opts: { data?: string; json?: boolean }) => {
      if (file) {
        const r = rosterFromJson(readFileSync(file, 'utf8'))
        return opts.json ? printJson({ id: rosterId(r.document), ...r }) : show(r)
      }
      if (!opts.data) fail('BAD_REQUEST', 'give a roster FILE or --data DIR')
      const current = (await installedVersions(opts.data)).at(-1)
      if (opts.json) return printJson(current ?? null)
      if (!current) return printLine('no roster installed')
      show(current)
    })
}

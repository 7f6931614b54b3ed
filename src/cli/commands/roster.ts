/**
 * roster init | propose | sign | install | show — membership without a central server.
 * The ceremony: founders exchange the member cards `hashmesh init` writes; one runs `roster init`; each
 * signs the file with `roster sign`; every node runs `roster install` (which pins the genesis id in its
 * config). A member joining later installs the whole chain at once: `roster install genesis.json roster-2.json`.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import type { Command } from 'commander'
import { fail } from '../../errors.js'
import { rosterFromJson, rosterId, rosterToJson, signRoster, type RosterDocument, type RosterMember, type SignedRoster } from '../../record/roster.js'
import { Signer } from '../../record/crypto.js'
import { loadIdentity } from '../../node/identity.js'
import { collect, dataOption } from '../common.js'
import { openClient } from '../node-client.js'
import { printJson, printLine } from '../output.js'

/** A member from a member card (`hashmesh init` writes DIR/member-card.json), identity.json, or "name:key[:peerId,peerId]". */
function parseMember(spec: string): RosterMember {
  if (spec.endsWith('.json') || existsSync(spec)) {
    let id: { name?: string; memberKey?: string; peerId?: string }
    try {
      id = JSON.parse(readFileSync(spec, 'utf8')) as typeof id
    } catch (err) {
      if (err instanceof SyntaxError) fail('BAD_REQUEST', `${spec} is not JSON: give the member card that "hashmesh init" wrote (DIR/member-card.json)`)
      throw err
    }
    if (!id.name || !id.memberKey) fail('BAD_REQUEST', `${spec} must hold name and memberKey: give the member card that "hashmesh init" wrote (DIR/member-card.json)`)
    return { name: id.name, key: id.memberKey, peers: id.peerId ? [id.peerId] : [] }
  }
  const [name, key, peers] = spec.split(':')
  if (!name || !key) fail('BAD_REQUEST', `member "${spec}" must be NAME:KEY[:PEER,PEER] or an identity JSON file`)
  return { name, key: key.toLowerCase(), peers: peers ? peers.split(',') : [] }
}

/** A member named by key (64 hex digits) or by its name in the roster (case-insensitive). */
function memberKeyOf(members: RosterMember[], given: string, flag: string): string {
  const byKey = members.find((m) => m.key === given.toLowerCase())
  if (byKey) return byKey.key
  const byName = members.filter((m) => m.name.toLowerCase() === given.toLowerCase())
  if (byName.length === 1) return byName[0]!.key
  const list = members.map((m) => `${m.name} ${m.key.slice(0, 16)}…`).join(', ')
  fail('BAD_REQUEST', `${flag} ${given}: ${byName.length > 1 ? 'several members have that name; give the member key' : 'no member has that key or name'}; the members are ${list} ("hashmesh roster show --data DIR" prints the full keys)`)
}

function show(roster: ReturnType<typeof rosterFromJson>): void {
  const d = roster.document
  printLine(`roster ${rosterId(d)}  federation ${d.federation}  serial ${d.serial}${d.prev ? `  prev ${d.prev}` : '  (genesis)'}`)
  for (const m of d.members) {
    const signed = roster.signatures.some((s) => s.key === m.key) ? 'signed' : 'not signed'
    printLine(`  ${m.name.padEnd(20)} ${m.key}  ${signed}  peers: ${m.peers.join(', ') || '-'}`)
  }
}

/**
 * Who has signed, counted as "roster install" will count: every founder for a genesis; after it, a strict
 * majority of the previous version's members (a signature from anyone else, e.g. the member being added,
 * does not count). `prev` is that previous version when this node holds it.
 */
export function signingProgress(roster: Omit<SignedRoster, 'id'>, prev: SignedRoster | undefined, signerKey: string, file: string): string[] {
  const signedBy = new Set(roster.signatures.map((s) => s.key))
  const names = (members: RosterMember[]) => members.map((m) => m.name).join(', ')
  const install = `install it with "hashmesh roster install ${file} --data DIR"`
  const doc = roster.document
  if (!doc.prev) {
    const missing = doc.members.filter((m) => !signedBy.has(m.key))
    if (missing.length === 0) return [`every founder has signed: ${install} on every founder's node`]
    return [`${doc.members.length - missing.length} of ${doc.members.length} founders have signed; still to sign: ${names(missing)} (each runs "hashmesh roster sign ${file} --data DIR")`]
  }
  if (!prev) return [`this node does not hold serial ${doc.serial - 1}, the version this one follows, so it cannot count the majority here; "hashmesh roster show ${file}" lists who signed`]
  const voters = prev.document.members
  const needed = Math.floor(voters.length / 2) + 1
  const votes = voters.filter((m) => signedBy.has(m.key)).length
  const lines: string[] = []
  if (!voters.some((m) => m.key === signerKey)) lines.push(`note: this member is not in serial ${prev.document.serial}, so its signature does not count toward the majority`)
  if (votes >= needed) lines.push(`${votes} of the ${voters.length} members of serial ${prev.document.serial} have signed (${needed} needed): ${install} on one member's node; it spreads by gossip`)
  else lines.push(`${votes} of the ${voters.length} members of serial ${prev.document.serial} have signed; ${needed} needed. Not signed yet: ${names(voters.filter((m) => !signedBy.has(m.key)))}`)
  return lines
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

/** The roster versions in a file: one version, an array of them, or `{ versions: [...] }`. */
function readRosterFile(file: string): SignedRoster[] {
  const text = readFileSync(file, 'utf8')
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    if (err instanceof SyntaxError) fail('ROSTER_INVALID', `${file} is not JSON: give roster files written by "hashmesh roster init" or "roster propose"`)
    throw err
  }
  const list = Array.isArray(value) ? value : (value as { versions?: unknown }).versions ?? [value]
  if (!Array.isArray(list)) fail('ROSTER_INVALID', `${file}: "versions" must be a list of roster versions`)
  return list.map((v) => {
    const r = rosterFromJson(JSON.stringify(v))
    return { ...r, id: rosterId(r.document) }
  })
}

/**
 * The versions to install after what the node holds, in serial order: each one must follow the previous
 * one (serial + 1, prev = its id). A gap fails naming the missing serial.
 */
export function chainToInstall(given: SignedRoster[], installed: SignedRoster[]): SignedRoster[] {
  const bySerial = new Map<number, SignedRoster>()
  for (const r of given) {
    const other = bySerial.get(r.document.serial)
    if (other && other.id !== r.id) fail('ROSTER_INVALID', `two different roster versions with serial ${r.document.serial} (${other.id}, ${r.id})`)
    bySerial.set(r.document.serial, r)
  }
  const top = Math.max(0, ...bySerial.keys())
  let head = installed.at(-1)
  const out: SignedRoster[] = []
  for (let serial = (head?.document.serial ?? 0) + 1; serial <= top; serial++) {
    const next = bySerial.get(serial)
    if (!next) {
      const have = [...bySerial.keys()].sort((a, b) => a - b).join(', ')
      const installedText = head ? `this node has up to serial ${installed.at(-1)!.document.serial}` : 'this node has no roster yet'
      fail('ROSTER_INVALID', `cannot complete the roster chain: serial ${serial}${serial === 1 ? ' (the genesis)' : ''} is missing (given: serials ${have}; ${installedText}); add its file, e.g. "hashmesh roster show --all --json --data DIR" on a member's node exports the chain`)
    }
    if (head && next.document.prev !== head.id) fail('ROSTER_INVALID', `roster serial ${serial} follows ${next.document.prev}, not ${head.id} (serial ${head.document.serial}): it belongs to another chain`)
    out.push(next)
    head = next
  }
  return out
}

export function register(program: Command): void {
  const roster = program.command('roster').description('the federation\'s member list, signed by the members')

  roster
    .command('init')
    .description('write an unsigned genesis roster listing the founders')
    .requiredOption('--federation <id>', 'federation id (short lowercase name)')
    .requiredOption('-m, --member <spec>', 'a founder\'s member card file (or NAME:KEY[:PEER,PEER]) (repeatable)', collect, [])
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
    .option('--add <card>', 'member to add: its member card file (or NAME:KEY[:PEER,PEER]) (repeatable)', collect, [])
    .option('--remove <member>', 'member to remove: its member key or name (repeatable)', collect, [])
    .option('--set-peers <member=peers>', 'replace a member\'s peer ids: KEY=PEER,PEER or NAME=PEER,PEER (repeatable)', collect, [])
    .requiredOption('-o, --out <file>', 'roster file to write')
    .action(async (opts: { data: string; add: string[]; remove: string[]; setPeers: string[]; out: string }) => {
      const current = (await installedVersions(opts.data)).at(-1)
      if (!current) fail('ROSTER_INVALID', 'this node has no roster yet: install the genesis first')
      const removeKeys = opts.remove.map((given) => memberKeyOf(current.document.members, given, '--remove'))
      let members = current.document.members.filter((m) => !removeKeys.includes(m.key))
      for (const spec of opts.setPeers) {
        const [given = '', peers] = spec.split('=')
        const key = memberKeyOf(members, given, '--set-peers')
        members = members.map((x) => (x.key === key ? { ...x, peers: peers ? peers.split(',') : [] } : x))
      }
      members = [...members, ...opts.add.map(parseMember)]
      const document: RosterDocument = { federation: current.document.federation, serial: current.document.serial + 1, prev: current.id, members, createdAt: Date.now() }
      writeFileSync(opts.out, rosterToJson({ document, signatures: [] }), { flag: 'wx' })
      const voters = current.document.members
      printLine(`wrote roster ${rosterId(document)} (serial ${document.serial}) to ${opts.out}; it needs signatures from ${Math.floor(voters.length / 2) + 1} of the ${voters.length} members of serial ${current.document.serial} (${voters.map((m) => m.name).join(', ')}): each runs "hashmesh roster sign ${opts.out} --data DIR"`)
    })

  roster
    .command('sign')
    .description('add your member signature to a roster file (in place)')
    .argument('<file>')
    .addOption(dataOption())
    .action(async (file: string, opts: { data: string }) => {
      const identity = loadIdentity(opts.data)
      const signer = new Signer(identity.memberKeyPair)
      const signed = signRoster(rosterFromJson(readFileSync(file, 'utf8')), signer)
      writeFileSync(file, rosterToJson(signed))
      printLine(`signed roster ${signed.id} (serial ${signed.document.serial}) as ${identity.name} (${signer.publicKeyHex.slice(0, 16)}…)`)
      const prev = signed.document.prev ? (await installedVersions(opts.data)).find((v) => v.id === signed.document.prev) : undefined
      for (const line of signingProgress(signed, prev, signer.publicKeyHex, file)) printLine(line)
    })

  roster
    .command('install')
    .description('verify roster versions and install them on this node, genesis first (pins it); give the whole chain as files or one bundle, in any order; it then spreads by gossip')
    .argument('<files...>', 'roster files (one version each) or bundles (a JSON array of versions, or "roster show --all --json" output)')
    .addOption(dataOption())
    .action(async (files: string[], opts: { data: string }) => {
      const installed = await installedVersions(opts.data)
      const chain = chainToInstall(files.flatMap(readRosterFile), installed)
      if (chain.length === 0) return printLine(`nothing to install: serial ${installed.at(-1)?.document.serial} is already installed`)
      for (const version of chain) {
        const result = await installViaNode(opts.data, rosterToJson(version))
        if (result.verdict !== 'accepted' && result.verdict !== 'duplicate') {
          fail('ROSTER_INVALID', `roster serial ${version.document.serial} (${String(result.id)}) was not installed: ${String(result.verdict)} ${String(result.code ?? '')} ${String(result.message ?? '')}`.trim())
        }
        printLine(`roster ${String(result.id)} (serial ${version.document.serial}, ${version.document.members.length} members): ${String(result.verdict)}`)
      }
    })

  roster
    .command('show')
    .description('show a roster file, or the roster installed on the node')
    .argument('[file]')
    .option('-d, --data <dir>', 'the node\'s data directory')
    .option('--json', 'print JSON')
    .option('--all', 'every installed version, genesis first (with --json: a bundle "roster install" takes)')
    .action(async (file: string | undefined, opts: { data?: string; json?: boolean; all?: boolean }) => {
      if (file) {
        const r = rosterFromJson(readFileSync(file, 'utf8'))
        return opts.json ? printJson({ id: rosterId(r.document), ...r }) : show(r)
      }
      if (!opts.data) fail('BAD_REQUEST', 'give a roster FILE or --data DIR')
      const versions = await installedVersions(opts.data)
      if (opts.all) return opts.json ? printJson(versions) : versions.forEach(show)
      const current = versions.at(-1)
      if (opts.json) return printJson(current ?? null)
      if (!current) return printLine('no roster installed')
      show(current)
    })
}

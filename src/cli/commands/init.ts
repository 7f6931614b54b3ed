/** init: a new data directory, its network settings from flags, and the public member card to send. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Command } from 'commander'
import { CliError } from '../fail.js'
import { collect, dataOption, parseIntOption } from '../common.js'
import { printJson, printLine } from '../output.js'

interface InitFlags { data: string; name: string; apiPort?: number; p2pPort?: number; listen: string[]; announce: string[]; bootstrap: string[]; card?: string; json?: boolean }

/** A --bootstrap value: a multiaddr, or a member card file whose addresses are used. */
function cardOrAddress(value: string): string[] {
  if (!existsSync(value)) {
    // anything that does not start like a multiaddr was meant as a card file (a path may start with "/" too)
    if (!/^\/(ip4|ip6|dns|dns4|dns6|dnsaddr|p2p)\//.test(value)) throw new CliError('FILE_NOT_FOUND', `--bootstrap ${value}: no such member card file, and not a multiaddr`, 'give the card file another member sent (check the path), or its card address (/ip4/203.0.113.7/tcp/4001/p2p/12D3KooW…)')
    return [value]
  }
  let card: { addresses?: unknown }
  try {
    card = JSON.parse(readFileSync(value, 'utf8')) as typeof card
  } catch (err) {
    if (err instanceof SyntaxError) return [value] // not a card: validated as an address, which names it
    throw err
  }
  return Array.isArray(card.addresses) ? card.addresses.map(String) : [value]
}

export function register(program: Command): void {
  program
    .command('init')
    .description('create a data directory (member signing key, libp2p peer key, API token, config) and print the public member card to send to the other members')
    .addOption(dataOption())
    .requiredOption('-n, --name <org>', 'the member organisation\'s name')
    .option('--api-port <port>', 'HTTP API port for this node', parseIntOption('--api-port'))
    .option('--p2p-port <port>', 'TCP port for p2p (listens on every interface at it unless --listen is given)', parseIntOption('--p2p-port'))
    .option('--listen <multiaddr>', 'p2p listen address, e.g. /ip4/0.0.0.0/tcp/4001 (repeatable)', collect, [])
    .option('--announce <multiaddr>', 'address other members dial, e.g. /dns4/hashmesh.example.org/tcp/4001 (repeatable)', collect, [])
    .option('--bootstrap <multiaddr|card>', 'another member\'s address ending in /p2p/<peerId>, or its member card file (repeatable)', collect, [])
    .option('--card <file>', 'also write the member card to FILE')
    .option('--json', 'print the member card as JSON (nothing secret)')
    .action(async (opts: InitFlags) => {
      const { CARD_FILE, FILES, cardAddresses, initDataDir, memberCard, p2pConfigFromOptions } = await import('../../node/identity.js')
      const { loadConfig } = await import('../../config.js')
      // every flag is checked before anything is written
      const p2p = p2pConfigFromOptions({ listen: opts.listen, announce: opts.announce, bootstrap: opts.bootstrap.flatMap(cardOrAddress), p2pPort: opts.p2pPort })
      const id = await initDataDir(opts.data, { name: opts.name, apiPort: opts.apiPort, config: Object.keys(p2p).length > 0 ? { p2p } : {} })
      const config = loadConfig({ dataDir: id.dataDir })
      const card = memberCard(id, cardAddresses(id.peerId, config.p2p))
      const text = JSON.stringify(card, null, 2) + '\n'
      const cardPath = join(id.dataDir, CARD_FILE)
      writeFileSync(cardPath, text)
      if (opts.card) writeFileSync(opts.card, text)
      if (opts.json) return printJson(card)
      printLine(`initialised ${id.dataDir} for ${id.name}`)
      printLine(`member key   ${id.memberKey}`)
      printLine(`peer id      ${id.peerId}`)
      printLine(`addresses    ${card.addresses.join(' ') || '(none others can dial: set --announce, or --listen on a reachable address)'}`)
      printLine(`member card  ${opts.card ?? cardPath}  <- send this file to the founders (or to the member proposing your addition); it holds nothing secret`)
      printLine(`api token    ${join(id.dataDir, FILES.apiToken)} (mode 0600: local services send it as "Authorization: Bearer …"; never send it to anyone)`)
      printLine(`next         hashmesh doctor --data ${opts.data}`)
    })
}

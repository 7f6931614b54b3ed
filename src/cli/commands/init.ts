import type { Command } from 'commander'
import { initDataDir } from '../../node/identity.js'
import { dataOption, parseIntOption } from '../common.js'
import { printJson, printLine } from '../output.js'

export function register(program: Command): void {
  program
    .command('init')
    .description('create a data directory: member signing key, libp2p peer key, API token, config')
    .addOption(dataOption())
    .requiredOption('-n, --name <org>', 'the member organisation\'s name')
    .option('--api-port <port>', 'HTTP API port for this node', parseIntOption('--api-port'))
    .option('--json', 'print one JSON object')
    .action(async (opts: { data: string; name: string; apiPort?: number; json?: boolean }) => {
      const id = await initDataDir(opts.data, { name: opts.name, apiPort: opts.apiPort })
      if (opts.json) {
        printJson({ memberKey: id.memberKey, peerId: id.peerId, dataDir: id.dataDir, apiToken: id.apiToken, name: id.name })
        return
      }
      printLine(`initialised ${id.dataDir} for ${id.name}`)
      printLine(`member key  ${id.memberKey}`)
      printLine(`peer id     ${id.peerId}`)
      printLine(`api token   stored in ${id.dataDir}/api.token (mode 0600)`)
    })
}

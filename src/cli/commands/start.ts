/** start: run the node (match index, p2p, HTTP API) until SIGINT/SIGTERM. */
import { Option, type Command } from 'commander'
import { dataOption, parseIntOption } from '../common.js'
import { printLine } from '../output.js'
import { prettyDestination } from '../log-format.js'
import { openLogDestination } from '../log-destination.js'
import { CliError } from '../fail.js'
import { findRunningNode } from '../running-node.js'
import { MALLOC_TUNABLE, hasMmapThreshold, missingNodeFlags, runsOnGlibc } from '../node-flags.js'
import { LOG_LEVELS } from '../../config.js'

export function register(program: Command): void {
  program
    .command('start')
    .description('run the node: HTTP API on 127.0.0.1, p2p replication with the roster\'s members, match index')
    .addOption(dataOption())
    .option('--api-port <port>', 'override api.port', parseIntOption('--api-port'))
    .addOption(new Option('--log-level <level>', 'how much the node logs (default: log.level, info)').choices(LOG_LEVELS)) // (a wrong one: USAGE, not pino's exception)
    .action(async (opts: { data: string; apiPort?: number; logLevel?: string }) => {
      const other = findRunningNode(opts.data)
      if (other) throw new CliError('STORE_LOCKED', `a node already runs on ${opts.data} (pid ${other.pid}, API ${other.apiUrl})`, `stop it first (kill ${other.pid}); while it runs, commands such as "hashmesh status --data ${opts.data}" talk to it`)
      const { default: pino } = await import('pino')
      const { loadConfig } = await import('../../config.js')
      const { runNode } = await import('../../api/run-node.js')
      const config = loadConfig({ dataDir: opts.data })
      // ISO timestamps; readable lines on a terminal (log-format.ts), JSON otherwise, written asynchronously
      // (log-destination.ts, which also ends the stream before the node exits).
      const destination = process.stderr.isTTY ? undefined : openLogDestination()
      const closeLog = () => destination?.close() ?? Promise.resolve()
      const logger = pino({ level: opts.logLevel ?? config.log.level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, destination?.stream ?? prettyDestination(process.stderr))
      const missing = missingNodeFlags()
      if (missing.length > 0) {
        logger.warn({ event: 'start.node-flags', missing, msg: `node runs without ${missing.join(' ')}, which the hashmesh command gives it: without them, V8's background threads (4 whatever the cores) and young-generation collections of up to 16 MB can hold /status up for 10-40 ms while the index is rebuilt (src/cli/node-flags.ts): start through the hashmesh command or give node those flags yourself` })
      }
      if (!hasMmapThreshold() && runsOnGlibc()) {
        logger.warn({ event: 'start.malloc-threshold', msg: `glibc's malloc runs with its moving mmap threshold, with which the index build worker's freed memory is unmapped only as its thread ends, holding the main thread (and /status) up for 20-30 ms at the end of a rebuild: start through the hashmesh command (it sets GLIBC_TUNABLES=${MALLOC_TUNABLE}) or set that yourself` })
      }
      const running = await runNode(opts.data, {
        overrides: opts.apiPort !== undefined ? { api: { port: opts.apiPort } } : undefined,
        log: (level, event, fields) => logger[level]({ event, ...fields }),
        traceRecords: logger.isLevelEnabled('trace'),
      }).catch(async (err: unknown) => {
        await closeLog() // the lines before the failure, then its one line from cli/fail.ts
        throw err
      })
      printLine(JSON.stringify({ apiUrl: running.apiUrl, peerId: running.node.identity.peerId, multiaddrs: running.network?.multiaddrs() ?? [] }))
      const shutdown = (signal: string) => {
        logger.info({ event: 'node.stopping', signal })
        running.stop().then(
          () => closeLog().then(() => process.exit(0)),
          (err: Error) => {
            logger.error({ event: 'node.stop.failed', message: err.message })
            return closeLog().then(() => process.exit(1))
          },
        )
      }
      process.once('SIGINT', () => shutdown('SIGINT'))
      process.once('SIGTERM', () => shutdown('SIGTERM'))
    })

  program
    .command('psk')
    .description('write a new pre-shared key file (libp2p pnet) for the federation; share it out of band')
    .requiredOption('-o, --out <file>', 'key file to create (mode 0600)')
    .action(async (opts: { out: string }) => {
      const { createPskFile } = await import('../../node/identity.js')
      await createPskFile(opts.out)
      printLine(`wrote ${opts.out}; give it to every member and set p2p.pskFile on every node`)
    })

  program
    .command('token')
    .description('rotate the HTTP API bearer token (a running node accepts the new token at once)')
    .addOption(dataOption())
    .action(async (opts: { data: string }) => {
      const { rotateApiToken } = await import('../../node/identity.js')
      rotateApiToken(opts.data)
      printLine(`new API token written to ${opts.data}/api.token`)
    })
}

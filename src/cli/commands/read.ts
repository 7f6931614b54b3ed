/** status, list, show: reading the replica. */
import type { Command } from 'commander'
import { dataOption, parseIntOption } from '../common.js'
import { openClient } from '../node-client.js'
import { printJson, printLine } from '../output.js'

export function register(program: Command): void {
  program
    .command('status')
    .description('the node\'s member, peer id, record and signal counts, roster')
    .addOption(dataOption())
    .option('--json', 'print JSON')
    .action(async (opts: { data: string; json?: boolean }) => {
      const client = await openClient(opts.data, { preferRemote: true })
      try {
        const status = await client.status()
        if (opts.json) return printJson(status)
        for (const [key, value] of Object.entries(status)) printLine(`${key.padEnd(16)} ${typeof value === 'object' ? JSON.stringify(value) : String(value)}`)
      } finally {
        await client.close()
      }
    })

  program
    .command('list')
    .description('list feeds (heads), or the records of one feed')
    .addOption(dataOption())
    .option('--feed <key>', 'list this feed\'s records')
    .option('--from <seq>', 'first seq', parseIntOption('--from'), 1)
    .option('--limit <n>', 'at most n records', parseIntOption('--limit'), 100)
    .option('--json', 'print JSON Lines')
    .action(async (opts: { data: string; feed?: string; from: number; limit: number; json?: boolean }) => {
      const client = await openClient(opts.data, { preferRemote: true })
      try {
        if (!opts.feed) {
          for (const head of await client.feeds()) opts.json ? printJson(head) : printLine(`${head.feed}  seq ${head.seq}  head ${head.id}`)
          return
        }
        for (const { record } of (await client.feed(opts.feed, { from: opts.from, limit: opts.limit })).records) {
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
    .argument('<id>', 'record id')
    .addOption(dataOption())
    .action(async (id: string, opts: { data: string }) => {
      const client = await openClient(opts.data, { preferRemote: true })
      try {
        process.stdout.write(JSON.stringify(await client.record(id), null, 2) + '\n')
      } finally {
        await client.close()
      }
    })
}

#!/bin/sh
//bin/true; export GLIBC_TUNABLES="glibc.malloc.mmap_threshold=1048576${GLIBC_TUNABLES:+:$GLIBC_TUNABLES}"; exec node --v8-pool-size=0 --max-semi-space-size=2 "$0" "$@"
/**
 * The hashmesh command line. The only place that prints or exits (see cli/output.ts and cli/fail.ts).
 * The two lines above run it as `node --v8-pool-size=0 --max-semi-space-size=2 <this file>`, with a malloc setting in
 * GLIBC_TUNABLES, when the kernel runs the file (node-flags.ts says why).
 */
import '../shim.js'
import { Command, CommanderError } from 'commander'
import { COMMANDS, registerCommands } from './commands/index.js'
import { requiresData } from './common.js'
import { CliError, EXIT, exitQuietlyOnEpipe, exitWithError } from './fail.js'

exitQuietlyOnEpipe()

const program = new Command()
program
  .name('hashmesh')
  .description('Federated sharing of signed perceptual hashes (PDQ, vPDQ, MD5, SHA-256) between member platforms')
  .version('0.1.0')
  .option('--debug', 'print stack traces of errors (or HASHMESH_DEBUG=1)')
  .exitOverride()
  .configureOutput({ outputError: () => undefined }) // commander's errors are reworded below, on one line
  .addHelpText('after', '\nExit codes: 0 ok; 1 a negative answer (no match, invalid records, rejected imports, failed files); 2 an error (hashmesh: CODE: message); 70 a bug.\nRun "hashmesh COMMAND --help" for a command\'s options.')

// --data is required by most commands but checked here, after commander has refused unknown options, so that
// `status --dta a` says "unknown option '--dta'" rather than that --data is missing.
program.hook('preAction', (_program, command) => {
  if (requiresData(command.options) && !command.opts().data) {
    throw new CliError('USAGE', `"${command.name()}" needs the data directory: --data DIR (or HASHMESH_DATA)`, 'the directory made by "hashmesh init --data DIR --name ORG"')
  }
})

function fromCommander(err: CommanderError): CliError | undefined {
  if (err.exitCode === 0) return undefined // --help, --version
  // commander.help: a command with subcommands was given none; the help is already on stderr
  const message = err.code === 'commander.help' ? 'give a command (listed above)' : err.message.replace(/^error: /, '').replace(/\n[\s\S]*$/, '').replace(/\.$/, '')
  const command = process.argv.slice(2).find((a) => COMMANDS.some((c) => c.name === a))
  // commander's own suggestion sits on the message's second line, "(Did you mean status?)"
  const suggestion = /\(Did you mean (\S+?)\?\)/.exec(err.message)?.[1]
  const didYouMean = suggestion ? `did you mean ${suggestion}? ` : ''
  // `bank lst`: the unknown word is one of the group's subcommands, so name those, not the top-level ones
  const group = command ? program.commands.find((c) => c.name() === command && c.commands.length > 0) : undefined
  const hint = err.code !== 'commander.unknownCommand'
    ? `${didYouMean}see "hashmesh ${command ? `${command} ` : ''}--help"`
    : group
      ? `${didYouMean}the "${command}" commands are: ${group.commands.map((c) => c.name()).join(', ')}`
      : `${didYouMean}the commands are: ${COMMANDS.map((c) => c.name).join(', ')}`
  return new CliError('USAGE', message, hint)
}

async function main(): Promise<void> {
  const args = process.argv.slice(2)
  await registerCommands(program, args)
  for (const command of program.commands) command.exitOverride().configureOutput({ outputError: () => undefined })
  try {
    await program.parseAsync(process.argv)
  } catch (err) {
    if (err instanceof CommanderError) {
      const usage = fromCommander(err)
      if (!usage) process.exit(EXIT.OK)
      throw usage
    }
    throw err
  }
}

main().catch(exitWithError)

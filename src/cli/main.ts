#!/usr/bin/env node
/** The hashmesh command line. The only place that prints or exits (see cli/output.ts). */
import '../shim.js'
import { Command } from 'commander'
import { registerCommands } from './commands/index.js'
import { exitWithError } from './output.js'

const program = new Command()
program
  .name('hashmesh')
  .description('Federated sharing of signed perceptual hashes (PDQ, vPDQ, MD5, SHA-256) between member platforms')
  .version('0.1.0')
  .showHelpAfterError()
registerCommands(program)

program.parseAsync(process.argv).catch(exitWithError)

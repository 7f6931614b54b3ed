import type { Command } from 'commander'
import * as init from './init.js'
import * as contribute from './contribute.js'
import * as read from './read.js'
import * as transfer from './transfer.js'
import * as start from './start.js'
import * as match from './match.js'
import * as roster from './roster.js'
import * as hash from './hash.js'
import * as doctor from './doctor.js'

/** Each command lives in its own file and exports `register(program)`. */
const registrations: Array<(program: Command) => void> = [init.register, contribute.register, read.register, transfer.register, hash.register, start.register, match.register, roster.register, doctor.register]

export function registerCommands(program: Command): void {
  for (const register of registrations) register(program)
}

import type { Command } from 'commander'

/** Each command lives in its own file and exports `register(program)`. */
type Register = (program: Command) => void

const registrations: Register[] = []

export function registerCommands(program: Command): void {
  for (const register of registrations) register(program)
}

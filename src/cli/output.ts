import { isHashmeshError } from '../errors.js'

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value) + '\n')
}

export function printLine(line: string): void {
  process.stdout.write(line + '\n')
}

export function printError(line: string): void {
  process.stderr.write(line + '\n')
}

/** Prints `hashmesh: CODE: message` and exits non-zero. */
export function exitWithError(err: unknown): never {
  if (isHashmeshError(err)) {
    printError(`hashmesh: ${err.code}: ${err.message}`)
    process.exit(err.code === 'INTERNAL' ? 70 : 1)
  }
  const e = err as Error
  printError(`hashmesh: INTERNAL: ${e?.stack ?? String(err)}`)
  process.exit(70)
}

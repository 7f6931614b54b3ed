/** Printing: stdout for results, stderr for errors (see cli/fail.ts for how failures are worded and exit). */
export { exitWithError } from './fail.js'

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value) + '\n')
}

export function printLine(line: string): void {
  process.stdout.write(line + '\n')
}

export function printError(line: string): void {
  process.stderr.write(line + '\n')
}

/**
 * The console's optional password file, DIR/console.password: when it exists, the console's login takes
 * that password instead of the API token, so reviewers can log in without holding the token that drives
 * the whole API. Like the token it must be readable by its owner only (mode 0600); it is read at each
 * login, so writing a new one takes effect at once (sessions already open stay until they expire).
 */
import { readFileSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fail } from '../../errors.js'

export const CONSOLE_PASSWORD_FILE = 'console.password'
/** A password shorter than this is refused (the file is the only thing between a reviewer's browser and the node). */
export const MIN_CONSOLE_PASSWORD_LENGTH = 12

/** Reads DIR/console.password: undefined when there is none; an error (500, details in the log) when it is unsafe. */
export function consolePasswordReader(dataDir: string): () => string | undefined {
  const path = join(resolve(dataDir), CONSOLE_PASSWORD_FILE)
  return () => {
    let mode: number
    try {
      mode = statSync(path).mode
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw err
    }
    if ((mode & 0o077) !== 0) fail('KEY_INVALID', `${path} is readable by others (mode ${(mode & 0o777).toString(8)}); run chmod 600 on it`)
    const password = readFileSync(path, 'utf8').trim()
    if (password.length < MIN_CONSOLE_PASSWORD_LENGTH) fail('KEY_INVALID', `${path} holds a password shorter than ${MIN_CONSOLE_PASSWORD_LENGTH} characters`)
    return password
  }
}

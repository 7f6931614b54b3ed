/**
 * How the CLI fails: every expected failure becomes one line `hashmesh: CODE: message; hint` on stderr and a
 * documented exit code (README, CLI reference). Node's system errors (ENOENT, EISDIR, EACCES, EADDRINUSE,
 * ECONNREFUSED…) and commander's usage errors are mapped here and nowhere else; a stack trace is printed only
 * with `--debug` (or HASHMESH_DEBUG=1). EPIPE on stdout (`hashmesh list | head -1`) ends the process quietly.
 */
import { isHashmeshError } from '../errors.js'

/** Exit codes, as documented in the README. */
export const EXIT = {
  OK: 0,
  /** The command ran and the answer is negative: no match, invalid records, rejected imports, files that failed. */
  NEGATIVE: 1,
  /** An expected failure: usage, input, files, the node, the network. */
  ERROR: 2,
  /** A bug: please report it with the `--debug` output. */
  INTERNAL: 70,
} as const

/** A failure the CLI itself detects (usage, files, ports), with a code of its own and a hint. */
export class CliError extends Error {
  constructor(readonly code: string, message: string, readonly hint?: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'CliError'
  }
}

export function usageError(message: string, hint?: string): never {
  throw new CliError('USAGE', message, hint)
}

/** Hints for the node's own error codes, where the message alone does not say what to do. */
const CODE_HINTS: Partial<Record<string, string>> = {
  NODE_UNREACHABLE: 'is the node running? start it with "hashmesh start --data DIR"',
  STORE_LOCKED: 'another process holds the data directory; stop it, or start the node and let commands talk to it',
  UNAUTHORIZED: 'the API token changed (hashmesh token?): commands read DIR/api.token, check its owner and mode',
  PAYLOAD_TOO_LARGE: 'split the input, or raise api.jsonBodyLimitBytes / api.bodyLimitBytes in DIR/config.json',
  MEDIA_UNSUPPORTED: 'give an image or a video file (hashmesh hash FILE tells what it makes of a file)',
  MEDIA_CORRUPT: 'the file could not be decoded: is it really an image or video?',
  BUSY: 'the node is busy decoding media; retry in a few seconds',
}

interface SystemError extends Error { code?: string; syscall?: string; path?: string; address?: string; port?: number; dest?: string }

/** The system errors a user causes, as typed CLI errors; undefined for anything else. */
export function fromSystemError(err: unknown): CliError | undefined {
  const e = err as SystemError
  if (typeof e !== 'object' || e === null || typeof e.code !== 'string' || !/^E[A-Z]+$/.test(e.code)) return undefined
  const path = e.path ?? e.dest ?? '(unknown path)'
  switch (e.code) {
    case 'ENOENT':
      return new CliError('FILE_NOT_FOUND', `no such file or directory: ${path}`, 'check the path (relative paths start from the current directory)', { cause: err })
    case 'ENOTDIR':
      return new CliError('FILE_NOT_FOUND', `not a directory: ${path}`, 'a part of the path is a file', { cause: err })
    case 'EEXIST':
      return new CliError('FILE_EXISTS', `${path} exists already`, 'it is not overwritten: give another path, or move the file away first', { cause: err })
    case 'EISDIR':
      return new CliError('IS_A_DIRECTORY', `${path} is a directory, not a file`, 'give a file (submit and hash also walk directories)', { cause: err })
    case 'EACCES':
    case 'EPERM':
      return e.syscall === 'listen' || e.syscall === 'bind'
        ? new CliError('PORT_DENIED', `not allowed to listen on ${e.address ?? ''}:${e.port ?? ''}`, 'ports below 1024 need privileges: pick a port ≥ 1024 with --api-port N', { cause: err })
        : new CliError('PERMISSION_DENIED', `permission denied: ${path}`, 'check the owner and mode of the file (data directory secrets are 0600, owned by the user running the node)', { cause: err })
    case 'EADDRINUSE':
      return new CliError('PORT_IN_USE', `${e.address ?? '127.0.0.1'}:${e.port ?? '?'} is already in use`, 'another node or program listens there: stop it, or choose a port with --api-port N (or api.port / p2p.listen in DIR/config.json)', { cause: err })
    case 'EADDRNOTAVAIL':
      return new CliError('ADDRESS_UNAVAILABLE', `${e.address ?? '?'} is not an address of this machine`, 'check api.host and p2p.listen in DIR/config.json', { cause: err })
    case 'ECONNREFUSED':
      return new CliError('NODE_UNREACHABLE', `connection refused by ${e.address ?? '?'}:${e.port ?? '?'}`, CODE_HINTS.NODE_UNREACHABLE, { cause: err })
    case 'ENOSPC':
      return new CliError('DISK_FULL', `no space left on the device (${path})`, 'free some space, then retry', { cause: err })
    case 'EMFILE':
    case 'ENFILE':
      return new CliError('TOO_MANY_OPEN_FILES', 'too many open files', 'raise the limit (ulimit -n) or give fewer files at once', { cause: err })
    default:
      return undefined
  }
}

/** The first system error in a cause chain (fetch wraps ECONNREFUSED, HashmeshError wraps its causes). */
function systemCause(err: unknown): CliError | undefined {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const mapped = fromSystemError(e)
    if (mapped) return mapped
  }
  return undefined
}

export function isEpipe(err: unknown): boolean {
  return (err as SystemError)?.code === 'EPIPE'
}

export interface Failure { code: string; message: string; hint?: string; exitCode: number }

/** What an error means to the user. */
export function describeFailure(err: unknown): Failure {
  if (err instanceof CliError) return { code: err.code, message: err.message, hint: err.hint, exitCode: EXIT.ERROR }
  if (isHashmeshError(err)) {
    if (err.code === 'INTERNAL') return { code: 'INTERNAL', message: err.message, hint: 'this is a bug: run again with --debug and report the output', exitCode: EXIT.INTERNAL }
    const system = err.code === 'NODE_UNREACHABLE' ? undefined : systemCause(err.cause)
    return { code: err.code, message: err.message, hint: CODE_HINTS[err.code] ?? system?.hint, exitCode: EXIT.ERROR }
  }
  const system = systemCause(err)
  if (system) return { code: system.code, message: system.message, hint: system.hint, exitCode: EXIT.ERROR }
  const e = err as Error
  return { code: 'INTERNAL', message: `${e?.name ?? 'Error'}: ${e?.message ?? String(err)}`, hint: 'this is a bug: run again with --debug and report the output', exitCode: EXIT.INTERNAL }
}

/** One line, or the line and the stack with --debug. */
export function formatFailure(err: unknown, debug: boolean): { text: string; exitCode: number } {
  const f = describeFailure(err)
  const line = `hashmesh: ${f.code}: ${f.message.replace(/\s*\n\s*/g, ' ')}${f.hint ? `; ${f.hint}` : ''}`
  const stack = debug && err instanceof Error && err.stack ? `\n${err.stack}${err.cause instanceof Error && err.cause.stack ? `\ncaused by: ${err.cause.stack}` : ''}` : ''
  return { text: line + stack, exitCode: f.exitCode }
}

export const debugEnabled = (): boolean => process.argv.includes('--debug') || process.env.HASHMESH_DEBUG === '1'

/** Prints the failure and exits. */
export function exitWithError(err: unknown): never {
  if (isEpipe(err)) process.exit(EXIT.OK)
  const { text, exitCode } = formatFailure(err, debugEnabled())
  process.stderr.write(text + '\n')
  process.exit(exitCode)
}

/** A reader of stdout went away (`| head -1`): stop quietly, as Unix tools do. */
export function exitQuietlyOnEpipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: unknown) => {
      if (isEpipe(err)) process.exit(EXIT.OK)
      exitWithError(err)
    })
  }
}

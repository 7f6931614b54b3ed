/**
 * The node's log lines for a person at a terminal: pino writes JSON (what `hashmesh start` writes when
 * stderr is a file or a pipe, for log shippers); on a terminal each line is reshaped into
 * `time LEVEL message  key=value…`, where the message is the event's sentence (`msg`) or its name.
 */
import type { DestinationStream } from 'pino'

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO ', 40: 'WARN ', 50: 'ERROR', 60: 'FATAL' }
const COLOURS: Record<number, string> = { 10: '90', 20: '90', 30: '32', 40: '33', 50: '31', 60: '31' }

function show(value: unknown): string {
  if (typeof value === 'string') return /\s/.test(value) ? JSON.stringify(value) : value
  return JSON.stringify(value)
}

/** One pino JSON line as one readable line (unchanged when it is not JSON). */
export function prettyLine(json: string, colour: boolean): string {
  let entry: Record<string, unknown>
  try {
    entry = JSON.parse(json) as Record<string, unknown>
  } catch (err) {
    if (err instanceof SyntaxError) return json
    throw err
  }
  const { time, level, msg, event, ...rest } = entry
  const levelNumber = Number(level)
  const levelName = LEVELS[levelNumber] ?? String(level)
  const head = colour ? `\x1b[${COLOURS[levelNumber] ?? '0'}m${levelName}\x1b[0m` : levelName
  // with a sentence, the fields it already says stay in the JSON form only
  const details = msg ? '' : Object.entries(rest).map(([k, v]) => `${k}=${show(v)}`).join(' ')
  const text = msg ? `${String(msg)}${event ? `  [${String(event)}]` : ''}` : String(event ?? '')
  return `${String(time)} ${head} ${text}${details ? `  ${details}` : ''}\n`
}

/** A pino destination that writes readable lines to `out` (a terminal). */
export function prettyDestination(out: NodeJS.WriteStream): DestinationStream {
  const colour = out.hasColors?.() ?? false
  return { write: (line: string) => void out.write(prettyLine(line.trimEnd(), colour)) }
}

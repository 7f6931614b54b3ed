/**
 * `local_file`: a list on this machine (python-threatexchange's local_file: one signal per line, or the
 * type named by `signal_type`), re-read when its size or modification time changed. A file carries no
 * deletions: each read is a snapshot, diffed against the previous one by the runner.
 */
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { isAbsolute } from 'node:path'
import { createInterface } from 'node:readline'
import { fail } from '../../errors.js'
import { bankSignalType, signalsOfLines } from '../signal-lines.js'
import { stringSetting, type ExchangeAdapter, type FetchContext, type FetchUpdate } from '../types.js'

export function signalTypeSetting(settings: Record<string, unknown>): string | undefined {
  const type = settings.signal_type
  if (type === undefined || type === null || type === '') return undefined
  if (typeof type !== 'string' || bankSignalType(type) === undefined) fail('BAD_REQUEST', `Failed to parse \`api_json\` - signal_type ${JSON.stringify(type)} is not one of pdq, video_md5, md5, sha256, vpdq`)
  return bankSignalType(type)
}

export const localFileAdapter: ExchangeAdapter = {
  api: 'local_file',
  settingsFields: [
    { name: 'path', type: 'string', required: true, default: null, help: 'Absolute path of the list file (one signal per line: "<type> <value>", or the value alone with signal_type)', choices: null },
    { name: 'signal_type', type: 'enum', required: false, default: null, help: 'The type of every line, when the lines carry only values', choices: ['pdq', 'video_md5', 'md5', 'sha256', 'vpdq'] },
  ],
  credentialFields: [],
  checkSettings(settings) {
    const path = stringSetting(settings, 'path')
    if (!isAbsolute(path)) fail('BAD_REQUEST', 'Failed to parse `api_json` - path must be absolute')
    const signalType = signalTypeSetting(settings)
    return { path, ...(signalType ? { signal_type: signalType } : {}) }
  },
  async *fetch(context: FetchContext): AsyncIterable<FetchUpdate> {
    const path = context.config.settings.path as string
    let info
    try {
      info = await stat(path)
    } catch (cause) {
      fail('EXCHANGE_FETCH', `cannot read the list file: ${(cause as NodeJS.ErrnoException).code ?? 'error'}`, { cause })
    }
    if (!info.isFile()) fail('EXCHANGE_FETCH', 'the list path is not a file')
    const checkpoint = { size: info.size, mtimeMs: Math.floor(info.mtimeMs) }
    const previous = context.checkpoint
    if (previous && previous.size === checkpoint.size && previous.mtimeMs === checkpoint.mtimeMs) {
      yield { kind: 'unchanged', checkpoint }
      return
    }
    const counts = { skipped: 0, rejected: 0 }
    const stream = createReadStream(path, { encoding: 'utf8', signal: context.signal })
    const lines = createInterface({ input: stream, crlfDelay: Infinity })
    const type = bankSignalType(String(context.config.settings.signal_type ?? ''))
    yield { kind: 'snapshot', signals: signalsOfLines(lines, type, counts), checkpoint: () => checkpoint, skipped: () => counts.skipped + counts.rejected }
  },
  checkpointTime: (checkpoint) => (typeof checkpoint.mtimeMs === 'number' ? checkpoint.mtimeMs : null),
}

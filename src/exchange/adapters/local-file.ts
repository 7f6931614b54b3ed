/**
 * `local_file`: a list on this machine in any format lists/ reads (python-threatexchange's local_file
 * "<type> <value>" lines, values alone with `signal_type`, CSV, MISP, STIX…; sniffed unless `format` says),
 * re-read when its size or modification time changed. A file carries no
 * deletions: each read is a snapshot, diffed against the previous one by the runner.
 */
import { stat } from 'node:fs/promises'
import { basename, isAbsolute } from 'node:path'
import { fail } from '../../errors.js'
import { checkListFormat, LIST_FORMATS, type ListFormat } from '../../lists/index.js'
import { bankSignalType, signalsOfList } from '../signal-lines.js'
import { stringSetting, type ExchangeAdapter, type FetchContext, type FetchUpdate, type SettingField } from '../types.js'

export function signalTypeSetting(settings: Record<string, unknown>): string | undefined {
  const type = settings.signal_type
  if (type === undefined || type === null || type === '') return undefined
  if (typeof type !== 'string' || bankSignalType(type) === undefined) fail('BAD_REQUEST', `Failed to parse \`api_json\` - signal_type ${JSON.stringify(type)} is not one of pdq, video_md5, md5, sha256, vpdq`)
  return bankSignalType(type)
}

/** The optional `format` setting (lists/ format names); sniffed from the first lines when absent. */
export function formatSetting(settings: Record<string, unknown>): ListFormat | undefined {
  const format = settings.format
  if (format === undefined || format === null || format === '') return undefined
  if (typeof format !== 'string') fail('BAD_REQUEST', 'Failed to parse `api_json` - format must be a string')
  try {
    return checkListFormat(format)
  } catch {
    fail('BAD_REQUEST', `Failed to parse \`api_json\` - format must be one of ${LIST_FORMATS.join(', ')}`)
  }
}

export const FORMAT_FIELD: SettingField = { name: 'format', type: 'enum', required: false, default: null, help: 'List format (sniffed from the first lines when absent)', choices: [...LIST_FORMATS] }

export const localFileAdapter: ExchangeAdapter = {
  api: 'local_file',
  settingsFields: [
    FORMAT_FIELD,
    { name: 'path', type: 'string', required: true, default: null, help: 'Absolute path of the list file (one signal per line: "<type> <value>", or the value alone with signal_type)', choices: null },
    { name: 'signal_type', type: 'enum', required: false, default: null, help: 'The type of every line, when the lines carry only values', choices: ['pdq', 'video_md5', 'md5', 'sha256', 'vpdq'] },
  ],
  credentialFields: [],
  checkSettings(settings) {
    const path = stringSetting(settings, 'path')
    if (!isAbsolute(path)) fail('BAD_REQUEST', 'Failed to parse `api_json` - path must be absolute')
    const signalType = signalTypeSetting(settings)
    const format = formatSetting(settings)
    return { path, ...(signalType ? { signal_type: signalType } : {}), ...(format ? { format } : {}) }
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
    const settings = context.config.settings
    const options = { format: settings.format as ListFormat | undefined, signalType: bankSignalType(String(settings.signal_type ?? '')), name: basename(path), signal: context.signal }
    yield { kind: 'snapshot', signals: signalsOfList(path, options, counts), checkpoint: () => checkpoint, skipped: () => counts.skipped + counts.rejected }
  },
  checkpointTime: (checkpoint) => (typeof checkpoint.mtimeMs === 'number' ? checkpoint.mtimeMs : null),
}

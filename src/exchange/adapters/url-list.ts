/**
 * `url`: a hash list at an http(s) URL (any format lists/ reads, sniffed unless `format` says), fetched with If-None-Match / If-Modified-Since from the previous
 * answer's ETag / Last-Modified (304: nothing changed). A list carries no deletions: each 200 is a snapshot,
 * diffed against the previous one. Size cap and time-out per exchange (`max_bytes`, `timeout_ms`).
 */
import { Readable } from 'node:stream'
import { fail } from '../../errors.js'
import type { ListFormat } from '../../lists/index.js'
import { bankSignalType, signalsOfList } from '../signal-lines.js'
import { EXCHANGE_LIMITS, stringSetting, type ExchangeAdapter, type FetchContext, type FetchUpdate } from '../types.js'
import { checkStatus, redactUrl } from './http-answers.js'
import { FORMAT_FIELD, formatSetting, signalTypeSetting } from './local-file.js'

function positiveInt(settings: Record<string, unknown>, name: string, fallback: number, max: number): number {
  const value = settings[name] ?? fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) fail('BAD_REQUEST', `Failed to parse \`api_json\` - ${name} must be a whole number from 1 to ${max}`)
  return value
}

export function checkHttpUrl(raw: string, name: string): string {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    fail('BAD_REQUEST', `Failed to parse \`api_json\` - ${name} is not a URL`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail('BAD_REQUEST', `Failed to parse \`api_json\` - ${name} must be http or https`)
  if (url.username || url.password) fail('BAD_REQUEST', `Failed to parse \`api_json\` - ${name} must not carry credentials`)
  return url.toString()
}

export const urlListAdapter: ExchangeAdapter = {
  api: 'url',
  settingsFields: [
    FORMAT_FIELD,
    { name: 'url', type: 'string', required: true, default: null, help: 'http(s) URL of the list (fetched with If-None-Match / If-Modified-Since)', choices: null },
    { name: 'signal_type', type: 'enum', required: false, default: null, help: 'The type of every line, when the lines carry only values', choices: ['pdq', 'video_md5', 'md5', 'sha256', 'vpdq'] },
    { name: 'max_bytes', type: 'number', required: false, default: EXCHANGE_LIMITS.defaultMaxBytes, help: 'Largest list accepted (bytes)', choices: null },
    { name: 'timeout_ms', type: 'number', required: false, default: EXCHANGE_LIMITS.defaultTimeoutMs, help: 'Time-out of one fetch (ms)', choices: null },
  ],
  credentialFields: [],
  checkSettings(settings) {
    const url = checkHttpUrl(stringSetting(settings, 'url'), 'url')
    const signalType = signalTypeSetting(settings)
    const format = formatSetting(settings)
    return {
      url,
      ...(signalType ? { signal_type: signalType } : {}),
      ...(format ? { format } : {}),
      max_bytes: positiveInt(settings, 'max_bytes', EXCHANGE_LIMITS.defaultMaxBytes, 2 ** 31),
      timeout_ms: positiveInt(settings, 'timeout_ms', EXCHANGE_LIMITS.defaultTimeoutMs, 10 * 60_000),
    }
  },
  async *fetch(context: FetchContext): AsyncIterable<FetchUpdate> {
    const settings = context.config.settings
    const url = settings.url as string
    const headers: Record<string, string> = { accept: 'text/plain, text/csv, */*;q=0.5' }
    const previous = context.checkpoint
    if (typeof previous?.etag === 'string') headers['if-none-match'] = previous.etag
    if (typeof previous?.lastModified === 'string') headers['if-modified-since'] = previous.lastModified
    const response = await context.http({ url, headers, maxBytes: settings.max_bytes as number, timeoutMs: settings.timeout_ms as number, signal: context.signal })
    if (response.status === 304) {
      if (!previous) fail('EXCHANGE_FETCH', `${redactUrl(url)} answered 304 to a first fetch`)
      yield { kind: 'unchanged', checkpoint: previous }
      return
    }
    checkStatus(response, 'the list server')
    const checkpoint = { etag: response.headers.etag ?? null, lastModified: response.headers['last-modified'] ?? null, fetchedAt: Date.now() }
    const counts = { skipped: 0, rejected: 0 }
    const options = { format: settings.format as ListFormat | undefined, signalType: bankSignalType(String(settings.signal_type ?? '')), name: redactUrl(url), signal: context.signal }
    yield { kind: 'snapshot', signals: signalsOfList(Readable.from([response.body]), options, counts), checkpoint: () => checkpoint, skipped: () => counts.skipped + counts.rejected }
  },
  checkpointTime: (checkpoint) => (typeof checkpoint.fetchedAt === 'number' ? checkpoint.fetchedAt : null),
}

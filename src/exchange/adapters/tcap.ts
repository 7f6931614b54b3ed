/**
 * `tat`: Tech Against Terrorism's TCAP hash list (terrorismanalytics.org), as python-threatexchange's
 * techagainstterrorism client speaks it:
 *
 *   POST {base}token-auth/tcap/   form username, password, resend=False  -> {"token": JWT}
 *   GET  {base}api/hash-list/v2/all?order=asc&after=<checkpoint>   Authorization: Bearer JWT
 *        -> {count, next, previous, checkpoint: "<unix ts>,<id>", results: [{hash_digest, algorithm,
 *            ideology, file_type, deleted, updated_on, created_on, id}]}
 *
 * `next` (a URL with limit/offset) is followed until null, on the API's own host only. `mode: "delta"`
 * (default) resumes `after` the stored checkpoint and applies `deleted: true` entries as deletions;
 * `mode: "full"` fetches the whole list every time and the runner diffs it against the previous fetch,
 * removing hashes that disappeared. Algorithms: PDQ -> pdq; MD5 of a video file type -> video_md5, of
 * another file type -> md5; SHA256 -> sha256; others skipped (counted).
 */
import { fail } from '../../errors.js'
import type { BankSignalType } from '../../bank/types.js'
import { normaliseSignal } from '../../bank/types.js'
import { EXCHANGE_LIMITS, type ExchangeAdapter, type ExchangeSignal, type FetchContext, type FetchUpdate } from '../types.js'
import { checkStatus, isObject, jsonBody, sameOriginNext } from './http-answers.js'
import { checkHttpUrl } from './url-list.js'

export const TCAP_BASE_URL = 'https://app.terrorismanalytics.org/'
const VIDEO_FILE_TYPES = new Set(['mov', 'm4v', 'mp4', 'webm', 'avi', 'mkv', 'flv', 'wmv', 'mpg', 'mpeg', '3gp'])

interface TcapEntry { type: BankSignalType; value: string; id: string; deleted: boolean }

/** One result entry, or undefined when hashmesh has no type for it (or its value is unreadable). */
export function tcapEntry(raw: unknown): TcapEntry | undefined {
  if (!isObject(raw) || typeof raw.hash_digest !== 'string' || typeof raw.algorithm !== 'string') fail('EXCHANGE_PAYLOAD', 'TCAP: a result has no hash_digest/algorithm')
  const algorithm = raw.algorithm.toUpperCase()
  const fileType = typeof raw.file_type === 'string' ? raw.file_type.toLowerCase() : ''
  const type: BankSignalType | undefined = algorithm === 'PDQ' ? 'pdq' : algorithm === 'MD5' ? (VIDEO_FILE_TYPES.has(fileType) ? 'video_md5' : 'md5') : algorithm === 'SHA256' || algorithm === 'SHA-256' ? 'sha256' : undefined
  if (type === undefined) return undefined
  let value: string
  try {
    value = normaliseSignal(type, raw.hash_digest)
  } catch {
    return undefined
  }
  return { type, value, id: String(raw.id ?? ''), deleted: raw.deleted === true }
}

interface TcapPage { next: string | undefined; checkpoint: string | undefined; entries: unknown[] }

function tcapPage(body: unknown, base: string): TcapPage {
  if (!isObject(body) || !Array.isArray(body.results)) fail('EXCHANGE_PAYLOAD', 'TCAP: the hash list page has no results array')
  const checkpoint = typeof body.checkpoint === 'string' && body.checkpoint.length > 0 ? body.checkpoint : undefined
  return { next: sameOriginNext(body.next, base, 'TCAP'), checkpoint, entries: body.results }
}

async function authenticate(context: FetchContext, base: string): Promise<string> {
  const creds = context.credentials
  if (!creds?.username || !creds.password) fail('UNAUTHORIZED', 'TCAP needs credentials: set username and password for the tat API (POST /c/exchanges/api/tat)')
  const form = new URLSearchParams({ username: creds.username, password: creds.password, resend: 'False' }).toString()
  const response = await context.http({
    url: new URL('token-auth/tcap/', base).toString(), method: 'POST', body: form,
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, signal: context.signal, maxBytes: 1024 * 1024,
  })
  if (response.status === 400) fail('UNAUTHORIZED', 'TCAP refused the username and password (HTTP 400 from token-auth)', { details: { httpStatus: 400 } })
  checkStatus(response, 'TCAP token-auth')
  const body = jsonBody(response, 'TCAP token-auth')
  if (!isObject(body) || typeof body.token !== 'string' || body.token.length === 0) fail('EXCHANGE_PAYLOAD', 'TCAP token-auth answered no token')
  return body.token
}

async function* pages(context: FetchContext, base: string, after: string): AsyncIterable<TcapPage> {
  const token = await authenticate(context, base)
  const first = new URL('api/hash-list/v2/all', base)
  first.searchParams.set('order', 'asc')
  first.searchParams.set('after', after)
  let url: string | undefined = first.toString()
  for (let n = 0; url !== undefined; n++) {
    if (n >= EXCHANGE_LIMITS.maxPages) fail('EXCHANGE_PAYLOAD', `TCAP: more than ${EXCHANGE_LIMITS.maxPages} pages`)
    const response = await context.http({ url, headers: { authorization: `Bearer ${token}`, accept: 'application/json' }, signal: context.signal })
    checkStatus(response, 'TCAP')
    const page = tcapPage(jsonBody(response, 'TCAP'), base)
    yield page
    url = page.next
  }
}

export const tcapAdapter: ExchangeAdapter = {
  api: 'tat',
  settingsFields: [
    { name: 'mode', type: 'enum', required: false, default: 'delta', help: 'delta: resume after the checkpoint and apply deleted flags; full: fetch the whole list each time and remove what disappeared', choices: ['delta', 'full'] },
    { name: 'base_url', type: 'string', required: false, default: TCAP_BASE_URL, help: 'The TCAP API (tests point it at a mock)', choices: null },
  ],
  credentialFields: ['username', 'password'],
  checkSettings(settings) {
    const mode = settings.mode ?? 'delta'
    if (mode !== 'delta' && mode !== 'full') fail('BAD_REQUEST', 'Failed to parse `api_json` - mode must be "delta" or "full"')
    const base = checkHttpUrl(typeof settings.base_url === 'string' ? settings.base_url : TCAP_BASE_URL, 'base_url')
    return { mode, base_url: base.endsWith('/') ? base : base + '/' }
  },
  async *fetch(context: FetchContext): AsyncIterable<FetchUpdate> {
    const base = context.config.settings.base_url as string
    if (context.config.settings.mode === 'full') {
      let checkpoint = ''
      let skipped = 0
      const signals = async function* (): AsyncIterable<ExchangeSignal> {
        for await (const page of pages(context, base, '')) {
          for (const raw of page.entries) {
            const entry = tcapEntry(raw)
            if (!entry) skipped++
            else if (!entry.deleted) yield { type: entry.type, value: entry.value, sourceId: entry.id }
          }
          checkpoint = page.checkpoint ?? checkpoint
        }
      }
      yield { kind: 'snapshot', signals: signals(), checkpoint: () => ({ checkpoint }), skipped: () => skipped }
      return
    }
    const after = typeof context.checkpoint?.checkpoint === 'string' ? context.checkpoint.checkpoint : ''
    let last = after
    for await (const page of pages(context, base, after)) {
      const upserts: ExchangeSignal[] = []
      const deletes: Array<{ type: BankSignalType; value: string }> = []
      let skipped = 0
      for (const raw of page.entries) {
        const entry = tcapEntry(raw)
        if (!entry) skipped++
        else if (entry.deleted) deletes.push({ type: entry.type, value: entry.value })
        else upserts.push({ type: entry.type, value: entry.value, sourceId: entry.id })
      }
      last = page.checkpoint ?? last
      yield { kind: 'delta', upserts, deletes, checkpoint: { checkpoint: last }, skipped }
    }
  },
  /** "<unix seconds>,<id>" */
  checkpointTime(checkpoint) {
    const seconds = typeof checkpoint.checkpoint === 'string' ? Number(checkpoint.checkpoint.split(',')[0]) : NaN
    return Number.isFinite(seconds) && seconds > 0 ? Math.round(seconds * 1000) : null
  },
}

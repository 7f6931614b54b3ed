/**
 * `fb_threatexchange`: Meta's ThreatExchange Graph API, as python-threatexchange's fb_threatexchange
 * exchange reads it (its ThreatUpdatesDelta):
 *
 *   GET {base}/{privacy_group}/threat_updates/?access_token=…&start_time=<checkpoint>&limit=100
 *       &fields=indicator,type,last_updated,should_delete,descriptors{id,reactions,owner{id},tags,status}
 *       -> {"data": [{id, indicator, type, last_updated, should_delete, descriptors: {data: […]}}],
 *           "paging": {"next": URL}}
 *
 * An update is a deletion when `should_delete` is true or it has no `descriptors` (ThreatExchange issue
 * 834, as python-threatexchange treats it). The checkpoint is the highest `last_updated` seen; updates are
 * kept by the API for 90 days, so a checkpoint older than 85 days is stale and the next fetch starts over
 * as a snapshot diffed against the bank. Graph errors: OAuthException code 190/102 (or HTTP 401/403) are
 * credential errors; codes 4, 17, 32, 613 (or HTTP 429) rate limits. Indicator types: HASH_PDQ -> pdq,
 * HASH_VIDEO_MD5 -> video_md5, HASH_MD5 -> md5 (video_md5 when tagged media_type_video), HASH_SHA256 and
 * HASH_VIDEO_SHA256 -> sha256; others skipped.
 */
import { fail } from '../../errors.js'
import { normaliseSignal, type BankSignalType } from '../../bank/types.js'
import { EXCHANGE_LIMITS, type ExchangeAdapter, type ExchangeSignal, type FetchContext, type FetchUpdate } from '../types.js'
import type { HttpResponse } from '../http.js'
import { checkStatus, isObject, jsonBody, retryAfterSeconds, sameOriginNext } from './http-answers.js'
import { checkHttpUrl } from './url-list.js'

export const GRAPH_BASE_URL = 'https://graph.facebook.com/v21.0'
export const THREAT_UPDATES_FIELDS = 'indicator,type,last_updated,should_delete,descriptors{id,reactions,owner{id},tags,status}'
export const STALE_AFTER_SECONDS = 85 * 24 * 3600
const PAGE_SIZE = 100

const INDICATOR_TYPES: Record<string, BankSignalType> = { HASH_PDQ: 'pdq', HASH_VIDEO_MD5: 'video_md5', HASH_MD5: 'md5', HASH_SHA256: 'sha256', HASH_VIDEO_SHA256: 'sha256' }

interface Update { signal?: ExchangeSignal; deleted: boolean; time: number }

function tags(update: Record<string, unknown>): string[] {
  const descriptors = isObject(update.descriptors) && Array.isArray(update.descriptors.data) ? update.descriptors.data : []
  const out: string[] = []
  for (const d of descriptors) {
    if (!isObject(d)) continue
    const t = d.tags
    if (Array.isArray(t)) out.push(...t.filter((x): x is string => typeof x === 'string'))
    else if (isObject(t) && Array.isArray(t.data)) for (const x of t.data) if (isObject(x) && typeof x.text === 'string') out.push(x.text)
  }
  return out
}

export function threatUpdate(raw: unknown): Update {
  if (!isObject(raw) || typeof raw.indicator !== 'string' || typeof raw.type !== 'string') fail('EXCHANGE_PAYLOAD', 'ThreatExchange: an update has no indicator/type')
  const time = Number(raw.last_updated)
  if (!Number.isFinite(time)) fail('EXCHANGE_PAYLOAD', 'ThreatExchange: an update has no last_updated time')
  let type = INDICATOR_TYPES[raw.type]
  if (type === 'md5' && tags(raw).includes('media_type_video')) type = 'video_md5'
  const deleted = raw.should_delete === true || !('descriptors' in raw)
  if (type === undefined) return { deleted, time }
  let value: string
  try {
    value = normaliseSignal(type, raw.indicator)
  } catch {
    return { deleted, time }
  }
  return { signal: { type, value, sourceId: String(raw.id ?? '') }, deleted, time }
}

/** Graph API errors come as HTTP 400 with {error: {type, code}}: read them before the status. */
function checkGraphAnswer(response: HttpResponse): void {
  if (response.status >= 400 && response.status !== 429) {
    let error: Record<string, unknown> | undefined
    try {
      const body = JSON.parse(response.body.toString('utf8')) as unknown
      if (isObject(body) && isObject(body.error)) error = body.error
    } catch { /* not JSON: the status decides */ }
    const code = Number(error?.code)
    if (code === 190 || code === 102 || (error?.type === 'OAuthException' && ![4, 17, 32, 613].includes(code))) {
      fail('UNAUTHORIZED', `ThreatExchange refused the access token (Graph error ${Number.isFinite(code) ? code : error?.type})`, { details: { httpStatus: response.status } })
    }
    if ([4, 17, 32, 613].includes(code)) {
      const retry = retryAfterSeconds(response.headers['retry-after'])
      fail('RATE_LIMITED', `ThreatExchange is rate-limiting this app (Graph error ${code})`, { details: { httpStatus: response.status, ...(retry !== undefined ? { retryAfterSeconds: retry } : {}) } })
    }
  }
  checkStatus(response, 'ThreatExchange')
}

async function* updatePages(context: FetchContext, startTime: number | undefined): AsyncIterable<Update[]> {
  const token = context.credentials?.api_token
  if (!token) fail('UNAUTHORIZED', 'ThreatExchange needs an access token: set api_token for the fb_threatexchange API (POST /c/exchanges/api/fb_threatexchange)')
  const base = context.config.settings.base_url as string
  const first = new URL(`${base.replace(/\/$/, '')}/${context.config.settings.privacy_group}/threat_updates/`)
  first.searchParams.set('access_token', token)
  if (startTime !== undefined) first.searchParams.set('start_time', String(startTime))
  first.searchParams.set('limit', String(PAGE_SIZE))
  first.searchParams.set('fields', THREAT_UPDATES_FIELDS)
  let url: string | undefined = first.toString()
  for (let n = 0; url !== undefined; n++) {
    if (n >= EXCHANGE_LIMITS.maxPages) fail('EXCHANGE_PAYLOAD', `ThreatExchange: more than ${EXCHANGE_LIMITS.maxPages} pages`)
    const response = await context.http({ url, headers: { accept: 'application/json' }, signal: context.signal })
    checkGraphAnswer(response)
    const body = jsonBody(response, 'ThreatExchange')
    if (!isObject(body) || !Array.isArray(body.data)) fail('EXCHANGE_PAYLOAD', 'ThreatExchange: the threat_updates page has no data array')
    yield body.data.map(threatUpdate)
    url = sameOriginNext(isObject(body.paging) ? body.paging.next : undefined, base, 'ThreatExchange')
  }
}

export const threatExchangeAdapter: ExchangeAdapter = {
  api: 'fb_threatexchange',
  settingsFields: [
    { name: 'privacy_group', type: 'number', required: true, default: null, help: 'ThreatPrivacyGroup ID for this collaboration', choices: null },
    { name: 'base_url', type: 'string', required: false, default: GRAPH_BASE_URL, help: 'The Graph API (tests point it at a mock)', choices: null },
  ],
  credentialFields: ['api_token'],
  checkSettings(settings) {
    const group = typeof settings.privacy_group === 'string' ? Number(settings.privacy_group) : settings.privacy_group
    if (typeof group !== 'number' || !Number.isSafeInteger(group) || group <= 0) fail('BAD_REQUEST', 'Failed to parse `api_json` - privacy_group is required (a number)')
    const base = checkHttpUrl(typeof settings.base_url === 'string' ? settings.base_url : GRAPH_BASE_URL, 'base_url')
    return { privacy_group: group, base_url: base.replace(/\/$/, '') }
  },
  async *fetch(context: FetchContext): AsyncIterable<FetchUpdate> {
    const previous = context.checkpoint
    const updateTime = typeof previous?.update_time === 'number' ? previous.update_time : 0
    const lastFetch = typeof previous?.last_fetch_time === 'number' ? previous.last_fetch_time : 0
    const startedAt = Math.floor(Date.now() / 1000)
    const stale = previous !== null && updateTime > 0 && startedAt - lastFetch > STALE_AFTER_SECONDS
    if (stale) {
      // Deletions older than the API keeps may have been missed: fetch everything and diff.
      let highest = 0
      let skipped = 0
      const signals = async function* (): AsyncIterable<ExchangeSignal> {
        for await (const page of updatePages(context, undefined)) {
          for (const u of page) {
            highest = Math.max(highest, u.time)
            if (!u.signal) skipped++
            else if (!u.deleted) yield u.signal
          }
        }
      }
      yield { kind: 'snapshot', signals: signals(), checkpoint: () => ({ update_time: highest, last_fetch_time: startedAt }), skipped: () => skipped }
      return
    }
    let highest = updateTime
    for await (const page of updatePages(context, updateTime > 0 ? updateTime : undefined)) {
      const upserts: ExchangeSignal[] = []
      const deletes: Array<{ type: BankSignalType; value: string }> = []
      let skipped = 0
      for (const u of page) {
        highest = Math.max(highest, u.time)
        if (!u.signal) skipped++
        else if (u.deleted) deletes.push({ type: u.signal.type, value: u.signal.value })
        else upserts.push(u.signal)
      }
      yield { kind: 'delta', upserts, deletes, checkpoint: { update_time: highest, last_fetch_time: startedAt }, skipped }
    }
  },
  checkpointTime: (checkpoint) => (typeof checkpoint.update_time === 'number' && checkpoint.update_time > 0 ? checkpoint.update_time * 1000 : null),
}

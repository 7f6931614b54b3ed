/**
 * Exchanges (HMA's model, docs/exchanges.md): a named source that fills a bank of the same name on a
 * schedule, keeping a checkpoint between fetches and a status of the last one. An adapter turns one source
 * (a file, a URL, TCAP, ThreatExchange, the federation) into a stream of updates; the runner (runner.ts)
 * applies them to the bank. Pure types and rules here; nothing does I/O.
 */
import { fail, type ErrorCode } from '../errors.js'
import type { BankSignalType } from '../bank/types.js'
import type { HttpGet } from './http.js'

/** The exchange APIs hashmesh has, by HMA's api names where HMA has one (`fb_threatexchange`, `tat`). */
export const EXCHANGE_APIS = ['local_file', 'url', 'hashmesh', 'tat', 'fb_threatexchange', 'sample'] as const
export type ExchangeApi = (typeof EXCHANGE_APIS)[number]

export const isExchangeApi = (name: unknown): name is ExchangeApi => typeof name === 'string' && (EXCHANGE_APIS as readonly string[]).includes(name)

/** HMA's exchange (collaboration) name rule: the bank it fills has the same name. */
export const EXCHANGE_NAME = /^[A-Z0-9_]+$/

export const EXCHANGE_LIMITS = {
  /** Default time between two fetches of one exchange. */
  defaultIntervalSeconds: 3600,
  minIntervalSeconds: 10,
  maxIntervalSeconds: 30 * 24 * 3600,
  /** After a failure the next run waits the interval times 2^(failures-1), up to this. */
  maxBackoffSeconds: 24 * 3600,
  /** A Retry-After longer than this is cut to it. */
  maxRetryAfterSeconds: 24 * 3600,
  /** One HTTP answer (a list, or one page of an API). */
  defaultMaxBytes: 64 * 1024 * 1024,
  defaultTimeoutMs: 60_000,
  /** Pages of one fetch (a loop guard against an API that always answers `next`). */
  maxPages: 100_000,
  /** Signals of one snapshot (a file or a full list). */
  maxSnapshotSignals: 20_000_000,
} as const

/** One signal from a source: a bank signal type and its value (normalised by the runner). */
export interface ExchangeSignal {
  type: BankSignalType
  value: string
  /** The source's own id of the item (TCAP id, ThreatExchange indicator id), kept as content metadata. */
  sourceId?: string
  note?: string
}

export const signalKey = (s: { type: string; value: string }): string => `${s.type}:${s.value}`

/**
 * What an adapter yields. `delta`: signals added or changed and signals the source deleted, with the
 * checkpoint to resume after (stored once the page is applied). `snapshot`: the whole list as it is now;
 * the runner diffs it against the previous fetch and removes what disappeared (only after the whole
 * snapshot arrived; its checkpoint is read then). `unchanged`: the source says nothing changed (HTTP 304, same file).
 */
export type FetchUpdate =
  | { kind: 'delta'; upserts: ExchangeSignal[]; deletes: Array<{ type: BankSignalType; value: string }>; checkpoint: Checkpoint; skipped?: number }
  | { kind: 'snapshot'; signals: AsyncIterable<ExchangeSignal> | Iterable<ExchangeSignal>; checkpoint: () => Checkpoint; skipped?: () => number }
  | { kind: 'unchanged'; checkpoint: Checkpoint }

/** Adapter-specific resume point (an ETag, a timestamp, a seq…), stored as JSON. */
export type Checkpoint = Record<string, string | number | boolean | null>

export interface ExchangeConfig {
  name: string
  api: ExchangeApi
  enabled: boolean
  intervalSeconds: number
  /** Adapter settings (path, url, privacy_group, member…); never credentials. */
  settings: Record<string, unknown>
  createdAt: number
  updatedAt: number
}

export interface ExchangeError { code: ErrorCode; message: string; httpStatus?: number }

export interface ExchangeStatus {
  name: string
  /** When the running fetch started (ms), null when none runs. */
  runningSince: number | null
  lastFetchStartedAt: number | null
  lastFetchCompletedAt: number | null
  /** 'never' before the first fetch. */
  lastResult: 'never' | 'succeeded' | 'unchanged' | 'failed' | 'rate_limited'
  /** Last completed fetch: signals added, removed, already present, items skipped (unsupported types). */
  counts: { added: number; removed: number; unchanged: number; skipped: number; pages: number }
  /** Signals the exchange holds in its bank. */
  signals: number
  checkpoint: Checkpoint | null
  /** Unix ms of the checkpoint's progress when the source gives one (HMA's checkpoint_ts). */
  checkpointTime: number | null
  nextRunAt: number | null
  consecutiveFailures: number
  error: ExchangeError | null
}

/** What an adapter is given for one fetch. */
export interface FetchContext {
  config: ExchangeConfig
  checkpoint: Checkpoint | null
  credentials: Record<string, string> | null
  http: HttpGet
  signal: AbortSignal
  /** Federation access for the `hashmesh` adapter. */
  federation?: FederationPort
}

/** One setting of an exchange API, as HMA's /c/exchanges/api/<api>/schema describes fields. */
export interface SettingField { name: string; type: 'string' | 'number' | 'boolean' | 'enum' | 'list_of_string'; required: boolean; default: unknown; help: string; choices: string[] | null }

export interface ExchangeAdapter {
  api: ExchangeApi
  /** The settings (HMA's api_json) it takes. */
  settingsFields: readonly SettingField[]
  /** HMA's /c/exchanges/api/<name>: whether it takes credentials, and which fields. */
  credentialFields: readonly string[]
  /** The settings a config needs: validated (typed error) when an exchange is created. */
  checkSettings(settings: Record<string, unknown>): Record<string, unknown>
  fetch(context: FetchContext): AsyncIterable<FetchUpdate>
  /** The time (unix ms) a checkpoint stands for, when it has one. */
  checkpointTime?(checkpoint: Checkpoint): number | null
}

/** The federation as the `hashmesh` adapter sees it: a member's feed, decoded, from a seq on. */
export interface FederationPort {
  resolveMember(nameOrKey: string): string | undefined
  readFeed(feed: string, fromSeq: number, limit: number): Promise<FederationRecord[]>
  /** The signals of a record by id (to apply a revocation), or undefined when it is not stored. */
  recordSignals(id: string): Promise<Array<{ type: string; value: string }> | undefined>
}

export type FederationRecord =
  | { seq: number; id: string; kind: 'signals'; signals: Array<{ type: string; value: string }>; labels: string[] }
  | { seq: number; id: string; kind: 'revoke'; target: string; signal?: number }
  | { seq: number; id: string; kind: 'other' }

export function checkExchangeName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > 100 || !EXCHANGE_NAME.test(name) || /^[0-9]/.test(name)) {
    fail('BAD_REQUEST', 'Field `bank` must match /^[A-Z0-9_]+$/ (and not start with a digit)')
  }
  return name
}

export function checkInterval(value: unknown): number {
  const n = typeof value === 'string' ? Number(value) : value
  if (typeof n !== 'number' || !Number.isInteger(n) || n < EXCHANGE_LIMITS.minIntervalSeconds || n > EXCHANGE_LIMITS.maxIntervalSeconds) {
    fail('BAD_REQUEST', `interval must be a whole number of seconds from ${EXCHANGE_LIMITS.minIntervalSeconds} to ${EXCHANGE_LIMITS.maxIntervalSeconds}`)
  }
  return n
}

/** A required string setting, or the 400 naming it. */
export function stringSetting(settings: Record<string, unknown>, name: string): string {
  const value = settings[name]
  if (typeof value !== 'string' || value.trim().length === 0) fail('BAD_REQUEST', `Failed to parse \`api_json\` - ${name} is required (a string)`)
  return value.trim()
}

/** Time a fetch waits after `failures` consecutive failures (seconds). */
export function backoffSeconds(intervalSeconds: number, failures: number): number {
  if (failures <= 0) return intervalSeconds
  return Math.max(intervalSeconds, Math.min(EXCHANGE_LIMITS.maxBackoffSeconds, intervalSeconds * 2 ** Math.min(failures - 1, 20)))
}

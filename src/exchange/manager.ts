/**
 * The exchanges of one node: configs, credentials, status, and the scheduler that runs their fetches.
 * One timer for all exchanges, set for the soonest `nextRunAt`; fetches run one at a time (a chain), each
 * under an AbortController that stop() and remove() trigger. A fetch is async I/O and bank writes, so
 * lookups go on while it runs. After a failure the next run backs off (interval x 2^(failures-1), up to a
 * day); a rate limit waits its Retry-After; a credential error waits like any failure and is not retried
 * before then (no retry storm).
 */
import { fail, isHashmeshError, type ErrorCode } from '../errors.js'
import type { KeyValueStore } from '../store/level-db.js'
import { federationAdapter } from './adapters/federation.js'
import { localFileAdapter } from './adapters/local-file.js'
import { sampleAdapter } from './adapters/sample.js'
import { tcapAdapter } from './adapters/tcap.js'
import { threatExchangeAdapter } from './adapters/threatexchange.js'
import { urlListAdapter } from './adapters/url-list.js'
import { ExchangeCredentials } from './credentials.js'
import { ExchangeStore } from './exchange-store.js'
import type { HttpGet } from './http.js'
import { runFetch, type BankPort } from './runner.js'
import {
  backoffSeconds, checkExchangeName, checkInterval, EXCHANGE_APIS, EXCHANGE_LIMITS, isExchangeApi,
  type ExchangeAdapter, type ExchangeApi, type ExchangeConfig, type ExchangeStatus, type FederationPort,
} from './types.js'

export type ExchangeLog = (level: 'info' | 'warn' | 'error' | 'debug', event: string, fields?: Record<string, unknown>) => void

export interface ExchangeComponents {
  kv: KeyValueStore
  dataDir: string
  banks: BankPort
  http: HttpGet
  federation?: FederationPort
  /** Is a bank of this name already there (local or a member's)? An exchange makes its own bank. */
  bankExists(name: string): Promise<boolean>
  adapters?: readonly ExchangeAdapter[]
  now?: () => number
  /** Shortest wait of the timer (ms); tests lower it. */
  minTimerMs?: number
}

export interface CreateExchangeInput { name: unknown; api: unknown; settings?: unknown; enabled?: unknown; intervalSeconds?: unknown }
export interface UpdateExchangeInput { enabled?: unknown; intervalSeconds?: unknown }

const ALL_ADAPTERS = [localFileAdapter, urlListAdapter, federationAdapter, tcapAdapter, threatExchangeAdapter, sampleAdapter]

function emptyStatus(name: string): ExchangeStatus {
  return {
    name, runningSince: null, lastFetchStartedAt: null, lastFetchCompletedAt: null, lastResult: 'never',
    counts: { added: 0, removed: 0, unchanged: 0, skipped: 0, pages: 0 }, signals: 0, checkpoint: null, checkpointTime: null,
    nextRunAt: null, consecutiveFailures: 0, error: null,
  }
}

export class ExchangeManager {
  private readonly store: ExchangeStore
  private readonly credentials: ExchangeCredentials
  private readonly adapters: Map<ExchangeApi, ExchangeAdapter>
  private readonly exchanges = new Map<string, { config: ExchangeConfig; status: ExchangeStatus }>()
  private readonly now: () => number
  private loading: Promise<void> | undefined
  private running = false
  private timer: NodeJS.Timeout | undefined
  private chain: Promise<unknown> = Promise.resolve()
  private readonly inFlight = new Map<string, { controller: AbortController; done: Promise<ExchangeStatus> }>()
  private log: ExchangeLog = () => undefined

  constructor(private readonly parts: ExchangeComponents) {
    this.store = new ExchangeStore(parts.kv)
    this.credentials = new ExchangeCredentials(parts.dataDir)
    this.adapters = new Map((parts.adapters ?? ALL_ADAPTERS).map((a) => [a.api, a]))
    this.now = parts.now ?? Date.now
  }

  private load(): Promise<void> {
    return (this.loading ??= (async () => {
      for (const config of await this.store.configs()) {
        this.exchanges.set(config.name, { config, status: { ...emptyStatus(config.name), ...(await this.store.status(config.name)), runningSince: null } })
      }
    })())
  }

  // ---- lifecycle ----

  async start(log?: ExchangeLog): Promise<void> {
    if (log) this.log = log
    await this.load()
    this.running = true
    for (const { config, status } of this.exchanges.values()) {
      if (config.enabled && status.nextRunAt === null) status.nextRunAt = this.now()
    }
    this.schedule()
  }

  async stop(): Promise<void> {
    this.running = false
    clearTimeout(this.timer)
    this.timer = undefined
    for (const { controller } of this.inFlight.values()) controller.abort(new Error('node stopping'))
    await this.chain.catch(() => undefined)
  }

  private schedule(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    if (!this.running) return
    let soonest: number | undefined
    for (const { config, status } of this.exchanges.values()) {
      if (!config.enabled || status.nextRunAt === null || this.inFlight.has(config.name)) continue
      soonest = soonest === undefined ? status.nextRunAt : Math.min(soonest, status.nextRunAt)
    }
    if (soonest === undefined) return
    const wait = Math.min(2 ** 31 - 1, Math.max(this.parts.minTimerMs ?? 1000, soonest - this.now()))
    this.timer = setTimeout(() => this.runDue(), wait)
    this.timer.unref()
  }

  private runDue(): void {
    this.timer = undefined
    const due = [...this.exchanges.values()].filter(({ config, status }) => config.enabled && status.nextRunAt !== null && status.nextRunAt <= this.now() && !this.inFlight.has(config.name))
    for (const { config } of due) void this.enqueue(config.name)
    this.schedule()
  }

  // ---- apis and credentials ----

  apis(): ExchangeApi[] {
    return EXCHANGE_APIS.filter((api) => this.adapters.has(api))
  }

  adapter(api: unknown): ExchangeAdapter {
    const adapter = isExchangeApi(api) ? this.adapters.get(api) : undefined
    if (!adapter) fail('BAD_REQUEST', `no such Exchange API '${String(api)}'`)
    return adapter
  }

  apiInfo(api: unknown): { supportsAuthentication: boolean; hasAuthentication: boolean; credentialFields: readonly string[] } {
    const adapter = this.adapter(api)
    return { supportsAuthentication: adapter.credentialFields.length > 0, hasAuthentication: adapter.credentialFields.length > 0 && this.credentials.has(adapter.api), credentialFields: adapter.credentialFields }
  }

  /** Sets an API's credentials (stored 0600, never shown again); null or {} clears them. */
  setCredentials(api: unknown, value: Record<string, unknown> | null): void {
    const adapter = this.adapter(api)
    if (adapter.credentialFields.length === 0) fail('BAD_REQUEST', `the ${adapter.api} exchange API takes no credentials`)
    this.credentials.set(adapter.api, adapter.credentialFields, value && Object.keys(value).length > 0 ? value : null)
    this.log('info', 'exchange.credentials.set', { api: adapter.api, set: value !== null && Object.keys(value).length > 0 })
  }

  // ---- exchanges ----

  async list(): Promise<ExchangeConfig[]> {
    await this.load()
    return [...this.exchanges.values()].map((e) => e.config).sort((a, b) => a.name.localeCompare(b.name))
  }

  async get(name: string): Promise<ExchangeConfig> {
    await this.load()
    const entry = this.exchanges.get(name)
    if (!entry) fail('NOT_FOUND', `Exchange '${name}' not found`)
    return entry.config
  }

  async status(name: string): Promise<ExchangeStatus> {
    await this.get(name)
    return { ...this.exchanges.get(name)!.status }
  }

  async create(input: CreateExchangeInput): Promise<ExchangeConfig> {
    await this.load()
    const name = checkExchangeName(input.name)
    const adapter = this.adapter(input.api)
    const settings = input.settings ?? {}
    if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) fail('BAD_REQUEST', 'Field `api_json` must be object')
    const checked = adapter.checkSettings(settings as Record<string, unknown>)
    if (this.exchanges.has(name)) fail('BAD_REQUEST', `Exchange '${name}' already exists`, { details: { status: 409 } })
    if (await this.parts.bankExists(name)) fail('BAD_REQUEST', `a bank named ${name} already exists: an exchange fills a bank of its own name`, { details: { status: 409 } })
    const now = this.now()
    const config: ExchangeConfig = {
      name, api: adapter.api, enabled: input.enabled === undefined ? true : input.enabled === true,
      intervalSeconds: input.intervalSeconds === undefined ? EXCHANGE_LIMITS.defaultIntervalSeconds : checkInterval(input.intervalSeconds),
      settings: checked, createdAt: now, updatedAt: now,
    }
    await this.parts.banks.ensureBank(name)
    await this.store.putConfig(config)
    const status = { ...emptyStatus(name), nextRunAt: config.enabled ? now : null }
    await this.store.putStatus(status)
    this.exchanges.set(name, { config, status })
    this.log('info', 'exchange.created', { name, api: config.api })
    this.schedule()
    return config
  }

  async update(name: string, input: UpdateExchangeInput): Promise<ExchangeConfig> {
    const current = await this.get(name)
    const entry = this.exchanges.get(name)!
    const config = { ...current, updatedAt: this.now() }
    if (input.enabled !== undefined) {
      if (typeof input.enabled !== 'boolean') fail('BAD_REQUEST', 'enabled must be true or false')
      config.enabled = input.enabled
    }
    if (input.intervalSeconds !== undefined) config.intervalSeconds = checkInterval(input.intervalSeconds)
    await this.store.putConfig(config)
    entry.config = config
    if (config.enabled && entry.status.nextRunAt === null) entry.status.nextRunAt = this.now()
    if (!config.enabled) entry.status.nextRunAt = null
    this.schedule()
    return config
  }

  /** Stops its fetch, forgets it and deletes its bank; removing an exchange that is not there is not an error (HMA). */
  async remove(name: string): Promise<void> {
    await this.load()
    if (!this.exchanges.has(name)) return
    const flight = this.inFlight.get(name)
    flight?.controller.abort(new Error('exchange removed'))
    await flight?.done.catch(() => undefined)
    this.exchanges.delete(name)
    await this.store.remove(name)
    await this.parts.banks.deleteBank(name)
    this.log('info', 'exchange.removed', { name })
    this.schedule()
  }

  /** Fetches now (after any fetch already under way) and answers the status it left. */
  async fetchNow(name: string): Promise<ExchangeStatus> {
    await this.get(name)
    return this.inFlight.get(name)?.done ?? this.enqueue(name)
  }

  // ---- one fetch ----

  private enqueue(name: string): Promise<ExchangeStatus> {
    const controller = new AbortController()
    const done = this.chain.then(() => this.runOne(name, controller.signal))
    this.chain = done.catch(() => undefined)
    this.inFlight.set(name, { controller, done })
    void done.finally(() => {
      if (this.inFlight.get(name)?.done === done) this.inFlight.delete(name)
      this.schedule()
    }).catch(() => undefined)
    return done
  }

  private async runOne(name: string, signal: AbortSignal): Promise<ExchangeStatus> {
    const entry = this.exchanges.get(name)
    if (!entry) fail('NOT_FOUND', `Exchange '${name}' not found`)
    const { config } = entry
    const adapter = this.adapter(config.api)
    const status = entry.status
    const started = this.now()
    status.runningSince = started
    status.lastFetchStartedAt = started
    const context = {
      config, checkpoint: status.checkpoint, credentials: adapter.credentialFields.length > 0 ? this.credentials.get(adapter.api) : null,
      http: this.parts.http, signal, federation: this.parts.federation,
    }
    const save = async (checkpoint: ExchangeStatus['checkpoint'], counts: ExchangeStatus['counts'], signals: number) => {
      status.checkpoint = checkpoint
      status.checkpointTime = checkpoint ? adapter.checkpointTime?.(checkpoint) ?? null : null
      status.counts = { ...counts }
      status.signals = signals
      await this.store.putStatus(status)
    }
    try {
      const outcome = await runFetch(adapter, context, this.store, this.parts.banks, save, status.signals)
      if (signal.aborted) throw signal.reason
      status.lastResult = outcome.result
      status.counts = outcome.counts
      status.signals = outcome.signals
      status.checkpoint = outcome.checkpoint
      status.checkpointTime = outcome.checkpoint ? adapter.checkpointTime?.(outcome.checkpoint) ?? null : null
      status.consecutiveFailures = 0
      status.error = null
      status.nextRunAt = config.enabled ? this.now() + config.intervalSeconds * 1000 : null
      this.log('info', 'exchange.fetched', { name, api: config.api, result: outcome.result, ...outcome.counts, signals: outcome.signals, ms: this.now() - started })
    } catch (err) {
      if (signal.aborted) {
        // Stopped with the node, or the exchange removed: not a failure; the next run resumes from the saved checkpoint.
        status.runningSince = null
        if (this.exchanges.has(name)) await this.store.putStatus(status)
        return { ...status }
      }
      const code: ErrorCode = isHashmeshError(err) ? err.code : 'INTERNAL'
      if (!isHashmeshError(err)) this.log('error', 'exchange.fetch.bug', { name, message: (err as Error).message, stack: (err as Error).stack })
      const httpStatus = isHashmeshError(err) && typeof err.details?.httpStatus === 'number' ? err.details.httpStatus : undefined
      status.consecutiveFailures++
      status.error = { code, message: isHashmeshError(err) ? err.message : 'internal error (see the node log)', ...(httpStatus !== undefined ? { httpStatus } : {}) }
      const retryAfter = isHashmeshError(err) && typeof err.details?.retryAfterSeconds === 'number' ? err.details.retryAfterSeconds : undefined
      status.lastResult = code === 'RATE_LIMITED' ? 'rate_limited' : 'failed'
      const waitSeconds = code === 'RATE_LIMITED' && retryAfter !== undefined ? retryAfter : backoffSeconds(config.intervalSeconds, status.consecutiveFailures)
      status.nextRunAt = config.enabled ? this.now() + waitSeconds * 1000 : null
      this.log('warn', 'exchange.fetch.failed', { name, api: config.api, code, message: status.error.message, retryInSeconds: waitSeconds })
    }
    status.runningSince = null
    status.lastFetchCompletedAt = this.now()
    await this.store.putStatus(status)
    return { ...status }
  }
}

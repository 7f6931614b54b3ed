/**
 * Configuration: config/default.json, then the node's own DIR/config.json, then HASHMESH_* environment
 * variables (HASHMESH_API_PORT, or the generic HASHMESH_<SECTION>_<KEY> form such as HASHMESH_MATCH_PDQTHRESHOLD).
 * The merged object is validated by one schema; an error names the bad key and why.
 */
import { readFileSync, existsSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Type, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { fail } from './errors.js'
import { THREAD_PRIORITIES } from './thread-priority.js'

/** pino's levels, most severe first: config `log.level` and `start --log-level`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()])

export const ConfigSchema = Type.Object(
  {
    api: Type.Object({
      host: Type.String({ minLength: 1 }),
      port: Type.Integer({ minimum: 0, maximum: 65535 }),
      bodyLimitBytes: Type.Integer({ minimum: 1024 }),
      jsonBodyLimitBytes: Type.Integer({ minimum: 1024 }),
    }),
    p2p: Type.Object({
      listen: Type.Array(Type.String()),
      announce: Type.Array(Type.String()),
      bootstrap: Type.Array(Type.String()),
      allowPrivateAddresses: Type.Boolean(),
      pskFile: Nullable(Type.String()),
      syncIntervalMs: Type.Integer({ minimum: 100 }),
      meshDegree: Type.Integer({ minimum: 1, maximum: 12 }),
      rosterGenesis: Nullable(Type.String({ pattern: '^[0-9a-f]{64}$' })),
    }),
    hash: Type.Object({
      maxImageBytes: Type.Integer({ minimum: 1 }),
      maxImagePixels: Type.Integer({ minimum: 1 }),
      maxConcurrentDecodes: Type.Integer({ minimum: 1 }),
      maxQueuedDecodes: Type.Integer({ minimum: 0 }),
      minQuality: Type.Integer({ minimum: 0, maximum: 100 }),
      contributeLowQuality: Type.Boolean(),
    }),
    video: Type.Object({
      ffmpegPath: Nullable(Type.String()),
      framesPerSecond: Type.Number({ minimum: 0, maximum: 120 }),
      maxVideoBytes: Type.Integer({ minimum: 1 }),
      maxDurationSeconds: Type.Number({ exclusiveMinimum: 0 }),
      timeoutMs: Type.Integer({ minimum: 100 }),
      matchQueryPercent: Type.Number({ minimum: 0, maximum: 100 }),
      matchCandidatePercent: Type.Number({ minimum: 0, maximum: 100 }),
    }),
    match: Type.Object({
      pdqThreshold: Type.Integer({ minimum: 0, maximum: 128 }),
      vpdqFrameThreshold: Type.Integer({ minimum: 0, maximum: 128 }),
      minQuality: Type.Integer({ minimum: 0, maximum: 100 }),
      members: Type.Union([Type.Array(Type.String({ pattern: '^[0-9a-f]{64}$' })), Type.Null()]),
      ignoreDisputed: Type.Boolean(),
      ignoreFalsePositive: Type.Boolean(),
      minAgreeingMembers: Type.Integer({ minimum: 1 }),
      /** Act on signals of a feed that forked (from the fork on); off: shown, flagged, never actionable. */
      actOnEquivocated: Type.Boolean(),
      /**
       * The CPU priority of the process that builds the match index at start (src/thread-priority.ts): "idle"
       * (Linux's SCHED_IDLE: it runs only when no other thread wants the CPU; /status stays quick), "low" (nice
       * 15) or "normal" (its fair share: for a machine whose cores other programs keep busy).
       */
      indexBuildPriority: Type.Union(THREAD_PRIORITIES.map((priority) => Type.Literal(priority))),
    }),
    /**
     * The HMA-compatible routes (docs/hma.md). auth: "token" (the bearer token, as every route), "none"
     * (only when api.host is loopback; refused at start otherwise) or { header } (the API token in that
     * header, as a reverse proxy adds it).
     */
    hma: Type.Object({
      auth: Type.Union([Type.Literal('token'), Type.Literal('none'), Type.Object({ header: Type.String({ pattern: '^[xX]-[A-Za-z0-9-]+$' }) }, { additionalProperties: false })]),
      /** Hosts `?url=` may fetch media from (exact names, or `*.example.org`); empty: every URL refused (node/media-fetch.ts). */
      urlHosts: Type.Array(Type.String({ minLength: 1, pattern: '^(\\*\\.)?[A-Za-z0-9.:\\[\\]-]+$' })),
      urlMaxBytes: Type.Integer({ minimum: 1 }),
      urlTimeoutMs: Type.Integer({ minimum: 100 }),
    }),
    /** Flood quarantine (match/flood-quarantine.ts): per-member limits on other members' new signals. */
    quarantine: Type.Object({
      enabled: Type.Boolean(),
      burst: Type.Integer({ minimum: 1 }),
      signalsPerMinute: Type.Integer({ minimum: 1 }),
      signalsPerHour: Type.Integer({ minimum: 1 }),
      /** Release a member's records by itself once it is back under every limit; false: only an operator does. */
      autoRelease: Type.Boolean(),
      /** Limits for contributions that name an incident. */
      incident: Type.Object({ burst: Type.Integer({ minimum: 1 }), signalsPerMinute: Type.Integer({ minimum: 1 }), signalsPerHour: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }),
    }, { additionalProperties: false }),
    /** Incidents (node/incidents.ts): act on an open incident's contributions without minAgreeingMembers. */
    incident: Type.Object({ autoAct: Type.Boolean() }, { additionalProperties: false }),
    log: Type.Object({ level: Type.Union(LOG_LEVELS.map((level) => Type.Literal(level))) }),
  },
  { additionalProperties: false },
)

export type Config = Static<typeof ConfigSchema>
export type ConfigOverrides = { [K in keyof Config]?: Partial<Config[K]> }

export const PROJECT_ROOT = findProjectRoot()
export const NODE_CONFIG_FILE = 'config.json'

function findProjectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir)
    if (parent === dir) throw new Error('hashmesh: cannot find package.json above ' + fileURLToPath(import.meta.url))
    dir = parent
  }
  return dir
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'))
  } catch (cause) {
    fail('CONFIG_INVALID', `cannot read config file ${path}: ${(cause as Error).message}`, { cause })
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function deepMerge(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over
  const out: Record<string, unknown> = { ...base }
  for (const [k, v] of Object.entries(over)) out[k] = deepMerge(base[k], v)
  return out
}

/** Environment overrides: values are parsed as JSON when they parse, else taken as strings. */
export function envOverrides(env: NodeJS.ProcessEnv, defaults: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, Record<string, unknown>> = {}
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('HASHMESH_') || raw === undefined) continue
    const rest = name.slice('HASHMESH_'.length).toLowerCase()
    const cut = rest.indexOf('_')
    if (cut <= 0) continue
    const section = rest.slice(0, cut)
    const keyLower = rest.slice(cut + 1).replace(/_/g, '')
    const sectionDefaults = defaults[section]
    if (!isPlainObject(sectionDefaults)) continue
    const key = Object.keys(sectionDefaults).find((k) => k.toLowerCase() === keyLower)
    if (!key) continue
    let value: unknown = raw
    try {
      value = JSON.parse(raw)
    } catch (err) {
      if (!(err instanceof SyntaxError)) throw err // not JSON: a plain string
    }
    ;(out[section] ??= {})[key] = value
  }
  return out
}

export interface LoadConfigOptions {
  dataDir?: string
  env?: NodeJS.ProcessEnv
  overrides?: ConfigOverrides
}

export function loadConfig(options: LoadConfigOptions = {}): Config {
  const defaults = readJson(join(PROJECT_ROOT, 'config', 'default.json')) as Record<string, unknown>
  let merged: unknown = defaults
  if (options.dataDir) {
    const nodeFile = join(options.dataDir, NODE_CONFIG_FILE)
    if (existsSync(nodeFile)) merged = deepMerge(merged, readJson(nodeFile))
  }
  merged = deepMerge(merged, envOverrides(options.env ?? process.env, defaults))
  if (options.overrides) merged = deepMerge(merged, options.overrides)
  return validateConfig(merged)
}

export function validateConfig(value: unknown): Config {
  if (Value.Check(ConfigSchema, value)) return value
  const first = [...Value.Errors(ConfigSchema, value)][0]
  const key = first ? first.path.replace(/^\//, '').replace(/\//g, '.') || '(root)' : '(root)'
  const choices = literalChoices(first?.schema)
  const why = choices ? `expected one of ${choices.map((c) => JSON.stringify(c)).join(', ')}` : first ? first.message : 'invalid'
  fail('CONFIG_INVALID', `config key "${key}": ${why}`, { details: { key } })
}

/** The values a union of literals allows (typebox says only "Expected union value"); undefined for other schemas. */
function literalChoices(schema: unknown): unknown[] | undefined {
  const anyOf = (schema as { anyOf?: unknown } | undefined)?.anyOf
  if (!Array.isArray(anyOf) || anyOf.length === 0) return undefined
  const values = anyOf.map((option) => (option as { const?: unknown }).const)
  return values.every((value) => value !== undefined) ? values : undefined
}

export interface Taxonomy {
  contentTypes: string[]
  namespaces: Record<string, { values?: string[]; free?: boolean; pattern?: string }>
}

let taxonomyCache: Taxonomy | undefined
export function loadTaxonomy(): Taxonomy {
  taxonomyCache ??= readJson(join(PROJECT_ROOT, 'config', 'taxonomy.json')) as Taxonomy
  return taxonomyCache
}

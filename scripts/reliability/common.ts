/**
 * Shared parts of the reliability suite (scripts/reliability.ts): scenario results and the runner that
 * bounds each scenario by a deadline, the replica digest, a small HTTP client with timeouts, and
 * small waiting helpers.
 *
 * Replica digest (replicaDigest, the one definition used by every scenario): SHA-256 over the lines
 *
 *     head <feed> <seq> <id>            every feed without a fork, sorted by feed
 *     flagged <feed>                    every feed with a fork (flagged as equivocating in its head, or
 *                                       with a proof held: a proof can arrive before any record of its
 *                                       feed), sorted; its head is left out: after a fork each honest
 *                                       node may keep the branch it saw first
 *     proof <feed> <seq> <idA> <idB>    every equivocation proof the node holds (ids ascending), sorted
 *
 * Heads and flags come from GET /v1/status, proofs from GET /v1/equivocations while the node runs (a
 * node without that route gives only the number of proofs, `equivocations` in /v1/status, and the line
 * `proofs <n>` replaces the proof lines), and from the store itself once the node has stopped (the
 * final check of scenarios d and f). Two nodes with equal digests hold the same records on every feed
 * without a fork, flag the same feeds and hold the same proof set. (The nodes' own `replicaDigest` in
 * /v1/status, docs/protocol.md §3.1, is compared too, as a second opinion.)
 */
import { createHash } from 'node:crypto'

export interface ScenarioResult {
  id: string
  name: string
  /** What was repeated, with its unit: "20 kills", "100000 inputs". */
  runs: string
  /** Records lost (acknowledged or observed stored, then missing); null where not applicable. */
  lost: number | null
  /** Node processes that died unexpectedly or failed to restart; fuzz: inputs that crashed a decoder or handler. */
  crashes: number
  /** Forks detected on every node: "3/3 nodes", or "n/a". */
  forks: string
  /** Bans of honest peers seen on any node; null where not measured. */
  honestBanned: number | null
  ok: boolean
  seconds: number
  /** Why it failed (or noteworthy facts): one short line each. */
  notes: string[]
  details: Record<string, unknown>
}

export interface ScenarioContext {
  quick: boolean
  /** ms since the epoch by which the scenario must have finished. */
  deadline: number
  /** Aborted when the deadline passes. */
  signal: AbortSignal
  log(message: string): void
  /** Registers a cleanup that runs when the scenario ends, also when it is abandoned at its deadline. */
  onCleanup(fn: () => Promise<void> | void): void
  /** Optional scenario-specific overrides (counts), from tests. */
  params: Record<string, number>
}

export interface Scenario {
  id: string
  name: string
  /** Deadline in ms for the full and the quick run. */
  deadlineMs: { full: number; quick: number }
  run(ctx: ScenarioContext): Promise<Omit<ScenarioResult, 'id' | 'name' | 'seconds'>>
}

export class DeadlineError extends Error {
  constructor(what: string) {
    super(`deadline passed while ${what}`)
    this.name = 'DeadlineError'
  }
}

/** Runs one scenario within its deadline; never throws (a failure becomes a failed result with a note). */
export async function runScenario(
  scenario: Scenario,
  options: { quick: boolean; params?: Record<string, number>; log?: (line: string) => void },
): Promise<ScenarioResult> {
  const started = performance.now()
  const budget = options.quick ? scenario.deadlineMs.quick : scenario.deadlineMs.full
  const controller = new AbortController()
  const cleanups: Array<() => Promise<void> | void> = []
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'))
  const ctx: ScenarioContext = {
    quick: options.quick,
    deadline: Date.now() + budget,
    signal: controller.signal,
    log: (message) => log(`[${scenario.id}] ${message}`),
    onCleanup: (fn) => void cleanups.push(fn),
    params: options.params ?? {},
  }
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => {
      controller.abort(new DeadlineError(`running scenario ${scenario.id}`))
      resolve('timeout')
    }, budget)
  })
  let outcome: Omit<ScenarioResult, 'id' | 'name' | 'seconds'>
  try {
    const result = await Promise.race([scenario.run(ctx), timedOut])
    outcome = result === 'timeout'
      ? failed(`deadline of ${Math.round(budget / 1000)} s passed`)
      : result
  } catch (err) {
    outcome = failed(err instanceof DeadlineError ? `deadline of ${Math.round(budget / 1000)} s passed (${err.message})` : `scenario error: ${(err as Error).stack ?? String(err)}`)
  } finally {
    clearTimeout(timer)
  }
  for (const fn of cleanups.reverse()) {
    try {
      await fn()
    } catch (err) {
      log(`[${scenario.id}] cleanup failed: ${(err as Error).message}`)
    }
  }
  return { id: scenario.id, name: scenario.name, ...outcome, seconds: (performance.now() - started) / 1000 }
}

function failed(note: string): Omit<ScenarioResult, 'id' | 'name' | 'seconds'> {
  return { runs: '-', lost: null, crashes: 0, forks: 'n/a', honestBanned: null, ok: false, notes: [note], details: {} }
}

// ---------------------------------------------------------------- replica digest

export interface HeadView { feed: string; seq: number; id: string; equivocating?: boolean }
export interface ProofView { feed: string; seq: number; ids: [string, string] }

/** See the header comment: the one definition of a node's replica digest. */
export function replicaDigest(view: { heads: HeadView[]; proofs: ProofView[] | { count: number } }): string {
  const flagged = new Set<string>([
    ...view.heads.filter((h) => h.equivocating).map((h) => h.feed),
    ...(Array.isArray(view.proofs) ? view.proofs.map((p) => p.feed) : []),
  ])
  const lines: string[] = []
  const heads = [...view.heads].sort((a, b) => (a.feed < b.feed ? -1 : a.feed > b.feed ? 1 : 0))
  for (const h of heads) if (!flagged.has(h.feed)) lines.push(`head ${h.feed} ${h.seq} ${h.id}`)
  for (const feed of [...flagged].sort()) lines.push(`flagged ${feed}`)
  if (Array.isArray(view.proofs)) {
    const proofLines = view.proofs.map((p) => {
      const [a, b] = [...p.ids].sort()
      return `proof ${p.feed} ${p.seq} ${a} ${b}`
    })
    lines.push(...proofLines.sort())
  } else {
    lines.push(`proofs ${view.proofs.count}`)
  }
  return createHash('sha256').update(lines.join('\n')).digest('hex')
}

/** True when the node has detected a fork of `feed`: its head is flagged, or it holds a proof about it. */
export function forkDetected(view: { heads: HeadView[]; proofs: ProofView[] | { count: number } }, feed: string): boolean {
  return view.heads.some((h) => h.feed === feed && h.equivocating) || (Array.isArray(view.proofs) && view.proofs.some((p) => p.feed === feed))
}

// ---------------------------------------------------------------- waiting

export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve()
    const onAbort = () => {
      clearTimeout(timer)
      resolve()
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })

export function checkDeadline(ctx: ScenarioContext, what: string): void {
  if (ctx.signal.aborted || Date.now() > ctx.deadline) throw new DeadlineError(what)
}

/** Polls `probe` until it returns a truthy value or `untilMs` (epoch ms) passes; returns undefined then. */
export async function pollUntil<T>(ctx: ScenarioContext, untilMs: number, everyMs: number, probe: () => Promise<T | undefined | false> | T | undefined | false): Promise<T | undefined> {
  for (;;) {
    checkDeadline(ctx, 'polling')
    let value: T | undefined | false
    try {
      value = await probe()
    } catch {
      value = undefined // a node being restarted does not answer: try again
    }
    if (value) return value
    if (Date.now() >= untilMs) return undefined
    await sleep(everyMs, ctx.signal)
  }
}

// ---------------------------------------------------------------- HTTP

export interface ApiTarget { apiUrl: string; token: string }

export class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message)
  }
}

/** One call to a node's API with a timeout; throws HttpError for non-2xx answers. */
export async function api<T>(m: ApiTarget, method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs = 10_000): Promise<T> {
  const response = await fetch(m.apiUrl + path, {
    method,
    headers: { authorization: `Bearer ${m.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  })
  const text = await response.text()
  if (!response.ok) throw new HttpError(response.status, `${method} ${path}: HTTP ${response.status} ${text.slice(0, 300)}`)
  return JSON.parse(text) as T
}

/** The parts of GET /v1/status the suite reads. */
export interface NodeStatus {
  /** The node's own digest (docs/protocol.md §3.1), when it reports one. */
  replicaDigest?: string
  records: number
  signals: number
  equivocations: number
  heads: Array<{ feed: string; seq: number; id: string; equivocating: boolean }>
  network: null | {
    peers: number
    peerList: Array<{ peerId: string; invalid: number }>
    metrics: {
      sync: { recordsServed: number }
      hygiene: { bansTotal: number; invalidByPeer: Record<string, number>; bannedUntil: Record<string, number> }
    }
  }
}

export const status = (m: ApiTarget) => api<NodeStatus>(m, 'GET', '/v1/status')

/** The proofs a running node holds (GET /v1/equivocations), or their number when it has no such route. */
export async function proofsOf(m: ApiTarget, s: NodeStatus): Promise<ProofView[] | { count: number }> {
  try {
    const res = await api<{ equivocations: Array<{ feed: string; seq: number; ids: [string, string] }> }>(m, 'GET', '/v1/equivocations')
    return res.equivocations.map((p) => ({ feed: p.feed, seq: p.seq, ids: p.ids }))
  } catch (err) {
    if (err instanceof HttpError && err.status === 404) return { count: s.equivocations }
    throw err
  }
}

/** Bans and invalid-item counts a node holds against any of `honestPeers`. */
export function hygieneAgainst(s: NodeStatus, honestPeers: Set<string>): { banned: string[]; penalised: Record<string, number> } {
  const h = s.network?.metrics.hygiene
  const banned = Object.keys(h?.bannedUntil ?? {}).filter((p) => honestPeers.has(p))
  const penalised: Record<string, number> = {}
  for (const [p, n] of Object.entries(h?.invalidByPeer ?? {})) if (honestPeers.has(p) && n > 0) penalised[p] = n
  for (const p of s.network?.peerList ?? []) if (honestPeers.has(p.peerId) && p.invalid > 0) penalised[p.peerId] = Math.max(penalised[p.peerId] ?? 0, p.invalid)
  return { banned, penalised }
}

/** Seeded PRNG (sfc32): the same seed gives the same kill times and fuzz inputs. */
export class Prng {
  private a: number
  private b: number
  private c: number
  private d: number

  constructor(seed: number) {
    this.a = 0x9e3779b9
    this.b = 0x243f6a88
    this.c = 0xb7e15162
    this.d = seed >>> 0
    for (let i = 0; i < 15; i++) this.next()
  }

  /** Uniform uint32. */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0
    this.d = (this.d + 1) | 0
    this.a = this.b ^ (this.b >>> 9)
    this.b = (this.c + (this.c << 3)) | 0
    this.c = (this.c << 21) | (this.c >>> 11)
    this.c = (this.c + t) | 0
    return t >>> 0
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return n <= 0 ? 0 : Math.floor((this.next() / 0x1_0000_0000) * n)
  }

  chance(p: number): boolean {
    return this.next() / 0x1_0000_0000 < p
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n)
    for (let i = 0; i < n; i++) out[i] = this.next() & 0xff
    return out
  }
}

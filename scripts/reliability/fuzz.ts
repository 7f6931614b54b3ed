/**
 * Scenario g: fuzzing every decoder and the gossip and sync handlers, in this process.
 *
 * Targets (each gets the same number of inputs, from fuzz-inputs.ts, seeded):
 *   record codec      decodeAndVerify(bytes)
 *   roster codec      decodeSignedRoster(bytes), and RosterState.accept(bytes) with the golden genesis
 *                     pinned, both before and after the genesis is installed (successor path)
 *   sync requests     decodeRequest(bytes)
 *   sync responses    decodeResponse(bytes)
 *   extras decoder    decodeExtra(bytes)
 *   extras handler    the node's receiveExtra (decode, proof and roster checks, store)
 *   gossip validator  the validator Gossip installs on both topics, over a real node (LevelDB store,
 *                     signature worker, roster of three members) behind a stand-in for gossipsub
 *   sync server       the SYNC_PROTOCOL handler on an in-memory stream (memory-stream.ts), fed raw bytes: mutated
 *                     sequences of framed golden requests (length prefixes included); every answer it
 *                     sends must decode as a response
 *   sync client       a whole client session (runSyncSession, the node's replica) against a lying server
 *                     that answers each request with the right response (from a feed of 3,000 valid
 *                     records the node lacks), mutated with probability 0.4
 * A crash: a decoder throws something that is not a HashmeshError; a handler (which must answer every
 * input with a verdict) throws or rejects; an uncaught exception or unhandled rejection while a target
 * runs; a handler still busy after 30 s (a sync client session: after 5.5 minutes; one that ends
 * after 30 s is listed as slow); a sync session that ends with NODE_UNREACHABLE or INTERNAL
 * (an untyped error caught at the top; the in-memory stream never fails by itself). With
 * params.libp2pStreams = 1 the two sync targets run over @libp2p/utils' mock muxer instead (~10 ms of CPU
 * per session: use with fewer inputs). RELIABILITY_FUZZ_TARGETS="sync client,record codec" runs only those.
 */
import '../../src/shim.js'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as dagCbor from '@ipld/dag-cbor'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import type { Stream } from '@libp2p/interface'
import { lpStream, streamPair } from '@libp2p/utils'
import { isHashmeshError } from '../../src/errors.js'
import { newCounters, type NetContext } from '../../src/net/context.js'
import { Gossip } from '../../src/net/gossip.js'
import { PeerHygiene } from '../../src/net/peer-hygiene.js'
import { runSyncSession } from '../../src/net/sync-client.js'
import { createSyncHandler } from '../../src/net/sync-server.js'
import { extrasTopic, recordsTopic } from '../../src/net/index.js'
import { initDataDir } from '../../src/node/identity.js'
import { HashmeshNode } from '../../src/node/node.js'
import { RosterState } from '../../src/node/roster-state.js'
import { createRecord } from '../../src/record/build.js'
import { decodeAndVerify } from '../../src/record/codec.js'
import { keyPairFromSeed, Signer, toHex } from '../../src/record/crypto.js'
import { decodeSignedRoster, encodeSignedRoster, signRoster } from '../../src/record/roster.js'
import type { VerifiedRecord } from '../../src/record/types.js'
import { decodeExtra } from '../../src/sync/extras-wire.js'
import { serveRequest } from '../../src/sync/serve.js'
import type { ReplicaAccess } from '../../src/sync/types.js'
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from '../../src/sync/wire.js'
import { Prng, type Scenario, type ScenarioContext, type ScenarioResult } from './common.js'
import { fuzzInput, loadGoldens, mutateBytes, mutateStructure, type Goldens } from './fuzz-inputs.js'
import { memoryStreamPair, readToEnd } from './memory-stream.js'

interface Target {
  name: string
  goldens: Uint8Array[]
  /** Inputs in flight at once (stream sessions wait on libp2p's setTimeout(0) hops, not on the CPU). */
  concurrency?: number
  /** Returns a crash description, or undefined when the input was handled (accepted or refused with a typed error). */
  run(input: Uint8Array, i: number, rng: Prng): Promise<string | undefined> | string | undefined
}

const FEDERATION = 'fuzz'
const HANG_MS = 30_000
/** How much longer a sync client session that is still running after HANG_MS may take before it counts as a hang. */
const SLOW_SESSION_MS = 300_000
/** Sync client sessions that outlasted HANG_MS but ended (reported, not counted as crashes). */
const slowSessions: Array<{ input: number; ms: number; accepted: number; requests: number }> = []

/** A decoder may refuse input only with a HashmeshError. */
function decoderTarget(name: string, goldens: Uint8Array[], decode: (bytes: Uint8Array) => unknown): Target {
  return {
    name,
    goldens,
    run(input) {
      try {
        decode(input)
      } catch (err) {
        if (!isHashmeshError(err)) return `${(err as Error)?.name}: ${(err as Error)?.message}`
      }
      return undefined
    },
  }
}

/** The node's ReplicaAccess as the network gets it (its location moved between versions of the code). */
async function replicaOf(node: HashmeshNode): Promise<ReplicaAccess> {
  const n = node as unknown as { wiringParts?: () => unknown }
  if (typeof n.wiringParts === 'function') {
    const wiring = (await import('../../src/node/network-wiring.js' as string)) as { replicaAccess(parts: unknown): ReplicaAccess }
    return wiring.replicaAccess(n.wiringParts())
  }
  const runNode = (await import('../../src/api/run-node.js' as string)) as { replicaAccess(node: HashmeshNode): ReplicaAccess }
  return runNode.replicaAccess(node)
}

interface Fixture {
  node: HashmeshNode
  replica: ReplicaAccess
  chain: VerifiedRecord[]
  rosterExtra: Uint8Array
  proofExtra: Uint8Array
  close(): Promise<void>
}

/**
 * A node of federation "fuzz" whose roster has three members: the node, the golden vectors' author and
 * a chain author; it holds the chain author's first 200 records (the lying sync server offers 3,000).
 */
async function fixture(goldens: Goldens, rng: Prng): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'hashmesh-fuzz-'))
  const identity = await initDataDir(join(dir, 'node'), { name: 'Fuzz' })
  const golden = new Signer(keyPairFromSeed(goldens.recordSeed))
  const author = new Signer(keyPairFromSeed(new Uint8Array(32).fill(0x42)))
  let roster = signRoster({
    document: {
      federation: FEDERATION, serial: 1, prev: null, createdAt: 1_764_000_000_000,
      members: [
        { name: 'Fuzz', key: identity.memberKey, peers: [identity.peerId] },
        { name: 'Golden', key: golden.publicKeyHex, peers: [] },
        { name: 'Author', key: author.publicKeyHex, peers: [] },
      ],
    },
    signatures: [],
  }, golden)
  roster = signRoster(roster, author)
  roster = signRoster(roster, new Signer(identity.memberKeyPair))
  const node = await HashmeshNode.open(join(dir, 'node'))
  const installed = await node.installRoster(encodeSignedRoster(roster), true)
  if (installed.verdict !== 'accepted') throw new Error(`fuzz roster refused: ${installed.code} ${installed.message}`)
  const chain: VerifiedRecord[] = []
  let head: { seq: number; id: string | null } = { seq: 0, id: null }
  for (let i = 0; i < 3000; i++) {
    const rec = createRecord(author, head, 'signals', {
      signals: [{ type: 'pdq', value: toHex(rng.bytes(32)), quality: 90 }, { type: 'md5', value: toHex(rng.bytes(16)) }],
      contentType: 'photo',
      labels: ['behavior:glorification'],
    }, 1_764_000_000_000 + i)
    chain.push(rec)
    head = { seq: rec.record.seq, id: rec.record.id }
  }
  await node.receive(chain.slice(0, 200).map((r) => r.bytes))
  // a proof against the golden author (not the chain author, whose feed must stay open for the sync targets)
  const goldenFirst = createRecord(golden, { seq: 0, id: null }, 'signals', { signals: [{ type: 'sha256', value: toHex(rng.bytes(32)) }], contentType: 'photo', labels: [] }, 1)
  const fork = createRecord(golden, { seq: 0, id: null }, 'signals', { signals: [{ type: 'sha256', value: toHex(rng.bytes(32)) }], contentType: 'photo', labels: [] }, 2)
  return {
    node,
    replica: await replicaOf(node),
    chain,
    rosterExtra: dagCbor.encode({ type: 'roster', roster: encodeSignedRoster(roster) }),
    proofExtra: dagCbor.encode({ type: 'equivocation', records: [goldenFirst.bytes, fork.bytes].sort((a, b) => Buffer.compare(a, b)) }),
    close: async () => {
      await node.close().catch(() => undefined)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

function netContext(replica: ReplicaAccess, signal: AbortSignal): NetContext {
  const hygiene = new PeerHygiene()
  return {
    replica,
    hygiene,
    counters: newCounters(),
    log: () => undefined,
    signal,
    penalize: (peerId: string, n: number, reason: string) => void (hygiene.reportInvalid as (p: string, n: number, r: string) => boolean)(peerId, n, reason),
  } as NetContext
}

/** Settles with the promise, or with 'hang' after ms. */
async function within<T>(ms: number, p: Promise<T>): Promise<T | 'hang'> {
  let timer: NodeJS.Timeout | undefined
  const hang = new Promise<'hang'>((resolve) => (timer = setTimeout(() => resolve('hang'), ms)))
  try {
    return await Promise.race([p, hang])
  } finally {
    clearTimeout(timer)
  }
}

function varintFrame(payload: Uint8Array): Uint8Array {
  const head: number[] = []
  let n = payload.length
  while (n >= 0x80) {
    head.push((n & 0x7f) | 0x80)
    n >>>= 7
  }
  head.push(n)
  const out = new Uint8Array(head.length + payload.length)
  out.set(head, 0)
  out.set(payload, head.length)
  return out
}

/** Splits a byte string into varint-length-prefixed frames; undefined when it is not exactly that. */
function splitFrames(bytes: Uint8Array): Uint8Array[] | undefined {
  const frames: Uint8Array[] = []
  let at = 0
  while (at < bytes.length) {
    let len = 0
    let shift = 0
    for (;;) {
      if (at >= bytes.length || shift > 28) return undefined
      const b = bytes[at++]!
      len |= (b & 0x7f) << shift
      if ((b & 0x80) === 0) break
      shift += 7
    }
    if (at + len > bytes.length) return undefined
    frames.push(bytes.subarray(at, at + len))
    at += len
  }
  return frames
}

function handlerTargets(f: Fixture, goldens: Goldens, signal: AbortSignal, libp2pStreams: boolean): Target[] {
  const pair = (): Promise<[Stream, Stream]> => (libp2pStreams ? streamPair() : Promise.resolve(memoryStreamPair()))
  const feed = f.chain[0]!.record.author
  // gossip, behind a stand-in for gossipsub that only keeps the validators
  const validators = new Map<string, (peer: unknown, msg: unknown) => Promise<TopicValidatorResult>>()
  const pubsub = { topicValidators: validators, subscribe: () => undefined, unsubscribe: () => undefined, getSubscribers: () => [], publish: async () => ({ recipients: [] }) }
  const gossipCtx = netContext(f.replica, signal)
  const gossip = new Gossip(pubsub as never, gossipCtx, FEDERATION, async () => undefined)
  gossip.start()
  const validate = { records: validators.get(recordsTopic(FEDERATION))!, extras: validators.get(extrasTopic(FEDERATION))! }
  const verdicts = new Set<unknown>(Object.values(TopicValidatorResult))
  const gossipGoldens = [...goldens.records, ...f.chain.slice(200, 260).map((r) => r.bytes), ...f.chain.slice(0, 5).map((r) => r.bytes), f.rosterExtra, f.proofExtra, ...goldens.rosterExtras]

  // the sync server handler
  const serverCtx = netContext(f.replica, signal)
  const handler = createSyncHandler(serverCtx)
  const realRequests = [
    encodeRequest({ type: 'heads' }),
    encodeRequest({ type: 'range', feed, from: 1, count: 5 }),
    encodeRequest({ type: 'range', feed, from: 150, count: 100 }),
    encodeRequest({ type: 'extras', offset: 0 }),
  ]
  const requestStreams: Uint8Array[] = []
  for (let i = 0; i < 24; i++) {
    const rng = new Prng(1000 + i)
    const frames = Array.from({ length: 1 + rng.int(5) }, () => varintFrame(rng.pick([...goldens.requests, ...realRequests])))
    requestStreams.push(Uint8Array.from(Buffer.concat(frames)))
  }
  requestStreams.push(...goldens.requestFrames)

  // the lying server's truth: the chain author's 3,000 records, the fuzz roster and a proof as extras
  const truth = {
    heads: async () => [{ feed, seq: f.chain.length, id: f.chain.at(-1)!.record.id }],
    readRange: async (_feed: string, from: number, limit: number) => (_feed === feed ? f.chain.slice(from - 1, from - 1 + limit).map((r) => r.bytes) : []),
    extras: async () => [f.rosterExtra, f.proofExtra],
  } as unknown as ReplicaAccess
  const responsePool = [...goldens.responses]

  return [
    {
      name: 'gossip validator',
      goldens: gossipGoldens,
      async run(input, i) {
        const kind = i % 4 === 3 ? 'extras' : 'records'
        const topic = kind === 'records' ? recordsTopic(FEDERATION) : extrasTopic(FEDERATION)
        try {
          const result = await within(HANG_MS, validate[kind]({ toString: () => `gossip-${i % 5000}` }, { type: 'unsigned', topic, data: input }))
          if (result === 'hang') return 'validator still busy after 30 s'
          if (!verdicts.has(result)) return `validator answered ${String(result)}`
        } catch (err) {
          return `validator threw ${(err as Error)?.name}: ${(err as Error)?.message}`
        }
        return undefined
      },
    },
    {
      name: 'sync server',
      goldens: requestStreams,
      concurrency: 32,
      async run(input, i) {
        const [client, server] = await pair()
        const answering = readToEnd(client)
        const handled = handler(server, { remotePeer: { toString: () => `client-${i}` } } as never)
        try {
          if (input.length > 0) client.send(input)
          await client.close()
        } catch {
          /* the server may already have ended the stream */
        }
        const answer = await within(HANG_MS, answering)
        const done = await within(HANG_MS, handled.then(() => 'ok', (err: unknown) => `handler rejected: ${(err as Error)?.message}`))
        if (answer === 'hang' || done === 'hang') {
          client.abort(new Error('fuzz: hang'))
          return 'handler still busy after 30 s'
        }
        if (done !== 'ok') return done
        const frames = splitFrames(answer)
        if (!frames) return 'the server sent bytes that are not whole frames'
        for (const frame of frames) {
          try {
            decodeResponse(frame)
          } catch (err) {
            return `the server sent a response that does not decode: ${(err as Error).message}`
          }
        }
        return undefined
      },
    },
    {
      name: 'sync client',
      goldens: [new Uint8Array(1)], // inputs are not used: the lying server mutates each response itself
      concurrency: 8,
      async run(_input, i, rng) {
        const [client, server] = await pair()
        const lying = (async () => {
          const lp = lpStream(server, { maxDataLength: 4 * 1024 * 1024 })
          try {
            for (let n = 0; n < 256; n++) {
              let frame: Uint8Array
              try {
                frame = (await lp.read({ signal: AbortSignal.timeout(HANG_MS) })).subarray()
              } catch {
                break // the client closed (or gave up)
              }
              const req = decodeRequest(frame)
              let res = encodeResponse(await serveRequest(truth, req))
              if (rng.chance(0.4)) {
                const r = rng.int(10)
                res = r < 5 ? mutateStructure(rng, res) ?? res : r < 9 ? mutateBytes(rng, res, responsePool) : rng.pick(responsePool)
              }
              await lp.write(res)
            }
            await server.close()
          } catch {
            server.abort(new Error('lying server done'))
          }
        })()
        try {
          const started = Date.now()
          const session = runSyncSession(netContext(f.replica, signal), `server-${i}`, async () => client)
          // A session that keeps receiving valid records may outlast 30 s on a loaded host (early on, 8 at
          // a time catch up on 2,800 records each): give it 5 minutes before calling it a hang.
          let report = await within(HANG_MS, session)
          if (report === 'hang') report = await within(SLOW_SESSION_MS, session)
          await within(HANG_MS, lying)
          if (report === 'hang') {
            client.abort(new Error('fuzz: hang'))
            return `session still running after ${(HANG_MS + SLOW_SESSION_MS) / 1000} s`
          }
          if (Date.now() - started > HANG_MS) slowSessions.push({ input: i, ms: Date.now() - started, accepted: report.records.accepted, requests: report.requests })
          const code = report.error?.code
          if (code === 'NODE_UNREACHABLE' || code === 'INTERNAL') return `session ended with ${code}: ${report.error!.message}`
        } catch (err) {
          return `runSyncSession threw ${(err as Error)?.name}: ${(err as Error)?.message}`
        }
        return undefined
      },
    },
  ]
}

export async function fuzz(ctx: ScenarioContext, o: { inputs: number; seed: number; libp2pStreams: boolean }): Promise<Omit<ScenarioResult, 'id' | 'name' | 'seconds'>> {
  const goldens = loadGoldens()
  const rng = new Prng(o.seed)
  const abort = new AbortController()
  const f = await fixture(goldens, rng)
  ctx.onCleanup(() => {
    abort.abort()
    return f.close()
  })
  const rosterPinned = () => new RosterState(goldens.genesisId, '00'.repeat(32))
  const rosterWithGenesis = (() => {
    let state = rosterPinned()
    state.accept(goldens.rosters[0]!)
    return () => {
      if (state.versions().length !== 1) {
        state = rosterPinned()
        state.accept(goldens.rosters[0]!)
      }
      return state
    }
  })()
  const targets: Target[] = [
    decoderTarget('record codec', [...goldens.records, ...f.chain.slice(0, 3).map((r) => r.bytes)], decodeAndVerify),
    decoderTarget('roster codec', goldens.rosters, (bytes) => {
      decodeSignedRoster(bytes)
      // accept() answers a verdict for anything: a throw of any kind is a crash
      for (const state of [rosterPinned(), rosterWithGenesis()]) {
        try {
          state.accept(bytes)
        } catch (err) {
          throw new Error(`RosterState.accept threw ${(err as Error)?.name}: ${(err as Error)?.message}`)
        }
      }
    }),
    decoderTarget('sync requests', goldens.requests, decodeRequest),
    decoderTarget('sync responses', goldens.responses, decodeResponse),
    decoderTarget('extras decoder', [...goldens.rosterExtras, f.rosterExtra, f.proofExtra], decodeExtra),
    {
      name: 'extras handler',
      goldens: [...goldens.rosterExtras, f.rosterExtra, f.proofExtra],
      async run(input) {
        try {
          const result = await within(HANG_MS, f.replica.receiveExtra(input, 'fuzz'))
          if (result === 'hang') return 'receiveExtra still busy after 30 s'
          if (!['accepted', 'duplicate', 'pending', 'rejected'].includes(result.verdict)) return `verdict ${String(result.verdict)}`
        } catch (err) {
          return `receiveExtra threw ${(err as Error)?.name}: ${(err as Error)?.message}`
        }
        return undefined
      },
    },
    ...handlerTargets(f, goldens, abort.signal, o.libp2pStreams),
  ]

  const only = process.env.RELIABILITY_FUZZ_TARGETS?.split(',').map((t) => t.trim()).filter(Boolean)
  if (only) targets.splice(0, targets.length, ...targets.filter((t) => only.includes(t.name)))

  // Anything thrown outside the awaited calls (timers, stream internals) is charged to the running target.
  let current = ''
  const stray: string[] = []
  const onStray = (err: unknown) => stray.push(`${current}: ${(err as Error)?.stack?.split('\n').slice(0, 3).join(' | ') ?? String(err)}`)
  process.on('uncaughtException', onStray)
  process.on('unhandledRejection', onStray)
  const perTarget: Record<string, { inputs: number; crashes: number; seconds: number; samples: string[] }> = {}
  let crashes = 0
  let inputs = 0
  let stoppedEarly = false
  try {
    for (const target of targets) {
      current = target.name
      const t = performance.now()
      const stat = { inputs: 0, crashes: 0, seconds: 0, samples: [] as string[] }
      perTarget[target.name] = stat
      const strayBefore = stray.length
      const limit = target.concurrency ?? 1
      const inFlight = new Set<Promise<void>>()
      for (let i = 0; i < o.inputs; i++) {
        if (ctx.signal.aborted || Date.now() > ctx.deadline - 5_000) {
          stoppedEarly = true
          break
        }
        const input = fuzzInput(rng, target.goldens)
        // each input has its own PRNG for what the target draws while it runs (reproducible in parallel)
        const inputRng = new Prng((o.seed ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0)
        const one = (async () => {
          let crash: string | undefined
          try {
            crash = await target.run(input, i, inputRng)
          } catch (err) {
            crash = `harness: ${(err as Error)?.message}`
          }
          stat.inputs++
          if (crash) {
            stat.crashes++
            if (stat.samples.length < 3) stat.samples.push(`${crash.slice(0, 300)} (input ${i}: ${Buffer.from(input.subarray(0, 48)).toString('hex')}…, ${input.length} bytes)`)
          }
        })()
        inFlight.add(one)
        void one.finally(() => inFlight.delete(one))
        if (inFlight.size >= limit) await Promise.race(inFlight)
        // let timers and stream internals run now and then
        if (i % 256 === 255) await new Promise((r) => setImmediate(r))
      }
      await Promise.all(inFlight)
      await new Promise((r) => setTimeout(r, 50))
      const strays = stray.length - strayBefore
      stat.crashes += strays
      for (const s of stray.slice(strayBefore, strayBefore + 3)) if (stat.samples.length < 6) stat.samples.push(`uncaught: ${s.slice(0, 300)}`)
      stat.seconds = +((performance.now() - t) / 1000).toFixed(1)
      crashes += stat.crashes
      inputs += stat.inputs
      ctx.log(`${target.name}: ${stat.inputs} inputs, ${stat.crashes} crashes, ${stat.seconds} s${stat.samples.length ? `\n    ${stat.samples.join('\n    ')}` : ''}`)
      if (stoppedEarly) break
    }
  } finally {
    process.off('uncaughtException', onStray)
    process.off('unhandledRejection', onStray)
  }
  const notes: string[] = []
  if (stoppedEarly) notes.push(`stopped at the deadline after ${inputs} inputs`)
  if (slowSessions.length > 0) notes.push(`${slowSessions.length} sync client sessions outlasted 30 s and then ended (longest ${Math.round(Math.max(...slowSessions.map((x) => x.ms)) / 1000)} s): not crashes`)
  for (const [name, stat] of Object.entries(perTarget)) if (stat.crashes > 0) notes.push(`${name}: ${stat.crashes} crashes, e.g. ${stat.samples[0]}`)
  const perTargetInputs = Object.values(perTarget).map((s) => s.inputs)
  const slow = [...slowSessions]
  slowSessions.length = 0
  return {
    runs: `${targets.length} x ${Math.min(...perTargetInputs)} inputs`,
    lost: null,
    crashes,
    forks: 'n/a',
    honestBanned: null,
    ok: crashes === 0 && !stoppedEarly && perTargetInputs.length === targets.length,
    notes,
    details: { seed: o.seed, perTarget, slowSyncSessions: slow },
  }
}

export const scenarioG: Scenario = {
  id: 'g',
  name: 'fuzz decoders and handlers',
  deadlineMs: { full: 30 * 60_000, quick: 120_000 },
  run: (ctx) => fuzz(ctx, {
    inputs: ctx.params.inputs ?? (ctx.quick ? 1_000 : 100_000),
    seed: ctx.params.seed ?? 20261129,
    libp2pStreams: ctx.params.libp2pStreams === 1,
  }),
}

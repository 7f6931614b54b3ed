/**
 * The incidents fast path (docs/protocol.md §9): a third gossip topic, incidentsTopic(federationId), for
 * incident notices and contributions that name an open incident, published to every connected subscriber
 * (gossipsub floodPublish for this topic only, not just the mesh); and INCIDENTS_PROTOCOL, a one-shot
 * stream on which a peer sends the notices of its open incidents, asked right after a connection, so a
 * node that joins mid-incident has them before its first sync session ends. A new notice starts a sync
 * round with every connected peer (at most one per PRIORITY_SYNC_MIN_GAP_MS); a record that does not link
 * yet (pending: earlier records of its feed missing here) starts a sync session with the peer it came from.
 *
 * A node that predates incidents neither subscribes to the topic nor speaks the protocol: it never gets
 * either (the contributions reach it on the records topic and by sync, as ordinary records).
 *
 * Penalties: only a message that cannot be an honest relay's (it does not decode, its signature fails,
 * it is oversized) counts against the sender. A notice refused for reasons of time or local state (expired
 * here, rate limited, unknown incident) is ignored: clocks and arrival orders differ between honest nodes.
 */
import { TopicValidatorResult, type GossipSub, type Message } from '@libp2p/gossipsub'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import { safetyCatch } from '../errors.js'
import { incidentsTopic, INCIDENTS_PROTOCOL } from '../protocol-ids.js'
import type { ReceiveResult } from '../sync/types.js'
import type { NetContext } from './context.js'
import type { PriorityAccess } from './types.js'
import { FramedStream } from './stream-io.js'
import { MAX_PRIORITY_MESSAGE_BYTES } from '../record/priority-wire.js'


/** Largest incidents-topic message: the envelope's own bound (record/priority-wire.ts), one constant for both. */
export { MAX_PRIORITY_MESSAGE_BYTES }
/** Notices sent or taken on one catch-up stream. */
export const MAX_CATCHUP_NOTICES = 64
/** After a peer joins the topic, its open notices are asked for at once and again this long after. */
export const CATCHUP_AGAIN_MS = [2_000, 8_000]
/** Smallest gap between two sync rounds started by new notices. */
export const PRIORITY_SYNC_MIN_GAP_MS = 1_000
const SENDER_FAULTS = new Set(['RECORD_DECODE', 'RECORD_TOO_LARGE', 'SIGNATURE_INVALID', 'RECORD_VERSION'])

export class PriorityChannel {
  readonly topic: string
  private lastRound = 0
  readonly counters = { published: 0, publishNoPeers: 0, accepted: 0, duplicate: 0, ignored: 0, rejected: 0, catchUpNotices: 0, catchUpFailed: 0, syncRounds: 0, gapSyncs: 0 }

  constructor(
    private readonly pubsub: GossipSub,
    private readonly ctx: NetContext,
    federationId: string,
    private readonly access: PriorityAccess,
    /** A sync round with every connected peer. */
    private readonly syncAll: () => Promise<unknown>,
    /** A stream of INCIDENTS_PROTOCOL to a connected peer. */
    private readonly openCatchUp: (peerId: string) => Promise<Stream>,
    /** A sync session with one peer (a record of its is pending: we lack its author's earlier records). */
    private readonly syncWith?: (peerId: string) => Promise<unknown>,
  ) {
    this.topic = incidentsTopic(federationId)
  }

  private readonly onSubscriptionChange = (evt: CustomEvent<{ peerId: PeerId; subscriptions: Array<{ topic: string; subscribe: boolean }> }>): void => {
    // a peer (newly) on the topic: what it has open, we take (it does the same with ours). Asked again a
    // little later: a notice the peer published in the moment before it knew of our subscription reached
    // nobody here, and gossip never sends it again (seen in CI: an incident declared right after two
    // members connected reached the other only at the next sync session, a minute later).
    if (!evt.detail.subscriptions.some((s) => s.topic === this.topic && s.subscribe)) return
    const peer = evt.detail.peerId.toString()
    void this.catchUp(peer)
    // One set of repeats per peer: gossipsub reports a subscription again with every message that carries
    // one, so a peer re-announcing it must not pile up timers and catch-up streams.
    if (this.repeats.has(peer)) return
    let left = CATCHUP_AGAIN_MS.length
    const timers = CATCHUP_AGAIN_MS.map((ms) => {
      const timer = setTimeout(() => {
        if (--left === 0) this.repeats.delete(peer)
        void this.catchUp(peer)
      }, ms)
      timer.unref()
      return timer
    })
    this.repeats.set(peer, timers)
  }

  /** Peers with catch-up repeats pending (at most one set each). */
  get repeatingPeers(): number {
    return this.repeats.size
  }

  /** Per peer: the pending repeats of its catch-up (at most one set). */
  private readonly repeats = new Map<string, ReturnType<typeof setTimeout>[]>()
  /** Peers a gap sync is running with (one at a time each: a second would queue behind it). */
  private readonly gapSyncing = new Set<string>()

  start(): void {
    this.pubsub.topicValidators.set(this.topic, (peer, msg) => this.validate(peer, msg))
    this.pubsub.subscribe(this.topic)
    this.pubsub.addEventListener('subscription-change', this.onSubscriptionChange as unknown as EventListener)
  }

  stop(): void {
    for (const timers of this.repeats.values()) for (const timer of timers) clearTimeout(timer)
    this.repeats.clear()
    this.pubsub.removeEventListener('subscription-change', this.onSubscriptionChange as unknown as EventListener)
    this.pubsub.topicValidators.delete(this.topic)
    try {
      this.pubsub.unsubscribe(this.topic)
    } catch (err) {
      if (!/not started/.test((err as Error).message)) throw err
    }
  }

  /** To every connected subscriber of the topic, mesh or not; never throws (sync delivers what this misses). */
  async publish(message: Uint8Array): Promise<boolean> {
    if (this.pubsub.getSubscribers(this.topic).length === 0) {
      this.counters.publishNoPeers++
      return false
    }
    try {
      // the implementation takes per-message options (floodPublish overrides the node-wide false); its interface type does not list them
      await (this.pubsub as unknown as { publish(topic: string, data: Uint8Array, opts: { floodPublish: boolean }): Promise<unknown> }).publish(this.topic, message, { floodPublish: true })
      this.counters.published++
      return true
    } catch (err) {
      if (!/NoPeersSubscribedToTopic|Duplicate/.test(String((err as Error).message ?? err))) this.ctx.log('priority.publish.failed', { message: (err as Error).message })
      this.counters.publishNoPeers++
      return false
    }
  }

  private async validate(peer: PeerId, msg: Message): Promise<TopicValidatorResult> {
    const peerId = peer.toString()
    if (msg.data.byteLength === 0 || msg.data.byteLength > MAX_PRIORITY_MESSAGE_BYTES) {
      this.ctx.penalize(peerId, 1, `incidents topic message of ${msg.data.byteLength} bytes`)
      return TopicValidatorResult.Reject
    }
    const result = await this.receive(msg.data, peerId)
    if (!result) return TopicValidatorResult.Ignore
    if (result.verdict === 'accepted' || result.verdict === 'pending') return TopicValidatorResult.Accept
    if (result.verdict === 'rejected' && SENDER_FAULTS.has(result.code ?? '')) {
      this.ctx.log('priority.rejected', { peer: peerId, code: result.code, message: result.message })
      this.ctx.penalize(peerId, 1, `rejected incidents topic message: ${result.code}`)
      return TopicValidatorResult.Reject
    }
    return TopicValidatorResult.Ignore
  }

  private async receive(data: Uint8Array, peerId: string): Promise<(ReceiveResult & { notice?: boolean }) | undefined> {
    let result: ReceiveResult & { notice?: boolean }
    try {
      result = await this.access.receive(data, peerId)
    } catch (err) {
      this.ctx.log('priority.receive.failed', { peer: peerId, message: (err as Error).message })
      return undefined
    }
    if (result.verdict === 'pending') {
      this.ctx.log('priority.record.pending', { peer: peerId, id: result.id })
      this.gapSyncSoon(peerId)
    }
    if (result.verdict === 'accepted' || result.verdict === 'pending') this.counters.accepted++
    else if (result.verdict === 'duplicate') this.counters.duplicate++
    else if (SENDER_FAULTS.has(result.code ?? '')) this.counters.rejected++
    else this.counters.ignored++
    if (result.verdict === 'accepted' && result.notice) this.syncRoundSoon()
    return result
  }

  /** A new incident notice: a sync round with every peer now (contributions may already be on their way). */
  private syncRoundSoon(): void {
    const now = Date.now()
    if (now - this.lastRound < PRIORITY_SYNC_MIN_GAP_MS) return
    this.lastRound = now
    this.counters.syncRounds++
    void this.syncAll().catch(safetyCatch) // each session reports its own failures
  }

  private readonly lastGapSync = new Map<string, number>()

  /**
   * A record from the topic does not link yet: we lack earlier records of its feed, more than its author
   * carried ahead of it (node/incident-wiring.ts). The relay has them (it could store the record): a sync
   * session with it now, not at the next periodic round (at most one per peer per PRIORITY_SYNC_MIN_GAP_MS).
   */
  private gapSyncSoon(peerId: string): void {
    if (!this.syncWith) return
    const now = Date.now()
    if (this.gapSyncing.has(peerId) || now - (this.lastGapSync.get(peerId) ?? 0) < PRIORITY_SYNC_MIN_GAP_MS) return
    if (this.lastGapSync.size >= 1_024) this.lastGapSync.clear() // bounded; forgetting only allows one more session
    this.lastGapSync.set(peerId, now)
    this.counters.gapSyncs++
    this.gapSyncing.add(peerId)
    void this.syncWith(peerId).catch(safetyCatch).finally(() => this.gapSyncing.delete(peerId)) // the session reports its own failures
  }

  /** Serves INCIDENTS_PROTOCOL: the open notices, one frame each, then close. */
  handler(): (stream: Stream, connection: Connection) => Promise<void> {
    return async (stream) => {
      const io = new FramedStream(stream, this.ctx.signal)
      try {
        for (const notice of this.access.openNotices().slice(0, MAX_CATCHUP_NOTICES)) await io.write(notice)
        await io.close()
      } catch (err) {
        io.abort(err)
        safetyCatch(err)
      }
    }
  }

  private readonly catchingUp = new Set<string>()

  /**
   * Asks a peer for its open incidents: when it joins the topic and after each sync session with it (the
   * repair path for a notice published before the peer's subscription was known). A peer without the
   * protocol (an older node): nothing to do.
   */
  async catchUp(peerId: string): Promise<void> {
    if (this.catchingUp.has(peerId) || this.ctx.signal.aborted) return
    this.catchingUp.add(peerId)
    try {
      await this.catchUpFrom(peerId)
    } finally {
      this.catchingUp.delete(peerId)
    }
  }

  private async catchUpFrom(peerId: string): Promise<void> {
    let stream: Stream
    try {
      stream = await this.openCatchUp(peerId)
    } catch (err) {
      safetyCatch(err) // an older node, or gone again
      return
    }
    const io = new FramedStream(stream, this.ctx.signal)
    try {
      for (let i = 0; i < MAX_CATCHUP_NOTICES; i++) {
        const frame = await io.read()
        if (frame === null) break
        this.counters.catchUpNotices++
        const result = await this.receive(frame, peerId)
        if (result?.verdict === 'rejected' && SENDER_FAULTS.has(result.code ?? '')) this.ctx.penalize(peerId, 1, `rejected incident notice on catch-up: ${result.code}`)
      }
      await io.close()
    } catch (err) {
      this.counters.catchUpFailed++
      io.abort(err)
      safetyCatch(err)
    }
  }
}

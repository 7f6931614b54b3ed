/**
 * Gossip of new records and extras over gossipsub, on two topics of the federation:
 *   records  recordsTopic(federationId) = /hashmesh/records/1/<federationId>
 *   extras   extrasTopic(federationId)  = /hashmesh/extras/1/<federationId>
 * Message data is the opaque encoded record (or extra) itself; messages are unsigned by gossipsub
 * (StrictNoSign: records carry their author's signature) and identified by SHA-256 of the data, so the
 * same record gossiped by two nodes is one message.
 *
 * Every incoming message passes the topic validator before it is delivered or forwarded:
 * size bound, then replica.receive; accepted/pending -> Accept, duplicate -> Ignore,
 * rejected -> Reject (gossipsub scores the sender down, and we count it against the peer).
 *
 * Rejections that are the author's fault (AUTHOR_FAULT_CODES: a fork, a frozen feed, a record that does
 * not link to our head) are ignored, not held against the relay: it may hold the other branch of a fork.
 * A record that does not link starts a sync session with the relay, which finds the fork and its proof.
 *
 * One rejection is not yet proof of fault: a record whose author is not in *our* roster (UNKNOWN_AUTHOR)
 * may come from an honest relay that already has a newer roster version adding that member. Such a
 * record is ignored for now and held; a sync session with the relay follows (it fetches the relay's
 * roster versions first), and then the held records are received again: accepted if the roster now
 * admits the author, otherwise rejected and counted against the relay.
 */
import { TopicValidatorResult, type GossipSub, type Message } from '@libp2p/gossipsub'
import type { PeerId } from '@libp2p/interface'
import { checkAborted, type AbortOptions } from '../abort.js'
import { fail, safetyCatch } from '../errors.js'
import { GOSSIP_LIMITS } from '../constants.js'
import { AUTHOR_FAULT_CODES, type ReceiveResult } from '../sync/types.js'
import type { NetContext } from './context.js'
import type { VerdictCounts } from './types.js'
import { extrasTopic, recordsTopic } from '../protocol-ids.js'

type Kind = 'records' | 'extras'

/** Records held per relay while its roster check runs; beyond this they count against it at once. */
export const MAX_HELD_PER_PEER = 64
/** Records held over all relays (bounds their memory: 1,024 records of at most 256 KiB each). */
export const MAX_HELD_TOTAL = 1024

export class Gossip {
  readonly topics: Record<Kind, string>
  /** Records of authors unknown to our roster, per relaying peer, waiting for a sync with that peer. */
  private readonly held = new Map<string, Uint8Array[]>()
  private heldTotal = 0
  /** Relays with a fork-resolving sync session under way (one at a time per relay). */
  private readonly forkChecks = new Set<string>()

  constructor(
    private readonly pubsub: GossipSub,
    private readonly ctx: NetContext,
    federationId: string,
    /** A fresh sync session with the peer (its roster versions first); settles when it has ended. */
    private readonly syncWith: (peerId: string) => Promise<unknown>,
  ) {
    this.topics = { records: recordsTopic(federationId), extras: extrasTopic(federationId) }
  }

  start(): void {
    for (const kind of ['records', 'extras'] as const) {
      this.pubsub.topicValidators.set(this.topics[kind], (peer, msg) => this.validate(kind, peer, msg))
      this.pubsub.subscribe(this.topics[kind])
    }
  }

  stop(): void {
    for (const topic of Object.values(this.topics)) {
      this.pubsub.topicValidators.delete(topic)
      try {
        this.pubsub.unsubscribe(topic)
      } catch (err) {
        // a stopped pubsub holds no subscriptions any more
        if (!/not started/.test((err as Error).message)) throw err
      }
    }
  }

  async publish(record: Uint8Array, options: AbortOptions = {}): Promise<void> {
    checkAborted(options.signal)
    if (record.byteLength === 0 || record.byteLength > GOSSIP_LIMITS.maxRecordBytes) {
      fail('RECORD_TOO_LARGE', `record of ${record.byteLength} bytes cannot be gossiped (max ${GOSSIP_LIMITS.maxRecordBytes})`)
    }
    if (await this.send(this.topics.records, record)) this.ctx.counters.gossip.published++
  }

  async publishExtra(bytes: Uint8Array, options: AbortOptions = {}): Promise<void> {
    checkAborted(options.signal)
    if (bytes.byteLength === 0 || bytes.byteLength > GOSSIP_LIMITS.maxExtraBytes) {
      fail('PAYLOAD_TOO_LARGE', `extra of ${bytes.byteLength} bytes cannot be gossiped (max ${GOSSIP_LIMITS.maxExtraBytes})`)
    }
    if (await this.send(this.topics.extras, bytes)) this.ctx.counters.gossip.publishedExtras++
  }

  /** Publish without the size checks: only for tests that play a misbehaving peer. */
  async publishUnchecked(kind: Kind, bytes: Uint8Array): Promise<boolean> {
    return this.send(this.topics[kind], bytes)
  }

  /** True when handed to at least one peer. Never throws: the data is stored, sync delivers it later. */
  private async send(topic: string, data: Uint8Array): Promise<boolean> {
    if (this.pubsub.getSubscribers(topic).length === 0) {
      this.ctx.counters.gossip.publishNoPeers++
      return false
    }
    try {
      await this.pubsub.publish(topic, data)
      return true
    } catch (err) {
      // the mesh may not have formed yet: "PublishError.NoPeersSubscribedToTopic"
      if (/NoPeersSubscribedToTopic/.test(String((err as Error).message ?? err))) {
        this.ctx.counters.gossip.publishNoPeers++
      } else {
        this.ctx.counters.gossip.publishErrors++
        this.ctx.log('gossip.publish.failed', { topic, message: (err as Error).message })
      }
      return false
    }
  }

  private async validate(kind: Kind, peer: PeerId, msg: Message): Promise<TopicValidatorResult> {
    const peerId = peer.toString()
    const max = kind === 'records' ? GOSSIP_LIMITS.maxRecordBytes : GOSSIP_LIMITS.maxExtraBytes
    if (msg.data.byteLength === 0 || msg.data.byteLength > max) {
      this.ctx.counters.gossip.oversized++
      this.ctx.penalize(peerId, 1, `gossip ${kind} message of ${msg.data.byteLength} bytes`)
      return TopicValidatorResult.Reject
    }
    let result: ReceiveResult | undefined
    try {
      result =
        kind === 'records'
          ? (await this.ctx.replica.receive([msg.data], peerId))[0]
          : await this.ctx.replica.receiveExtra(msg.data, peerId)
    } catch (err) {
      // the replica's own failure (store closed...), not the sender's fault
      this.ctx.log('gossip.receive.failed', { peer: peerId, kind, message: (err as Error).message })
      return TopicValidatorResult.Ignore
    }
    if (!result) return TopicValidatorResult.Ignore
    if (kind === 'records' && result.verdict === 'rejected' && result.code === 'UNKNOWN_AUTHOR' && this.hold(peerId, msg.data)) {
      return TopicValidatorResult.Ignore
    }
    const counts: VerdictCounts = this.ctx.counters.gossip[kind]
    counts[result.verdict]++
    if (result.verdict === 'rejected' && AUTHOR_FAULT_CODES.has(result.code ?? '')) {
      if (result.code === 'PREV_MISMATCH') this.checkFork(peerId)
      return TopicValidatorResult.Ignore
    }
    switch (result.verdict) {
      case 'accepted':
      case 'pending':
        return TopicValidatorResult.Accept
      case 'duplicate':
        return TopicValidatorResult.Ignore
      case 'rejected':
        this.rejected(peerId, kind, result)
        return TopicValidatorResult.Reject
    }
  }

  private rejected(peerId: string, kind: Kind, result: ReceiveResult): void {
    this.ctx.log('gossip.rejected', { peer: peerId, kind, code: result.code, message: result.message })
    this.ctx.penalize(peerId, 1, `rejected gossip ${kind}: ${result.code ?? 'invalid'}`)
  }

  /** A sync session with the relay, whose fork check (net/sync-client.ts step 4) builds the proof. */
  private checkFork(peerId: string): void {
    if (this.forkChecks.has(peerId)) return
    this.forkChecks.add(peerId)
    this.ctx.log('gossip.fork.suspected', { peer: peerId })
    void this.syncWith(peerId)
      .catch(safetyCatch) // a session reports its own failures in its report
      .finally(() => this.forkChecks.delete(peerId))
  }

  /** Holds a record for the relay's roster check (starting one if none runs); false when the relay holds too many. */
  private hold(peerId: string, record: Uint8Array): boolean {
    if (this.heldTotal >= MAX_HELD_TOTAL) return false
    const waiting = this.held.get(peerId)
    if (waiting) {
      if (waiting.length >= MAX_HELD_PER_PEER) return false
      waiting.push(record)
    } else {
      this.held.set(peerId, [record])
      void this.checkRoster(peerId)
    }
    this.heldTotal++
    this.ctx.counters.gossip.heldForRoster++
    return true
  }

  private async checkRoster(peerId: string): Promise<void> {
    await this.syncWith(peerId).catch(safetyCatch) // failed or not, the held records are judged below
    const records = this.held.get(peerId) ?? []
    this.held.delete(peerId)
    this.heldTotal -= records.length
    if (this.ctx.signal.aborted || records.length === 0) return
    let results: ReceiveResult[]
    try {
      results = await this.ctx.replica.receive(records, peerId)
    } catch (err) {
      this.ctx.log('gossip.receive.failed', { peer: peerId, kind: 'records', message: (err as Error).message })
      return
    }
    for (const result of results) {
      this.ctx.counters.gossip.records[result.verdict]++
      if (result.verdict === 'rejected') this.rejected(peerId, 'records', result)
    }
  }
}

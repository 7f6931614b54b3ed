/**
 * An in-memory stand-in for the real replica: a record is the text "feed|seq|payload|check" where check
 * is the first 16 hex digits of SHA-256("feed|seq|payload"); its id is SHA-256 of the whole bytes.
 * receive() "verifies" the check, appends in seq order, holds out-of-order records as pending until the
 * gap fills, and rejects bad checks and conflicting records. Extras are bytes starting with "extra:".
 * A record whose payload is "needs:TAG" plays a member added by a later roster: it is UNKNOWN_AUTHOR
 * until the extra "extra:TAG" is known.
 */
import { createHash } from 'node:crypto'
import type { FeedHead, ReceiveResult, ReplicaAccess } from '../../src/sync/types.js'

const sha = (s: string | Uint8Array): string => createHash('sha256').update(s).digest('hex')
const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8')

export function feedKey(name: string): string {
  return sha(`feed:${name}`)
}

export function makeRecord(feed: string, seq: number, payload: string): Uint8Array {
  const body = `${feed}|${seq}|${payload}`
  return new Uint8Array(Buffer.from(`${body}|${sha(body).slice(0, 16)}`))
}

/** Same shape, wrong check: what a faulty or malicious peer would send. */
export function makeBadRecord(feed: string, seq: number, payload: string): Uint8Array {
  return new Uint8Array(Buffer.from(`${feed}|${seq}|${payload}|0000000000000000`))
}

function parse(bytes: Uint8Array): { feed: string; seq: number; payload: string; ok: boolean } | undefined {
  const parts = text(bytes).split('|')
  if (parts.length !== 4) return undefined
  const [feed, seqText, payload, check] = parts as [string, string, string, string]
  const seq = Number(seqText)
  if (!/^[0-9a-f]{64}$/.test(feed) || !Number.isSafeInteger(seq) || seq < 1) return undefined
  return { feed, seq, payload, ok: sha(`${feed}|${seq}|${payload}`).slice(0, 16) === check }
}

export class FakeReplica implements ReplicaAccess {
  readonly feeds = new Map<string, Uint8Array[]>()
  readonly pending = new Map<string, Map<number, Uint8Array>>()
  readonly extraItems: Uint8Array[] = []
  /** When set, receive() stores anything, even records with a bad check (a malicious node). */
  trustEverything = false

  /** Author a record locally (the node's own feed). */
  append(feedName: string, payload: string): Uint8Array {
    const feed = feedKey(feedName)
    const seq = (this.feeds.get(feed)?.length ?? 0) + 1
    const record = makeRecord(feed, seq, payload)
    this.store(feed, record)
    return record
  }

  appendRaw(feed: string, record: Uint8Array): void {
    this.store(feed, record)
  }

  private store(feed: string, record: Uint8Array): void {
    const list = this.feeds.get(feed) ?? []
    list.push(record)
    this.feeds.set(feed, list)
  }

  async heads(): Promise<FeedHead[]> {
    return [...this.feeds].map(([feed, list]) => ({ feed, seq: list.length, id: sha(list[list.length - 1]!) }))
  }

  async readRange(feed: string, fromSeq: number, limit: number): Promise<Uint8Array[]> {
    return (this.feeds.get(feed) ?? []).slice(fromSeq - 1, fromSeq - 1 + limit)
  }

  async receive(records: Uint8Array[], _fromPeer?: string): Promise<ReceiveResult[]> {
    return records.map((r) => this.receiveOne(r))
  }

  private receiveOne(bytes: Uint8Array): ReceiveResult {
    const id = sha(bytes)
    const rec = parse(bytes)
    if (!rec) return { verdict: 'rejected', code: 'RECORD_DECODE', message: 'not a fake record' }
    if (!rec.ok && !this.trustEverything) return { verdict: 'rejected', code: 'SIGNATURE_INVALID', message: 'bad check', id }
    const needs = rec.payload.startsWith('needs:') ? `extra:${rec.payload.slice('needs:'.length)}` : undefined
    if (needs && !this.extraItems.some((e) => text(e) === needs) && !this.trustEverything) {
      return { verdict: 'rejected', code: 'UNKNOWN_AUTHOR', message: `needs ${needs}`, id }
    }
    const list = this.feeds.get(rec.feed) ?? []
    if (rec.seq <= list.length) {
      return sha(list[rec.seq - 1]!) === id ? { verdict: 'duplicate', id } : { verdict: 'rejected', code: 'EQUIVOCATION', id }
    }
    if (rec.seq > list.length + 1) {
      const waiting = this.pending.get(rec.feed) ?? new Map<number, Uint8Array>()
      waiting.set(rec.seq, bytes)
      this.pending.set(rec.feed, waiting)
      return { verdict: 'pending', code: 'SEQ_GAP', id }
    }
    this.store(rec.feed, bytes)
    const waiting = this.pending.get(rec.feed)
    while (waiting?.has(list.length + 1)) {
      const next = waiting.get(list.length + 1)!
      waiting.delete(list.length + 1)
      this.store(rec.feed, next)
    }
    return { verdict: 'accepted', id }
  }

  async extras(): Promise<Uint8Array[]> {
    return [...this.extraItems]
  }

  async receiveExtra(bytes: Uint8Array): Promise<ReceiveResult> {
    if (!text(bytes).startsWith('extra:')) return { verdict: 'rejected', code: 'ROSTER_INVALID' }
    if (this.extraItems.some((e) => Buffer.compare(e, bytes) === 0)) return { verdict: 'duplicate' }
    this.extraItems.push(bytes)
    return { verdict: 'accepted' }
  }

  async idAt(feed: string, seq: number): Promise<string | undefined> {
    const rec = this.feeds.get(feed)?.[seq - 1]
    return rec && sha(rec)
  }

  idOf(record: Uint8Array): string | undefined {
    return parse(record) ? sha(record) : undefined
  }

  async forks(): Promise<ReadonlyMap<string, number>> {
    return new Map()
  }

  count(feedName: string): number {
    return this.feeds.get(feedKey(feedName))?.length ?? 0
  }
}

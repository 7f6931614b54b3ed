/**
 * The banks' use cases over a node (docs/hma.md): curate banks and their content, hash media, and look
 * signals up in the local banks and in every federation member's feed, each shown as a read-only bank.
 * The HMA-compatible routes (api/hma-routes.ts) call only this. One BankStore per node, loaded from the
 * replica's key-value store when the first service for that node is made.
 */
import { createHash } from 'node:crypto'
import { fail } from '../errors.js'
import { BankStore, type BankHit, type BankUpdate, type ContentInput, type ContentUpdate } from '../bank/bank-store.js'
import { BANK_SIGNAL_TYPES, CONTENT_TYPES, isBankSignalType, memberBankName, normaliseSignal, type BankConfig, type BankContent, type BankKind, type BankSignalType } from '../bank/types.js'
import { hammingDistance, parseHash256 } from '../hash/hash256.js'
import type { SignalType } from '../record/types.js'
import type { MatchedSignal } from '../match/matcher.js'
import type { DecodeGate } from '../hash/decode-gate.js'
import type { AbortOptions } from './abort.js'
import { createDecodeGate, fingerprintMedia, type MediaFingerprint } from './media.js'
import { fetchMedia, type FetchedMedia, type MediaFetchOptions } from './media-fetch.js'
import type { HashmeshNode } from './node.js'

const stores = new WeakMap<HashmeshNode, Promise<BankStore>>()

/** Which federation signal type answers a bank signal type (vpdq needs frames: bank content only). */
const FEDERATION_TYPE: Partial<Record<BankSignalType, SignalType>> = { pdq: 'pdq', md5: 'md5', sha256: 'sha256', video_md5: 'md5' }

export interface LookupOptions { seed?: string; bypassCoinflip?: boolean; threshold?: number }

/** Test-only seams of the `?url=` fetcher (a resolver of the test's own, addresses to trust despite the guard). */
export type UrlFetchSeams = Pick<MediaFetchOptions, 'lookup' | 'trustAddresses'>

export interface BanksServiceOptions {
  /** The node's decode gate (the /v1 media routes' too): one bound on concurrent decodes per node. */
  decodeGate?: DecodeGate
  urlFetch?: UrlFetchSeams
}

/** HMA's content type of fetched media, from the server's Content-Type; undefined when it does not say. */
function contentTypeOf(mime: string | undefined): string | undefined {
  if (mime?.startsWith('image/')) return 'photo'
  if (mime?.startsWith('video/')) return 'video'
  return undefined
}

export interface BankMatch {
  bank: string
  kind: BankKind | 'member'
  distance: number
  /** Local bank content id; absent for a member's feed. */
  contentId?: number
  /** The member's records carrying the signal (member banks). */
  records?: string[]
}

export interface LookupResult {
  /** The banks that match, after the coin flip and negative banks: HMA's answer. */
  banks: string[]
  matches: BankMatch[]
  /** The negative banks whose content matched: every positive match was withheld because of them. */
  suppressedBy: string[]
}

export class BanksService {
  private store: BankStore | undefined
  readonly loaded: Promise<BankStore>
  private readonly gate: DecodeGate
  private readonly urlFetch: UrlFetchSeams

  constructor(readonly node: HashmeshNode, options: BanksServiceOptions = {}) {
    let loading = stores.get(node)
    if (!loading) stores.set(node, (loading = BankStore.open(node.bankStorage(), node.bankPdqIndex())))
    this.loaded = loading.then((store) => (this.store = store))
    this.loaded.catch(() => undefined) // reported by every call that needs the store
    this.gate = options.decodeGate ?? createDecodeGate(node.config)
    this.urlFetch = options.urlFetch ?? {}
  }

  /** The bank index is loaded and the node's match index built. */
  isReady(): boolean {
    return this.store !== undefined && this.node.indexStats().ready
  }

  private async banks(): Promise<BankStore> {
    return this.store ?? (await this.loaded)
  }

  // ---- banks ----

  /** Federation members with a feed in the replica, by their read-only bank name. */
  memberBanks(): Map<string, string> {
    const out = new Map<string, string>()
    for (const { feed } of this.node.feedHeads()) {
      let name = memberBankName(this.node.memberName(feed), feed)
      if (out.has(name)) name = `${name}_${feed.slice(0, 8).toUpperCase()}`
      out.set(name, feed)
    }
    return out
  }

  async listBanks(): Promise<Array<BankConfig | MemberBank>> {
    const local = (await this.banks()).listBanks()
    return [...local, ...[...this.memberBanks()].map(([name, key]) => memberBank(name, key))]
  }

  async getBank(name: string): Promise<BankConfig | MemberBank> {
    const bank = (await this.banks()).getBank(name)
    if (bank) return bank
    const key = this.memberBanks().get(name)
    if (key === undefined) fail('NOT_FOUND', `bank '${name}' not found`)
    return memberBank(name, key)
  }

  async createBank(input: { name: unknown; matchingEnabledRatio?: number; kind?: BankKind }): Promise<BankConfig> {
    return (await this.banks()).createBank(input, (name) => this.memberBanks().has(name))
  }

  async updateBank(name: string, update: BankUpdate): Promise<BankConfig> {
    this.refuseMemberBank(name)
    return (await this.banks()).updateBank(name, update, (n) => this.memberBanks().has(n))
  }

  async deleteBank(name: string): Promise<void> {
    this.refuseMemberBank(name)
    const store = await this.banks()
    if (store.getBank(name)?.kind === 'shared') for (const content of await store.listContent(name)) await this.unshare(content)
    await store.deleteBank(name)
  }

  private refuseMemberBank(name: string): void {
    if (this.memberBanks().has(name)) fail('BAD_REQUEST', `bank '${name}' is a federation member's feed: read-only here`, { details: { status: 403 } })
  }

  // ---- content ----

  /** Content of a shared bank is also signed into this member's feed (pdq, md5, sha256; video_md5 as md5). */
  async addContent(bank: string, input: ContentInput): Promise<BankContent> {
    this.refuseMemberBank(bank)
    const store = await this.banks()
    if (store.getBank(bank)?.kind !== 'shared') return store.addContent(bank, input)
    const { signals } = store.validateContent(input) // refuse bad input before anything is signed
    const shareable = Object.entries(signals).flatMap(([type, value]) => {
      const federationType = FEDERATION_TYPE[type as BankSignalType]
      return federationType ? [{ type: federationType, value }] : []
    })
    const note = typeof input.note === 'string' ? input.note : undefined
    const records = shareable.length > 0 ? (await this.node.contribute({ signals: shareable, note })).records.map((r) => r.id) : []
    return store.addContent(bank, { ...input, records })
  }

  /** Revokes a shared content's signals records in this member's feed. */
  private async unshare(content: BankContent): Promise<void> {
    for (const id of content.records ?? []) await this.node.revoke(id, { reason: 'mistake' })
  }

  async listContent(bank: string): Promise<BankContent[]> {
    return (await this.banks()).listContent(bank)
  }

  /** The bank's content with ids above `after`, at most `limit`, in id order. */
  async listContentPage(bank: string, after: number, limit: number): Promise<BankContent[]> {
    return (await this.banks()).listContentPage(bank, after, limit)
  }

  async countContent(bank: string): Promise<number> {
    return (await this.banks()).countContent(bank)
  }

  async getContent(bank: string, id: number): Promise<BankContent> {
    return (await this.banks()).getContent(bank, id)
  }

  async updateContent(bank: string, id: number, update: ContentUpdate): Promise<BankContent> {
    return (await this.banks()).updateContent(bank, id, update)
  }

  async deleteContent(bank: string, id: number): Promise<number> {
    const store = await this.banks()
    const content = store.getBank(bank)?.kind === 'shared' ? await store.findContent(bank, id) : undefined
    if (content) await this.unshare(content)
    return store.deleteContent(bank, id)
  }

  // ---- hashing and lookups ----

  signalTypes(): readonly BankSignalType[] {
    return BANK_SIGNAL_TYPES
  }

  checkSignalType(name: string): BankSignalType {
    if (!isBankSignalType(name)) fail('BAD_REQUEST', `No such SignalType '${name}'`)
    return name
  }

  /**
   * HMA's hash answer for media: signal type -> value. With a content type (HMA's upload field name or
   * `content_type`), media of the other kind is refused; without one, the bytes decide.
   */
  async hashMedia(contentType: string | undefined, bytes: Uint8Array, options: AbortOptions = {}): Promise<Partial<Record<BankSignalType, string>>> {
    if (contentType !== undefined && !(contentType in CONTENT_TYPES)) fail('BAD_REQUEST', `no such content_type: '${contentType}'`)
    const fp = await fingerprintMedia(bytes, this.node.config, { gate: this.gate, signal: options.signal })
    if (contentType !== undefined) {
      const expected = contentType === 'photo' ? 'image' : 'video'
      if (fp.kind !== expected) fail('BAD_REQUEST', `the ${contentType} is not a ${contentType === 'photo' ? 'supported image' : 'supported video'}`)
    }
    return bankSignals(fp)
  }

  /**
   * Media fetched from `url` under the `?url=` rules (node/media-fetch.ts: hma.urlHosts, hma.urlMaxBytes,
   * hma.urlTimeoutMs, no loopback or private addresses).
   */
  fetchUrl(url: string, options: AbortOptions = {}): Promise<FetchedMedia> {
    const { urlHosts, urlMaxBytes, urlTimeoutMs } = this.node.config.hma
    return fetchMedia(url, { allowHosts: urlHosts, maxBytes: urlMaxBytes, timeoutMs: urlTimeoutMs, signal: options.signal, ...this.urlFetch })
  }

  /** HMA's GET /h/hash?url=: the media at `url`, hashed; its kind from `contentType`, the server's Content-Type, or the bytes. */
  async hashUrl(url: string, contentType: string | undefined, options: AbortOptions = {}): Promise<Partial<Record<BankSignalType, string>>> {
    if (contentType !== undefined && !(contentType in CONTENT_TYPES)) fail('BAD_REQUEST', `no such content_type: '${contentType}'`)
    const fetched = await this.fetchUrl(url, options)
    return this.hashMedia(contentType ?? contentTypeOf(fetched.contentType), fetched.bytes, options)
  }

  /** Enabled local content carrying the signal (HMA's raw lookup: content ids, no coin flip). */
  async rawLookup(type: BankSignalType, value: string, threshold?: number): Promise<Array<{ contentId: number; distance: number }>> {
    const store = await this.banks()
    return (await store.lookup(type, value, threshold ?? this.node.config.match.pdqThreshold))
      .filter((hit) => store.isEnabled(hit))
      .map((hit) => ({ contentId: hit.contentId, distance: hit.distance }))
  }

  /**
   * The banks a signal matches: enabled content of local banks that win the coin flip, and members whose
   * feeds carry the signal (actionable under the local policy). A match in a negative bank withholds
   * every positive match and says which negative banks did.
   */
  async lookup(type: BankSignalType, value: string, options: LookupOptions = {}): Promise<LookupResult> {
    const store = await this.banks()
    const threshold = options.threshold ?? this.node.config.match.pdqThreshold
    const federationType = FEDERATION_TYPE[type]
    const federation = federationType !== undefined && this.node.indexStats().ready
    let found: MatchedSignal[] = []
    let hits: BankHit[]
    if (federation && type === 'pdq') {
      // One search of the node's PDQ catalog finds both the bank content and the federation's signals.
      const near: Array<{ contentId: number; distance: number }> = []
      found = await this.node.match([{ type: 'pdq', value: normaliseSignal(type, value) }], { threshold, onBankContent: (contentId, distance) => near.push({ contentId, distance }) })
      hits = store.hits(type, near)
    } else {
      hits = await store.lookup(type, value, threshold)
      if (federation) found = await this.node.match([{ type: federationType, value: normaliseSignal(type, value) }], { threshold })
    }
    hits = hits.filter((hit) => store.isEnabled(hit) && hit.bank.matchingEnabledRatio > 0)
    const coinflip = coinFlip(options.seed)
    const passes = (hit: BankHit) => options.bypassCoinflip || hit.bank.matchingEnabledRatio >= coinflip
    const matches: BankMatch[] = hits.filter((hit) => hit.bank.kind === 'negative' || passes(hit))
      .map((hit) => ({ bank: hit.bank.name, kind: hit.bank.kind, distance: hit.distance, contentId: hit.contentId }))
    if (found.length > 0) {
      const names = new Map([...this.memberBanks()].map(([name, key]) => [key, name]))
      for (const m of found) {
        if (m.status !== 'actionable') continue
        for (const record of m.records) {
          const bank = names.get(record.member.key)
          if (bank === undefined) continue
          const existing = matches.find((x) => x.bank === bank)
          if (existing) existing.records!.push(record.id)
          else matches.push({ bank, kind: 'member', distance: m.distance, records: [record.id] })
        }
      }
    }
    const suppressedBy = unique(matches.filter((m) => m.kind === 'negative').map((m) => m.bank))
    const banks = suppressedBy.length > 0 ? [] : unique(matches.map((m) => m.bank))
    return { banks, matches, suppressedBy }
  }

  /** HMA's /m/compare for one signal type: [match, {distance}]. */
  compare(type: BankSignalType, left: unknown, right: unknown): [boolean, { distance: number }] {
    const a = normaliseSignal(type, left)
    const b = normaliseSignal(type, right)
    if (type === 'pdq') {
      const distance = hammingDistance(parseHash256(a), parseHash256(b))
      return [distance <= this.node.config.match.pdqThreshold, { distance }]
    }
    return [a === b, { distance: a === b ? 0 : 1 }]
  }

  /** Per signal type: whether its index is present, and how many local bank signals it holds. */
  async indexStatus(): Promise<Record<BankSignalType, { present: boolean; built_to: number; size: number }>> {
    const store = this.store
    const ready = this.isReady()
    const out = {} as Record<BankSignalType, { present: boolean; built_to: number; size: number }>
    for (const type of BANK_SIGNAL_TYPES) {
      const size = store ? (type === 'pdq' ? this.node.indexStats().pdqHashes : store.countSignals(type)) : 0
      out[type] = ready ? { present: true, built_to: Math.floor(Date.now() / 1000), size } : { present: false, built_to: -1, size: 0 }
    }
    return out
  }
}

export interface MemberBank { name: string; matchingEnabledRatio: number; kind: 'member'; member: string; createdAt: null; updatedAt: null }

function memberBank(name: string, key: string): MemberBank {
  return { name, matchingEnabledRatio: 1, kind: 'member', member: key, createdAt: null, updatedAt: null }
}

function bankSignals(fp: MediaFingerprint): Partial<Record<BankSignalType, string>> {
  if (fp.kind === 'image') return { pdq: fp.pdq.hash, md5: fp.md5, sha256: fp.sha256 }
  return { video_md5: fp.md5, sha256: fp.sha256, ...(fp.vpdq.value ? { vpdq: fp.vpdq.value } : {}) }
}

function unique(names: string[]): string[] {
  return [...new Set(names)]
}

/** A draw in [0, 1): random, or fixed by the seed (the same seed always draws the same number). */
function coinFlip(seed: string | undefined): number {
  if (seed === undefined) return Math.random()
  return createHash('sha256').update(seed).digest().readUIntBE(0, 6) / 2 ** 48
}

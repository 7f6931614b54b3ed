/**
 * The /v1 banks contract (banks-contract.ts) in process, over BanksService: what the /v1/banks routes call
 * and what the CLI uses when no node runs on the data directory. Turns contract input into the service's
 * calls and bank records into views; the checks themselves are the service's and the bank store's.
 */
import { API_LIMITS } from '../constants.js'
import { fail } from '../errors.js'
import { contentEnabled, type BankContent } from '../bank/types.js'
import { checkAborted, type AbortOptions } from './abort.js'
import type { BanksService, MemberBank } from './banks-service.js'
import type { BankConfig } from '../bank/types.js'
import type { AddContentInput, BankContentView, BanksApi, BankView, ContentPage, CreateBankInput, UpdateBankInput, UpdateContentInput } from './banks-contract.js'

export function bankView(bank: BankConfig | MemberBank, contentCount?: number): BankView {
  return {
    name: bank.name,
    kind: bank.kind,
    matchingEnabledRatio: bank.matchingEnabledRatio,
    ...(bank.kind === 'member' ? { member: bank.member } : {}),
    ...(contentCount !== undefined ? { contentCount } : {}),
    createdAt: bank.createdAt,
    updatedAt: bank.updatedAt,
  }
}

export function contentView(content: BankContent, nowSeconds = Math.floor(Date.now() / 1000)): BankContentView {
  return {
    id: content.id,
    bank: content.bank,
    signals: content.signals,
    note: content.note,
    metadata: content.metadata,
    disableUntilTs: content.disableUntilTs,
    enabled: contentEnabled(content, nowSeconds),
    createdAt: content.createdAt,
    updatedAt: content.updatedAt,
    ...(content.records ? { records: content.records } : {}),
  }
}

export class LocalBanks implements BanksApi {
  constructor(private readonly service: BanksService) {}

  async list(): Promise<BankView[]> {
    return (await this.service.listBanks()).map((bank) => bankView(bank))
  }

  async create(input: CreateBankInput, options: AbortOptions = {}): Promise<BankView> {
    checkAborted(options.signal)
    return bankView(await this.service.createBank(input), 0)
  }

  async get(name: string): Promise<BankView> {
    const bank = await this.service.getBank(name)
    return bankView(bank, bank.kind === 'member' ? undefined : await this.service.countContent(name))
  }

  async update(name: string, input: UpdateBankInput, options: AbortOptions = {}): Promise<BankView> {
    checkAborted(options.signal)
    const bank = await this.service.updateBank(name, input)
    return bankView(bank, await this.service.countContent(bank.name))
  }

  async delete(name: string, options: AbortOptions = {}): Promise<void> {
    checkAborted(options.signal)
    await this.localBank(name) // unknown: 404 here (HMA's DELETE answers "Done" for any name)
    await this.service.deleteBank(name)
  }

  async addContent(bank: string, input: AddContentInput, options: AbortOptions = {}): Promise<BankContentView> {
    checkAborted(options.signal)
    await this.localBank(bank)
    return contentView(await this.service.addContent(bank, { signals: input.signals, note: input.note ?? null, metadata: input.metadata }))
  }

  async listContent(bank: string, page: { after?: number; limit?: number }): Promise<ContentPage> {
    await this.localBank(bank)
    const after = page.after ?? 0
    const limit = page.limit ?? API_LIMITS.defaultFeedPage
    if (!Number.isSafeInteger(after) || after < 0) fail('BAD_REQUEST', `after must be a non-negative integer, got ${after}`)
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > API_LIMITS.maxFeedPage) fail('BAD_REQUEST', `limit must be 1 to ${API_LIMITS.maxFeedPage}, got ${limit}`)
    const items = await this.service.listContentPage(bank, after, limit + 1) // one more: is there a next page?
    const content = items.slice(0, limit).map((c) => contentView(c))
    return { bank, content, next: items.length > limit ? content.at(-1)!.id : null }
  }

  async getContent(bank: string, id: number): Promise<BankContentView> {
    await this.localBank(bank)
    return contentView(await this.service.getContent(bank, checkId(id)))
  }

  async updateContent(bank: string, id: number, input: UpdateContentInput, options: AbortOptions = {}): Promise<BankContentView> {
    checkAborted(options.signal)
    await this.localBank(bank)
    return contentView(await this.service.updateContent(bank, checkId(id), input))
  }

  async deleteContent(bank: string, id: number, options: AbortOptions = {}): Promise<void> {
    checkAborted(options.signal)
    await this.localBank(bank)
    if ((await this.service.deleteContent(bank, checkId(id))) === 0) fail('NOT_FOUND', `content ${id} not found in bank '${bank}'`)
  }

  /** The bank, which must be one of this node's own (a member's feed has no content ids: 403). */
  private async localBank(name: string): Promise<BankConfig> {
    const bank = await this.service.getBank(name)
    if (bank.kind === 'member') fail('BAD_REQUEST', `bank '${name}' is a federation member's feed: read-only, its records are at /v1/feeds/${bank.member}`, { details: { status: 403 } })
    return bank
  }
}

function checkId(id: number): number {
  if (!Number.isSafeInteger(id) || id < 1) fail('BAD_REQUEST', `content ids are positive integers, got ${id}`)
  return id
}

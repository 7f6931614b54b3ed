/**
 * The banks' use cases as /v1 carries them (camelCase JSON), one contract for every caller: in process by
 * LocalBanks (banks-api.ts, over BanksService) and over HTTP by the CLI's client (cli/http-banks-client.ts).
 * NodeApi exposes it as `banks`. Input is validated once, in BanksService and the bank store, so both
 * implementations answer bad input with the same error code.
 */
import type { BankContentMetadata, BankKind, BankSignalType } from '../bank/types.js'
import type { AbortOptions } from './abort.js'

export interface BankView {
  name: string
  /** `member`: a federation member's feed, read-only (its records are at /v1/feeds/<member>). */
  kind: BankKind | 'member'
  matchingEnabledRatio: number
  /** The member's feed key (member banks). */
  member?: string
  /** Content items (local banks). */
  contentCount?: number
  createdAt: number | null
  updatedAt: number | null
}

export interface BankContentView {
  id: number
  bank: string
  signals: Partial<Record<BankSignalType, string>>
  note: string | null
  metadata: BankContentMetadata | null
  /** Unix seconds: 0 enabled, 1 disabled for good, else disabled until then. */
  disableUntilTs: number
  /** Matched now (disableUntilTs is 0 or past). */
  enabled: boolean
  createdAt: number
  updatedAt: number
  /** Shared banks: this member's records carrying the content's signals. */
  records?: string[]
}

export interface CreateBankInput { name: string; kind?: BankKind; matchingEnabledRatio?: number }
export interface UpdateBankInput { name?: string; kind?: BankKind; matchingEnabledRatio?: number }
export interface AddContentInput { signals: Partial<Record<string, string>>; note?: string; metadata?: BankContentMetadata }
export interface UpdateContentInput { disableUntilTs?: number; note?: string | null; metadata?: BankContentMetadata | null }
export interface ContentPage { bank: string; content: BankContentView[]; /** The `after` of the next page; null at the end. */ next: number | null }

export interface BanksApi {
  list(options?: AbortOptions): Promise<BankView[]>
  create(input: CreateBankInput, options?: AbortOptions): Promise<BankView>
  get(name: string, options?: AbortOptions): Promise<BankView>
  update(name: string, input: UpdateBankInput, options?: AbortOptions): Promise<BankView>
  /** The bank and all its content (a shared bank's records are revoked); NOT_FOUND when there is none. */
  delete(name: string, options?: AbortOptions): Promise<void>
  addContent(bank: string, input: AddContentInput, options?: AbortOptions): Promise<BankContentView>
  /** Content in id order, ids above `after`, at most `limit`. */
  listContent(bank: string, page: { after?: number; limit?: number }, options?: AbortOptions): Promise<ContentPage>
  getContent(bank: string, id: number, options?: AbortOptions): Promise<BankContentView>
  /** Disable until a time (disableUntilTs), re-enable (0), or change the note or metadata. */
  updateContent(bank: string, id: number, input: UpdateContentInput, options?: AbortOptions): Promise<BankContentView>
  deleteContent(bank: string, id: number, options?: AbortOptions): Promise<void>
}

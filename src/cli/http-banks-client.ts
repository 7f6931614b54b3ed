/** The /v1 banks contract over the running node's HTTP API (the CLI's `bank` command while a node runs). */
import type { AbortOptions } from '../node/abort.js'
import type {
  AddContentInput, BankContentView, BanksApi, BankView, ContentPage, CreateBankInput, UpdateBankInput, UpdateContentInput,
} from '../node/banks-contract.js'

export interface BankCall { method: 'GET' | 'POST' | 'PATCH' | 'DELETE'; path: string; json?: unknown }
export type CallFunction = <T>(call: BankCall, options?: AbortOptions) => Promise<T>

const bankPath = (name: string) => `/v1/banks/${encodeURIComponent(name)}`
const contentPath = (bank: string, id: number) => `${bankPath(bank)}/content/${encodeURIComponent(String(id))}`

export class HttpBanksClient implements BanksApi {
  constructor(private readonly call: CallFunction) {}

  async list(options?: AbortOptions) { return (await this.call<{ banks: BankView[] }>({ method: 'GET', path: '/v1/banks' }, options)).banks }
  create(input: CreateBankInput, options?: AbortOptions) { return this.call<BankView>({ method: 'POST', path: '/v1/banks', json: input }, options) }
  get(name: string, options?: AbortOptions) { return this.call<BankView>({ method: 'GET', path: bankPath(name) }, options) }
  update(name: string, input: UpdateBankInput, options?: AbortOptions) { return this.call<BankView>({ method: 'PATCH', path: bankPath(name), json: input }, options) }
  async delete(name: string, options?: AbortOptions) { await this.call({ method: 'DELETE', path: bankPath(name) }, options) }
  addContent(bank: string, input: AddContentInput, options?: AbortOptions) {
    return this.call<BankContentView>({ method: 'POST', path: `${bankPath(bank)}/content`, json: input }, options)
  }
  listContent(bank: string, page: { after?: number; limit?: number }, options?: AbortOptions) {
    const query = new URLSearchParams()
    if (page.after !== undefined) query.set('after', String(page.after))
    if (page.limit !== undefined) query.set('limit', String(page.limit))
    const qs = query.toString()
    return this.call<ContentPage>({ method: 'GET', path: `${bankPath(bank)}/content${qs ? `?${qs}` : ''}` }, options)
  }
  getContent(bank: string, id: number, options?: AbortOptions) { return this.call<BankContentView>({ method: 'GET', path: contentPath(bank, id) }, options) }
  updateContent(bank: string, id: number, input: UpdateContentInput, options?: AbortOptions) {
    return this.call<BankContentView>({ method: 'PATCH', path: contentPath(bank, id), json: input }, options)
  }
  async deleteContent(bank: string, id: number, options?: AbortOptions) { await this.call({ method: 'DELETE', path: contentPath(bank, id) }, options) }
}

/**
 * `hashmesh`: the federation itself as an exchange. Every member's feed is already a read-only
 * `MEMBER_<NAME>` bank in lookups (node/banks-service.ts); this exchange copies one member's signals
 * (optionally only those with one of `labels`) into a local bank of its own, where they can be curated as
 * HMA content: disabled one by one, matched with a coin flip, or used as a negative (allow-list) bank.
 * The checkpoint is the feed's seq; a revocation in the feed deletes the revoked signals from the bank.
 */
import { fail } from '../../errors.js'
import type { BankSignalType } from '../../bank/types.js'
import { stringSetting, type ExchangeAdapter, type ExchangeSignal, type FetchContext, type FetchUpdate } from '../types.js'
import { bankSignalType } from '../signal-lines.js'

const PAGE = 1000

export const federationAdapter: ExchangeAdapter = {
  api: 'hashmesh',
  settingsFields: [
    { name: 'member', type: 'string', required: true, default: null, help: 'The federation member whose feed fills the bank: roster name, MEMBER_ bank name or key', choices: null },
    { name: 'labels', type: 'list_of_string', required: false, default: [], help: 'Only signals of records with one of these labels (empty: all)', choices: null },
  ],
  credentialFields: [],
  checkSettings(settings) {
    const member = stringSetting(settings, 'member')
    const labels = settings.labels ?? []
    if (!Array.isArray(labels) || labels.some((l) => typeof l !== 'string')) fail('BAD_REQUEST', 'Failed to parse `api_json` - labels must be a list of strings')
    return { member, labels }
  },
  async *fetch(context: FetchContext): AsyncIterable<FetchUpdate> {
    const federation = context.federation
    if (!federation) fail('EXCHANGE_FETCH', 'the federation is not available to this exchange runner')
    const feed = federation.resolveMember(context.config.settings.member as string)
    if (feed === undefined) fail('NOT_FOUND', `no federation member ${JSON.stringify(context.config.settings.member)} (by roster name or key)`)
    const labels = context.config.settings.labels as string[]
    let seq = typeof context.checkpoint?.seq === 'number' && context.checkpoint.feed === feed ? context.checkpoint.seq : 0
    for (;;) {
      context.signal.throwIfAborted()
      const records = await federation.readFeed(feed, seq + 1, PAGE)
      if (records.length === 0) return
      const upserts: ExchangeSignal[] = []
      const deletes: Array<{ type: BankSignalType; value: string }> = []
      let skipped = 0
      for (const record of records) {
        seq = record.seq
        if (record.kind === 'signals') {
          if (labels.length > 0 && !record.labels.some((l) => labels.includes(l))) continue
          for (const s of record.signals) {
            const type = bankSignalType(s.type)
            if (type) upserts.push({ type, value: s.value, sourceId: record.id })
            else skipped++
          }
        } else if (record.kind === 'revoke') {
          const signals = (await federation.recordSignals(record.target)) ?? []
          const revoked = record.signal === undefined ? signals : signals.slice(record.signal, record.signal + 1)
          for (const s of revoked) {
            const type = bankSignalType(s.type)
            if (type) deletes.push({ type, value: s.value })
          }
        }
      }
      yield { kind: 'delta', upserts, deletes, checkpoint: { feed, seq }, skipped }
      if (records.length < PAGE) return
    }
  },
}

/**
 * Quarantine events as info lines an operator reads: one line per member per second while a flood goes
 * on (not one per record: a flood is thousands), and one line per release.
 */
import type { LocalControls } from '../match/local-controls.js'
import type { QuarantineEntry } from '../match/flood-quarantine.js'
import type { NodeLog } from './log.js'

/** Quarantined records are gathered this long before their line is written. */
const COALESCE_MS = 1_000

export function logLocalControls(controls: LocalControls, log: NodeLog, memberName: (key: string) => string | undefined): void {
  const who = (key: string) => memberName(key) ?? key.slice(0, 12)
  let pending: QuarantineEntry[] = []
  let timer: NodeJS.Timeout | undefined
  const flush = () => {
    timer = undefined
    const byMember = new Map<string, QuarantineEntry[]>()
    for (const e of pending) {
      const list = byMember.get(e.author)
      if (list) list.push(e)
      else byMember.set(e.author, [e])
    }
    pending = []
    for (const [member, entries] of byMember) {
      const last = entries.at(-1)!
      const signals = entries.reduce((n, e) => n + e.signals, 0)
      const window = last.rule === 'burst' ? 'any 10 s' : `a ${last.rule}`
      log('info', 'quarantine.records', {
        msg: `quarantined ${entries.length} record${entries.length === 1 ? '' : 's'} (${signals} signals) from ${who(member)}${last.incident ? ` for incident ${last.incident}` : ''}: ${last.count} signals in ${window}, over its limit of ${last.limit}; stored, not matched until released ("hashmesh quarantine release")`,
        member, records: entries.length, signals, rule: last.rule, count: last.count, limit: last.limit,
      })
    }
  }
  controls.quarantine.onEvent((event) => {
    if (event.type === 'quarantined') {
      pending.push(event.entry)
      timer ??= setTimeout(flush, COALESCE_MS).unref()
      return
    }
    const members = [...new Set(event.entries.map((e) => who(e.author)))]
    log('info', 'quarantine.released', {
      msg: `released ${event.entries.length} quarantined record${event.entries.length === 1 ? '' : 's'} of ${members.join(', ')} (by ${event.by}); they match again`,
      records: event.entries.length, by: event.by, auto: event.auto,
    })
  })
}

/**
 * Record pipeline benchmark: own appends (signed, batched), export, and import into a fresh store with full
 * verification (decode -> signature -> membership -> chain -> atomic append), on real LevelDB.
 *   npx tsx scripts/bench-records.ts [--signals 100000] [--per-record 1000,10]
 */
import '../src/shim.js'
import { randomFillSync } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { initDataDir } from '../src/node/identity.js'
import { HashmeshNode } from '../src/node/node.js'
import { toHex } from '../src/record/crypto.js'

const { values } = parseArgs({ options: { signals: { type: 'string', default: '100000' }, 'per-record': { type: 'string', default: '1000,10' } } })
const totalSignals = Number(values.signals)
const shapes = values['per-record']!.split(',').map(Number)

function randomHex(bytes: number): string {
  return toHex(randomFillSync(new Uint8Array(bytes)))
}

const rate = (n: number, ms: number) => Math.round((n / ms) * 1000).toLocaleString('en-US')

for (const perRecord of shapes) {
  const base = mkdtempSync(join(tmpdir(), 'hashmesh-bench-'))
  try {
    await initDataDir(join(base, 'a'), { name: 'Alpha' })
    await initDataDir(join(base, 'b'), { name: 'Bravo' })
    const a = await HashmeshNode.open(join(base, 'a'))
    const records = Math.ceil(totalSignals / perRecord)
    // Generate inputs first so only appending is timed.
    const batches = Array.from({ length: records }, () => Array.from({ length: perRecord }, () => ({ type: 'pdq', value: randomHex(32), quality: 90 })))

    let t = performance.now()
    // Own appends: up to 1,000 signals per call (one call makes one record of perRecord signals).
    for (const signals of batches) await a.contribute({ signals, labels: ['behavior:glorification'] })
    const appendMs = performance.now() - t

    t = performance.now()
    const exported: Uint8Array[] = []
    for await (const bytes of a.iterateFeed(a.memberKey)) exported.push(bytes)
    const exportMs = performance.now() - t
    await a.close()

    const b = await HashmeshNode.open(join(base, 'b'))
    // The importer trusts Alpha's key (what a roster would say); everything else is verified.
    const receive = (b as unknown as { roster: { isMember: (k: string) => boolean } }).roster
    const memberKey = (await HashmeshNode.open(join(base, 'a')).then(async (n) => { const k = n.memberKey; await n.close(); return k }))
    const original = receive.isMember.bind(receive)
    receive.isMember = (key) => key === memberKey || original(key)
    t = performance.now()
    let accepted = 0
    // As the sync client does: batches of 256, the next one decoding and verifying while the previous one is stored.
    const inFlight: Promise<void>[] = []
    for (let i = 0; i < exported.length; i += 256) {
      inFlight.push(b.receive(exported.slice(i, i + 256)).then((results) => void (accepted += results.filter((r) => r.verdict === 'accepted').length)))
      if (inFlight.length >= 2) await inFlight.shift()
    }
    await Promise.all(inFlight)
    const importMs = performance.now() - t
    await b.close()
    if (accepted !== exported.length) throw new Error(`only ${accepted} of ${exported.length} records accepted`)

    console.log(`\n${records.toLocaleString('en-US')} records x ${perRecord} signals (${(records * perRecord).toLocaleString('en-US')} signals)`)
    console.log(`  own append (sign + store)   ${appendMs.toFixed(0).padStart(7)} ms  ${rate(records * perRecord, appendMs).padStart(10)} signals/s  ${rate(records, appendMs).padStart(8)} records/s`)
    console.log(`  export (read feed)          ${exportMs.toFixed(0).padStart(7)} ms  ${rate(records * perRecord, exportMs).padStart(10)} signals/s  ${rate(records, exportMs).padStart(8)} records/s`)
    console.log(`  import (verify + append)    ${importMs.toFixed(0).padStart(7)} ms  ${rate(records * perRecord, importMs).padStart(10)} signals/s  ${rate(records, importMs).padStart(8)} records/s`)
  } finally {
    rmSync(base, { recursive: true, force: true })
  }
}

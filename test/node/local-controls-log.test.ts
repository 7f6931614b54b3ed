import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ReplicaStore } from '../../src/store/replica-store.js'
import { MemoryKeyValueStore } from '../../src/store/memory-kv.js'
import { LocalControls } from '../../src/match/local-controls.js'
import { logLocalControls } from '../../src/node/local-controls-log.js'
import { createRecord } from '../../src/record/build.js'
import type { VerifiedRecord } from '../../src/record/types.js'
import { memberFromByte, randomPdqHex, signalsBody } from '../helpers/records.js'

test('quarantine in the info log: one readable line per member for a burst of quarantined records, one per release', async () => {
  const kv = new MemoryKeyValueStore()
  const store = await ReplicaStore.openWith(kv)
  const limits = { burst: 2, signalsPerMinute: 100, signalsPerHour: 1000 }
  const controls = await LocalControls.open(store, kv, { enabled: true, limits, incidentLimits: limits, autoRelease: false }, memberFromByte(1).publicKeyHex)
  const lines: Array<{ level: string; event: string; fields: Record<string, unknown> }> = []
  logLocalControls(controls, (level, event, fields = {}) => lines.push({ level, event, fields }), () => 'Bravo')
  try {
    const bravo = memberFromByte(2)
    const records: VerifiedRecord[] = []
    let head = { seq: 0, id: null as string | null }
    for (let i = 0; i < 6; i++) {
      const rec = createRecord(bravo, head, 'signals', signalsBody([randomPdqHex()]))
      records.push(rec)
      head = { seq: rec.record.seq, id: rec.record.id }
    }
    await store.appendVerified(records)
    assert.equal(controls.quarantine.size, 4)
    await new Promise((r) => setTimeout(r, 1_200)) // the line waits up to a second to gather the burst
    const quarantined = lines.filter((l) => l.event === 'quarantine.records')
    assert.equal(quarantined.length, 1)
    assert.equal(quarantined[0]!.level, 'info')
    assert.match(String(quarantined[0]!.fields.msg), /^quarantined 4 records \(4 signals\) from Bravo: 6 signals in any 10 s, over its limit of 2; stored, not matched until released/)
    await controls.quarantine.release({ all: true }, 'alice')
    const released = lines.filter((l) => l.event === 'quarantine.released')
    assert.equal(released.length, 1)
    assert.equal(released[0]!.fields.msg, 'released 4 quarantined records of Bravo (by alice); they match again')
  } finally {
    await store.close()
  }
})

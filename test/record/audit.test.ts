import { test } from 'node:test'
import assert from 'node:assert/strict'
import { auditRecords, type AuditItem } from '../../src/record/audit.js'
import { exportLine } from '../../src/node/views.js'
import { fromHex } from '../../src/record/crypto.js'
import { chain, memberFromByte } from '../helpers/records.js'

const author = memberFromByte(21)
const other = memberFromByte(22)
const records = chain(author, 3)
const members = new Map([[author.publicKeyHex, 'Author']])

/** Export lines as `hashmesh export` writes them, then as `hashmesh verify` reads them back. */
function items(edit: (line: Record<string, unknown>, index: number) => void = () => undefined): AuditItem[] {
  return records.map((r, i) => {
    const line: Record<string, unknown> = { ...exportLine(r) }
    edit(line, i)
    const { bytes, id, feed, seq } = line as { bytes: string; id?: unknown; feed?: unknown; seq?: unknown }
    return { line: i + 1, bytes: fromHex(bytes, bytes.length / 2, 'bytes'), declared: { id, feed, seq } }
  })
}

test('lines as exported are all ok', () => {
  const report = auditRecords(items(), members)
  assert.deepEqual(report.entries.map((e) => e.ok), [true, true, true])
  assert.equal(report.valid, 3)
  assert.deepEqual(report.feeds[author.publicKeyHex], { first: 1, last: 3, records: 3, member: 'Author' })
})

for (const [field, wrong] of [
  ['id', () => records[0]!.record.id],
  ['feed', () => other.publicKeyHex],
  ['seq', () => 3],
] as const) {
  test(`a line whose declared ${field} disagrees with its signed bytes is INVALID with ENVELOPE_MISMATCH`, () => {
    const report = auditRecords(items((line, i) => { if (i === 1) line[field] = wrong() }), members)
    const entry = report.entries[1]!
    assert.equal(entry.ok, false)
    assert.equal(entry.code, 'ENVELOPE_MISMATCH')
    assert.match(entry.message!, new RegExp(`declares ${field} `))
    // The entry names the record its bytes really are, and the lines around it are unaffected.
    assert.equal(entry.id, records[1]!.record.id)
    assert.equal(entry.seq, 2)
    assert.deepEqual(report.entries.map((e) => e.ok), [true, false, true])
    assert.equal(report.invalid, 1)
  })
}

test('a declared value of the wrong type, or a seq given as a string, is a mismatch; hex case and absent fields are not', () => {
  const asString = auditRecords(items((line, i) => { if (i === 0) line.seq = '1' }), members)
  assert.equal(asString.entries[0]!.code, 'ENVELOPE_MISMATCH')
  const asNumber = auditRecords(items((line, i) => { if (i === 2) line.id = 42 }), members)
  assert.equal(asNumber.entries[2]!.code, 'ENVELOPE_MISMATCH')
  const upper = auditRecords(items((line) => { line.id = String(line.id).toUpperCase(); line.feed = String(line.feed).toUpperCase() }), members)
  assert.equal(upper.valid, 3)
  const bare = auditRecords(items((line) => { delete line.id; delete line.feed; delete line.seq }), members)
  assert.equal(bare.valid, 3)
})

test('an envelope mismatch does not hide a chain problem on other lines, nor break the chain after it', () => {
  // Line 2 misnamed and line 3 removed: line 2 is ENVELOPE_MISMATCH, and a fourth record after a gap is SEQ_GAP.
  const more = chain(author, 5)
  const lines = [more[0]!, more[1]!, more[3]!].map((r, i) => {
    const line = exportLine(r)
    return { line: i + 1, bytes: fromHex(line.bytes, line.bytes.length / 2, 'bytes'), declared: { id: i === 1 ? 'ab'.repeat(32) : line.id, feed: line.feed, seq: line.seq } }
  })
  const report = auditRecords(lines, members)
  assert.deepEqual(report.entries.map((e) => e.code ?? 'ok'), ['ok', 'ENVELOPE_MISMATCH', 'SEQ_GAP'])
})

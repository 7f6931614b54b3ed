import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ReplicaStore } from '../../src/store/replica-store.js'
import { MemoryKeyValueStore } from '../../src/store/memory-kv.js'
import { Matcher } from '../../src/match/matcher.js'
import { compareVideoFrames } from '../../src/match/video-match.js'
import { createRecord } from '../../src/record/build.js'
import { vpdqValue } from '../../src/record/body-wire.js'
import type { VpdqFrame } from '../../src/record/types.js'
import { memberFromByte, randomPdqHex } from '../helpers/records.js'

/** `hex` with `bits` bits flipped, starting at bit `from`. */
function flip(hex: string, bits: number, from = 0): string {
  const bytes = Buffer.from(hex, 'hex')
  for (let i = from; i < from + bits; i++) bytes[i >> 3]! ^= 1 << (i & 7)
  return bytes.toString('hex')
}
const framesOf = (hashes: string[]): VpdqFrame[] => hashes.map((hash, i) => ({ hash, quality: 90, ms: i * 1000 }))
const THRESHOLDS = { frameThreshold: 31, queryPercent: 80, candidatePercent: 80 }

test('compareVideoFrames: unique quality >= 50 frames, <= threshold, percentages both ways', () => {
  const candidate = Array.from({ length: 10 }, randomPdqHex)
  const query = [...candidate.slice(0, 9).map((h) => flip(h, 31)), randomPdqHex(), candidate[0]!]
  const overlap = compareVideoFrames(framesOf(query), [...framesOf(candidate), { hash: randomPdqHex(), quality: 10, ms: 0 }], THRESHOLDS)
  assert.deepEqual([overlap.queryFrames, overlap.queryMatched, overlap.candidateFrames, overlap.candidateMatched], [11, 10, 10, 9])
  assert.equal(overlap.matches, true)
  assert.equal(compareVideoFrames(framesOf(query.map((h) => flip(h, 1, 100))), framesOf(candidate), THRESHOLDS).queryMatched, 1)
})

test('Matcher.matchVideo reports contributed videos reaching both percentages, explained; image queries see frame timestamps', async () => {
  const store = await ReplicaStore.openWith(new MemoryKeyValueStore())
  try {
    const videoA = Array.from({ length: 10 }, randomPdqHex)
    const videoB = Array.from({ length: 10 }, randomPdqHex)
    const signer = memberFromByte(7)
    const signal = (hashes: string[]) => ({ type: 'vpdq' as const, value: vpdqValue(framesOf(hashes)), frames: framesOf(hashes) })
    const first = createRecord(signer, { seq: 0, id: null }, 'signals', { signals: [signal(videoA)], contentType: 'video', labels: ['behavior:glorification'] }, 1_700_000_000_000)
    const second = createRecord(signer, { seq: first.record.seq, id: first.record.id }, 'signals', { signals: [signal(videoB)], contentType: 'video', labels: ['behavior:glorification'] }, 1_700_000_000_001)
    await store.appendVerified([first, second])
    const matcher = new Matcher(store, {
      policy: { members: null, minQuality: 50, ignoreDisputed: false, ignoreFalsePositive: false, minAgreeingMembers: 1, actOnEquivocated: false },
      pdqThreshold: 31,
      isMember: () => true,
      memberName: () => 'member seven',
      video: { queryPercent: 70 },
    })
    await matcher.rebuild()
    // The query holds 9 of A's frames (slightly altered) and 3 of B's: A matches at 90 % / 90 %, B does not.
    const query = [...videoA.slice(0, 9).map((h) => flip(h, 5)), ...videoB.slice(0, 3)]
    const matches = await matcher.matchVideo(framesOf(query), { ...THRESHOLDS, queryPercent: 70 })
    assert.equal(matches.length, 1)
    const [match] = matches
    assert.equal(match!.value, vpdqValue(framesOf(videoA)))
    assert.equal(match!.type, 'vpdq')
    assert.equal(match!.distance, 5)
    assert.equal(match!.video.candidatePercent, 90)
    assert.equal(match!.video.queryPercent, 75)
    assert.equal(match!.records[0]!.id, first.record.id)
    assert.equal(match!.records[0]!.member.name, 'member seven')
    assert.equal((await matcher.matchVideo(framesOf(query), { ...THRESHOLDS, queryPercent: 76 })).length, 0)
    // Through match(): a vpdq query carrying frames is matched as a video.
    const viaMatch = await matcher.match([{ type: 'vpdq', value: 'q', frames: framesOf(query) }])
    assert.deepEqual(viaMatch.map((m) => m.value), [match!.value])
    // An image query equal to frame 4 of B reports B with that frame's timestamp.
    const image = await matcher.match([{ type: 'pdq', value: flip(videoB[4]!, 3) }])
    assert.equal(image.length, 1)
    assert.equal(image[0]!.type, 'vpdq')
    assert.equal(image[0]!.value, vpdqValue(framesOf(videoB)))
    assert.deepEqual(image[0]!.frames?.map((f) => f.ms), [4000])
  } finally {
    await store.close()
  }
})

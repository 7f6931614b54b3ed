/**
 * Conformance with Meta's vPDQ reference hashes (../shared/testdata/vpdq), every-frame mode, with the
 * reference's own rule: equal frame counts and timestamps, and distance < 31 wherever both frames have
 * quality >= 50. Also the video-level match matrix derived from those files (python-threatexchange rule).
 * Each video is hashed once for the whole file.
 */
import { test, before } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { hashVideoFrames, type VpdqFrameHash } from '../../src/hash/vpdq.js'
import { hammingDistanceHex } from '../../src/hash/hash256.js'
import { compareVideoFrames } from '../../src/match/video-match.js'
import { REPO_ROOT } from './images.js'
import { requireSharedData, skipUnless } from './shared-data.js'

const DATA = join(REPO_ROOT, '..', 'shared', 'testdata', 'vpdq')
const VIDEOS = ['doorknob-hd-no-bar', 'test-padded-dimensions', 'pattern-sd-grey-bar', 'pattern-sd-with-small-logo-bar', 'pattern-sd-with-large-logo-bar', 'pattern-hd-no-bar', 'pattern-longer-no-bar']
const DISTANCE_TOLERANCE = 31
const QUALITY_TOLERANCE = 50
const skip = skipUnless(DATA, 'the shared vPDQ data set')
requireSharedData(DATA, 'the shared vPDQ data set')

const ours = new Map<string, VpdqFrameHash[]>()
before(async () => {
  if (skip) return
  for (const name of VIDEOS) {
    const result = await hashVideoFrames({ path: join(DATA, 'videos', `${name}.mp4`) }, { framesPerSecond: 0, timeoutMs: 120_000, maxDurationSeconds: 3600 })
    ours.set(name, result.frames)
  }
})

function expected(name: string): Array<{ frameNumber: number; quality: number; hash: string; ms: number }> {
  return readFileSync(join(DATA, 'expected-hashes', `${name}.txt`), 'utf8').trim().split('\n').map((line) => {
    const [frameNumber, quality, hash, seconds] = line.split(',')
    return { frameNumber: Number(frameNumber), quality: Number(quality), hash: hash!, ms: Math.round(Number(seconds) * 1000) }
  })
}

for (const name of VIDEOS) {
  test(`${name}: frames and timestamps equal the reference, every comparable frame within distance < 31`, { skip }, () => {
    const mine = ours.get(name)!
    const reference = expected(name)
    assert.equal(mine.length, reference.length)
    const outside: string[] = []
    for (const [i, ref] of reference.entries()) {
      const frame = mine[i]!
      assert.equal(frame.frameNumber, ref.frameNumber)
      assert.equal(frame.ms, ref.ms, `frame ${i} timestamp`)
      if (frame.quality < QUALITY_TOLERANCE || ref.quality < QUALITY_TOLERANCE) continue
      const distance = hammingDistanceHex(frame.hash, ref.hash)
      if (distance >= DISTANCE_TOLERANCE) outside.push(`frame ${i}: ${distance}`)
    }
    assert.deepEqual(outside, [])
  })
}

test('the sample videos match each other as in expected-matches/match-matrix.tsv', { skip }, () => {
  const rows = readFileSync(join(DATA, 'expected-matches', 'match-matrix.tsv'), 'utf8').trim().split('\n').slice(1)
  const thresholds = { frameThreshold: 31, queryPercent: 80, candidatePercent: 80 }
  for (const row of rows) {
    const [query, compared, , , pytxQuery, pytxCompared] = row.split('\t')
    const overlap = compareVideoFrames(ours.get(query!)!, ours.get(compared!)!, thresholds)
    // Our frames differ from the reference's by a few bits, so percentages may move a little, not the verdicts.
    assert.ok(Math.abs(overlap.queryPercent - Number(pytxQuery)) <= 3, `${query} vs ${compared}: query ${overlap.queryPercent} vs ${pytxQuery}`)
    assert.ok(Math.abs(overlap.candidatePercent - Number(pytxCompared)) <= 3, `${query} vs ${compared}: compared ${overlap.candidatePercent} vs ${pytxCompared}`)
    const expectedMatch = Number(pytxQuery) >= 80 && Number(pytxCompared) >= 80
    assert.equal(overlap.matches, expectedMatch, `${query} vs ${compared}`)
  }
})

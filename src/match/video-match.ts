/**
 * Video-level matching by vPDQ, the "bag of hashes" rule of Meta's vpdq README and python-threatexchange:
 * take each video's unique frame hashes of quality ≥ 50; a query frame is matched when some candidate
 * frame is within the frame threshold (≤, as python-threatexchange), and the other way round; the pair
 * matches when both percentages reach their thresholds. Frame order and timestamps are ignored.
 *
 * Pure functions: the Matcher finds the frame pairs with its PDQ index, these count them.
 */
import { hammingDistance, parseHash256 } from '../hash/hash256.js'

/** The reference's quality tolerance: frames below it are not compared. */
export const VIDEO_MATCH_MIN_QUALITY = 50

export interface VideoOverlap {
  /** Unique query frames (quality ≥ 50) and how many have a candidate frame within the threshold. */
  queryFrames: number
  queryMatched: number
  queryPercent: number
  candidateFrames: number
  candidateMatched: number
  candidatePercent: number
  /** Whether both percentages reach the configured thresholds. */
  matches: boolean
}

export interface VideoMatchThresholds {
  frameThreshold: number
  queryPercent: number
  candidatePercent: number
}

/** Unique frame hashes (lowercase hex) of quality ≥ minQuality, in first-seen order. */
export function matchableFrameHashes(frames: ReadonlyArray<{ hash: string; quality: number }>, minQuality = VIDEO_MATCH_MIN_QUALITY): string[] {
  const seen = new Set<string>()
  for (const frame of frames) if (frame.quality >= minQuality) seen.add(frame.hash.toLowerCase())
  return [...seen]
}

export function percentOf(part: number, whole: number): number {
  return whole === 0 ? 0 : (100 * part) / whole
}

export function videoOverlap(counts: { queryFrames: number; queryMatched: number; candidateFrames: number; candidateMatched: number }, thresholds: Omit<VideoMatchThresholds, 'frameThreshold'>): VideoOverlap {
  const queryPercent = percentOf(counts.queryMatched, counts.queryFrames)
  const candidatePercent = percentOf(counts.candidateMatched, counts.candidateFrames)
  return {
    ...counts,
    queryPercent,
    candidatePercent,
    matches: counts.queryFrames > 0 && counts.candidateFrames > 0 && queryPercent >= thresholds.queryPercent && candidatePercent >= thresholds.candidatePercent,
  }
}

/** Brute-force comparison of two frame lists (tests, tools; the Matcher uses its index instead). */
export function compareVideoFrames(
  query: ReadonlyArray<{ hash: string; quality: number }>,
  candidate: ReadonlyArray<{ hash: string; quality: number }>,
  thresholds: VideoMatchThresholds,
): VideoOverlap {
  const q = matchableFrameHashes(query).map(parseHash256)
  const c = matchableFrameHashes(candidate).map(parseHash256)
  const candidateHit = new Uint8Array(c.length)
  let queryMatched = 0
  for (const qh of q) {
    let hit = false
    for (let j = 0; j < c.length; j++) {
      if (hammingDistance(qh, c[j]!) <= thresholds.frameThreshold) {
        hit = true
        candidateHit[j] = 1
      }
    }
    if (hit) queryMatched++
  }
  const candidateMatched = candidateHit.reduce((sum, v) => sum + v, 0)
  return videoOverlap({ queryFrames: q.length, queryMatched, candidateFrames: c.length, candidateMatched }, thresholds)
}

/** config/default.json match.vpdqFrameThreshold and video.matchQueryPercent / matchCandidatePercent. */
export const DEFAULT_VIDEO_MATCH_THRESHOLDS: VideoMatchThresholds = { frameThreshold: 31, queryPercent: 80, candidatePercent: 80 }

/**
 * vPDQ, video PDQ as in Meta's reference (facebook/ThreatExchange vpdq/cpp): PDQ of sampled frames at
 * their full size (no 512 squash), with the reference's frame selection: with F frames per second wanted
 * and an average frame rate R, frame n is hashed when n mod ⌊R / F⌋ = 0 (every frame when F = 0 or
 * R / F < 1), and stamped n / R seconds.
 *
 * Two frame lists: all hashed frames (what the reference writes; conformance and matching use it), and
 * the list a contribution carries (quality ≥ 50 only, consecutive repeats of one hash collapsed).
 */
import { pdqFromRgb } from './pdq.js'
import { decodeVideoFrames, type VideoInfo, type VideoSource } from './video-frames.js'
import { formatHash256 } from './hash256.js'
import { md5Hex, sha256Hex } from './exact.js'
import { fail } from '../errors.js'
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'

/** The reference's QUALITY_TOLERANCE: frames below it are too featureless to compare or share. */
export const VPDQ_MIN_QUALITY = 50

export interface VpdqFrameHash {
  /** 0-based decode index. */
  frameNumber: number
  hash: string
  quality: number
  /** frameNumber / average frame rate, in milliseconds, rounded. */
  ms: number
}

/** A frame as a vpdq signal carries it (record/types VpdqFrame has the same shape). */
export interface VpdqFrame { hash: string; quality: number; ms: number }

export interface VpdqOptions {
  /** Frames hashed per second of video; 0 hashes every frame (config video.framesPerSecond). */
  framesPerSecond: number
  ffmpegPath?: string | null
  timeoutMs: number
  maxDurationSeconds: number
  signal?: AbortSignal
}

export interface VpdqResult {
  info: VideoInfo
  frames: VpdqFrameHash[]
}

/** The reference's frame interval: ⌊R / F⌋, at least 1 (F = 0 means every frame). */
export function vpdqFrameStep(fps: number, framesPerSecond: number): number {
  if (framesPerSecond <= 0 || fps <= 0) return 1
  return Math.max(1, Math.floor(fps / framesPerSecond))
}

/** Hashes the selected frames of a video, in decode order, while ffmpeg decodes the next ones. */
export async function hashVideoFrames(source: VideoSource, options: VpdqOptions): Promise<VpdqResult> {
  const frames: VpdqFrameHash[] = []
  let fps = 0
  const everyFrame = options.framesPerSecond <= 0
  const { info } = await decodeVideoFrames(
    source,
    {
      ffmpegPath: options.ffmpegPath,
      timeoutMs: options.timeoutMs,
      maxDurationSeconds: options.maxDurationSeconds,
      signal: options.signal,
      ...(everyFrame ? {} : { frameStepFor: (probed: VideoInfo) => vpdqFrameStep(probed.fps, options.framesPerSecond) }),
    },
    (decoded) => {
      fps = decoded.fps
    },
    (frame) => {
      const pdq = pdqFromRgb(frame.rgb, frame.width, frame.height)
      const ms = fps > 0 ? Math.round((frame.index * 1000) / fps) : 0
      frames.push({ frameNumber: frame.index, hash: formatHash256(pdq.hash), quality: pdq.quality, ms })
    },
  )
  return { info, frames }
}

/** The frames a contribution carries: quality ≥ minQuality, and a run of identical hashes kept once. */
export function contributionFrames(frames: VpdqFrameHash[], minQuality = VPDQ_MIN_QUALITY): VpdqFrame[] {
  const out: VpdqFrame[] = []
  for (const frame of frames) {
    if (frame.quality < minQuality) continue
    if (out.at(-1)?.hash === frame.hash) continue
    out.push({ hash: frame.hash, quality: frame.quality, ms: frame.ms })
  }
  return out
}

export interface VideoFingerprintOptions extends VpdqOptions {
  maxBytes: number
}

export interface VideoFingerprint {
  vpdq: {
    /** Frames a contribution carries (quality ≥ 50, consecutive repeats collapsed). */
    frames: VpdqFrame[]
    /** Every hashed frame, low quality included. */
    framesHashed: number
    framesPerSecond: number
  }
  md5: string
  sha256: string
  width: number
  height: number
  fps: number
  durationSeconds: number
}

/** vPDQ plus MD5 and SHA-256 of the file; the digests are computed while ffmpeg starts up. */
export async function fingerprintVideo(source: VideoSource, options: VideoFingerprintOptions): Promise<VideoFingerprint> {
  const size = 'bytes' in source ? source.bytes.length : (await stat(source.path)).size
  if (size === 0) fail('MEDIA_EMPTY', 'video is empty (0 bytes)')
  if (size > options.maxBytes) fail('MEDIA_TOO_LARGE', `video is ${size} bytes, over the limit of ${options.maxBytes}`, { details: { bytes: size, maxBytes: options.maxBytes } })
  const hashing = hashVideoFrames(source, options)
  const digests = 'bytes' in source ? { md5: md5Hex(source.bytes), sha256: sha256Hex(source.bytes) } : await fileDigests(source.path)
  const { info, frames } = await hashing
  const kept = contributionFrames(frames)
  return {
    vpdq: { frames: kept, framesHashed: frames.length, framesPerSecond: options.framesPerSecond },
    ...digests,
    width: info.width,
    height: info.height,
    fps: info.fps,
    durationSeconds: info.durationSeconds,
  }
}

async function fileDigests(path: string): Promise<{ md5: string; sha256: string }> {
  const md5 = createHash('md5')
  const sha256 = createHash('sha256')
  for await (const chunk of createReadStream(path)) {
    md5.update(chunk as Buffer)
    sha256.update(chunk as Buffer)
  }
  return { md5: md5.digest('hex'), sha256: sha256.digest('hex') }
}

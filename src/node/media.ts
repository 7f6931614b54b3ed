/**
 * Media bytes -> fingerprints and signals, with the node's configured limits. The container signature
 * decides: images go to PDQ (hash/fingerprint.ts), videos to vPDQ (hash/vpdq.ts). Callers that decode
 * concurrently (the HTTP API) pass a DecodeGate made by createDecodeGate, so that memory stays bounded.
 */
import type { Config } from '../config.js'
import { fail } from '../errors.js'
import { RECORD_LIMITS } from '../constants.js'
import { checkImageHeader } from '../hash/decode.js'
import { DecodeGate } from '../hash/decode-gate.js'
import { fingerprintImage, type ImageFingerprint } from '../hash/fingerprint.js'
import { sniffMediaKind, type VideoContainer } from '../hash/media-kind.js'
import { fingerprintVideo, type VideoFingerprint } from '../hash/vpdq.js'
import type { VideoSource } from '../hash/video-frames.js'
import { vpdqValue } from '../record/body-wire.js'
import type { ContributionInput } from './contribute.js'
import type { QuerySignal } from '../match/matcher.js'

export type VideoMediaFingerprint = { kind: 'video'; container: VideoContainer } & VideoFingerprint & { vpdq: { value?: string } }
export type MediaFingerprint = ({ kind: 'image' } & ImageFingerprint) | VideoMediaFingerprint

/** The gate for a node's concurrent decodes (config hash.maxConcurrentDecodes and hash.maxQueuedDecodes). */
export function createDecodeGate(config: Config): DecodeGate {
  return new DecodeGate({ maxActive: config.hash.maxConcurrentDecodes, maxQueued: config.hash.maxQueuedDecodes })
}

export interface FingerprintMediaOptions {
  dihedral?: boolean
  signal?: AbortSignal
  /** Wait for a decode slot here (BUSY when its queue is full); without one, decode at once. */
  gate?: DecodeGate
}

export async function fingerprintMedia(bytes: Uint8Array, config: Config, options: FingerprintMediaOptions = {}): Promise<MediaFingerprint> {
  if (bytes.length === 0) fail('MEDIA_EMPTY', 'media is empty (0 bytes)')
  const { gate, signal } = options
  const sniffed = sniffMediaKind(bytes)
  if (sniffed?.kind === 'video') {
    const decode = () => fingerprintVideoSource({ bytes }, sniffed.container, config, signal)
    return gate ? gate.run(decode, { signal }) : decode()
  }
  const limits = { maxBytes: config.hash.maxImageBytes, maxPixels: config.hash.maxImagePixels }
  // Refusals that need no decoding (too many bytes or pixels, unknown format) come before the queue:
  // a clear 4xx at once, never a 503.
  if (gate) await checkImageHeader(bytes, limits)
  const decode = async (): Promise<MediaFingerprint> => ({
    kind: 'image',
    ...(await fingerprintImage(bytes, { ...limits, dihedral: options.dihedral, minQuality: config.hash.minQuality })),
  })
  return gate ? gate.run(decode, { signal }) : decode()
}

/** A video file by path (the CLI): ffmpeg reads the file itself, nothing is loaded into memory. */
export async function fingerprintVideoSource(source: VideoSource, container: VideoContainer, config: Config, signal?: AbortSignal): Promise<VideoMediaFingerprint> {
  const { video } = config
  const fp = await fingerprintVideo(source, {
    framesPerSecond: video.framesPerSecond,
    ffmpegPath: video.ffmpegPath,
    timeoutMs: video.timeoutMs,
    maxDurationSeconds: video.maxDurationSeconds,
    maxBytes: video.maxVideoBytes,
    signal,
  })
  const frames = fp.vpdq.frames
  return { kind: 'video', container, ...fp, vpdq: { ...fp.vpdq, ...(frames.length > 0 ? { value: vpdqValue(frames) } : {}) } }
}

/** The signals a contribution of this media carries. */
export function contributionSignals(fp: MediaFingerprint): ContributionInput['signals'] {
  const exact: ContributionInput['signals'] = [{ type: 'md5', value: fp.md5 }, { type: 'sha256', value: fp.sha256 }]
  if (fp.kind === 'image') return [{ type: 'pdq', value: fp.pdq.hash, quality: fp.pdq.quality }, ...exact]
  const frames = fp.vpdq.frames
  if (frames.length > RECORD_LIMITS.maxVpdqFrames) {
    fail('MEDIA_TOO_LARGE', `video has ${frames.length} distinct frames of quality ≥ 50, over the ${RECORD_LIMITS.maxVpdqFrames} a vpdq signal holds: lower video.framesPerSecond`)
  }
  // A video with no frame of quality ≥ 50 (a black screen, say) is shared by its exact hashes only.
  return frames.length > 0 ? [{ type: 'vpdq', value: fp.vpdq.value, frames }, ...exact] : exact
}

/**
 * The queries a match of this media runs. Low-quality PDQ hashes are not used for matching by default; a
 * video's query carries its frames (quality ≥ 50), which the matcher compares frame by frame.
 */
export function matchQueries(fp: MediaFingerprint, config: Config): QuerySignal[] {
  const queries: QuerySignal[] = [{ type: 'md5', value: fp.md5 }, { type: 'sha256', value: fp.sha256 }]
  if (fp.kind === 'video') {
    if (fp.vpdq.value) queries.push({ type: 'vpdq', value: fp.vpdq.value, frames: fp.vpdq.frames })
    return queries
  }
  if (fp.pdq.quality >= config.match.minQuality) {
    queries.push({ type: 'pdq', value: fp.pdq.hash, variant: 'original' })
    for (const [variant, value] of Object.entries(fp.pdq.dihedral ?? {})) if (variant !== 'orig') queries.push({ type: 'pdq', value, variant })
  }
  return queries
}

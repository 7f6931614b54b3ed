/**
 * Media bytes -> fingerprints and signals, with the node's configured limits. Images now; videos are
 * recognised by their container and handled by the vPDQ pipeline.
 */
import type { Config } from '../config.js'
import { fingerprintImage, type ImageFingerprint } from '../hash/fingerprint.js'
import type { ContributionInput } from './contribute.js'
import type { QuerySignal } from '../match/matcher.js'

export type MediaFingerprint = { kind: 'image' } & ImageFingerprint

export async function fingerprintMedia(bytes: Uint8Array, config: Config, options: { dihedral?: boolean } = {}): Promise<MediaFingerprint> {
  const fp = await fingerprintImage(bytes, {
    dihedral: options.dihedral,
    maxBytes: config.hash.maxImageBytes,
    maxPixels: config.hash.maxImagePixels,
    minQuality: config.hash.minQuality,
  })
  return { kind: 'image', ...fp }
}

/** The signals a contribution of this media carries. */
export function contributionSignals(fp: MediaFingerprint): ContributionInput['signals'] {
  return [
    { type: 'pdq', value: fp.pdq.hash, quality: fp.pdq.quality },
    { type: 'md5', value: fp.md5 },
    { type: 'sha256', value: fp.sha256 },
  ]
}

/** The queries a match of this media runs; low-quality PDQ hashes are not used for matching by default. */
export function matchQueries(fp: MediaFingerprint, config: Config): QuerySignal[] {
  const queries: QuerySignal[] = [{ type: 'md5', value: fp.md5 }, { type: 'sha256', value: fp.sha256 }]
  if (fp.pdq.quality >= config.match.minQuality) {
    queries.push({ type: 'pdq', value: fp.pdq.hash, variant: 'original' })
    for (const [variant, value] of Object.entries(fp.pdq.dihedral ?? {})) if (variant !== 'orig') queries.push({ type: 'pdq', value, variant })
  }
  return queries
}

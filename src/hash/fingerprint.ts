/**
 * The library entry point for one image file: decode once, then PDQ (with the reference's 512×512
 * squash), MD5 and SHA-256 of the file bytes. Used by the CLI worker pool and the HTTP API.
 */
import { decodeImage, type ImageFormat } from './decode.js'
import { pdqFromImage } from './pdq.js'
import { md5Hex, sha256Hex } from './exact.js'
import { formatHash256 } from './hash256.js'
import type { DihedralHashes } from './dct.js'

/** The reference README's advice: hashes of quality below 50 are too featureless to match on. */
export const DEFAULT_MIN_PDQ_QUALITY = 50

export interface FingerprintOptions {
  /** Also compute the eight rotation/flip PDQ hashes (free: same DCT). */
  dihedral?: boolean
  maxBytes?: number
  maxPixels?: number
  /** Quality below this marks the PDQ hash lowQuality (config hash.minQuality). */
  minQuality?: number
}

export type DihedralHex = { [K in keyof DihedralHashes]: string }

export interface ImageFingerprint {
  pdq: { hash: string; quality: number; lowQuality: boolean; dihedral?: DihedralHex }
  md5: string
  sha256: string
  width: number
  height: number
  format: ImageFormat
}

export async function fingerprintImage(bytes: Uint8Array, options: FingerprintOptions = {}): Promise<ImageFingerprint> {
  // libvips decodes on the libuv thread pool; the file digests are computed meanwhile on this thread.
  const decoding = decodeImage(bytes, { maxBytes: options.maxBytes, maxPixels: options.maxPixels })
  const md5 = md5Hex(bytes)
  const sha256 = sha256Hex(bytes)
  const image = await decoding
  const pdq = pdqFromImage(image.rgb, image.width, image.height, { dihedral: options.dihedral })
  const minQuality = options.minQuality ?? DEFAULT_MIN_PDQ_QUALITY
  const fingerprint: ImageFingerprint = {
    pdq: { hash: formatHash256(pdq.hash), quality: pdq.quality, lowQuality: pdq.quality < minQuality },
    md5,
    sha256,
    width: image.width,
    height: image.height,
    format: image.format,
  }
  if (pdq.dihedral) fingerprint.pdq.dihedral = dihedralToHex(pdq.dihedral)
  return fingerprint
}

export function dihedralToHex(hashes: DihedralHashes): DihedralHex {
  const out = {} as DihedralHex
  for (const name of Object.keys(hashes) as Array<keyof DihedralHashes>) out[name] = formatHash256(hashes[name])
  return out
}

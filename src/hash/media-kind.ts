/**
 * Image or video, from the container signature alone (no parser runs on untrusted bytes to decide).
 * Images go to sharp (decode.ts), videos to ffmpeg (video-frames.ts).
 */
import { sniffImageFormat, type ImageFormat } from './decode.js'

export type VideoContainer = 'mp4' | 'mov' | 'matroska' | 'webm' | 'avi' | 'flv' | 'mpegts' | 'mpeg-ps' | 'asf' | 'ogg'

export type MediaKind =
  | { kind: 'image'; format: ImageFormat | 'heic' }
  | { kind: 'video'; container: VideoContainer }

/** HEIF brands are still pictures (decode.ts handles or refuses them); any other ISO-BMFF brand is video. */
const STILL_IMAGE_BRANDS = new Set(['avif', 'avis', 'heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'mif1', 'msf1'])
/** QuickTime files may begin with any of these atoms instead of ftyp. */
const QUICKTIME_ATOMS = new Set(['moov', 'mdat', 'wide', 'free', 'skip', 'pnot'])

export function sniffMediaKind(bytes: Uint8Array): MediaKind | undefined {
  const video = sniffVideoContainer(bytes)
  if (video) return { kind: 'video', container: video }
  const image = sniffImageFormat(bytes)
  return image ? { kind: 'image', format: image } : undefined
}

export function sniffVideoContainer(bytes: Uint8Array): VideoContainer | undefined {
  const ascii = (from: number, to: number): string => Buffer.from(bytes.subarray(from, to)).toString('latin1')
  const startsWith = (...values: number[]): boolean => values.every((v, i) => bytes[i] === v)
  if (bytes.length >= 12 && ascii(4, 8) === 'ftyp') {
    const major = ascii(8, 12)
    if (STILL_IMAGE_BRANDS.has(major)) return undefined
    return major === 'qt  ' ? 'mov' : 'mp4'
  }
  if (bytes.length >= 8 && QUICKTIME_ATOMS.has(ascii(4, 8))) return 'mov'
  if (startsWith(0x1a, 0x45, 0xdf, 0xa3)) return ascii(0, Math.min(bytes.length, 64)).includes('webm') ? 'webm' : 'matroska'
  if (bytes.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'AVI ') return 'avi'
  if (bytes.length >= 4 && ascii(0, 3) === 'FLV' && bytes[3] === 1) return 'flv'
  if (bytes.length >= 377 && bytes[0] === 0x47 && bytes[188] === 0x47 && bytes[376] === 0x47) return 'mpegts'
  if (startsWith(0x00, 0x00, 0x01, 0xba)) return 'mpeg-ps'
  if (startsWith(0x30, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11)) return 'asf'
  if (bytes.length >= 4 && ascii(0, 4) === 'OggS') return 'ogg'
  return undefined
}

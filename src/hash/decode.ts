/**
 * Image bytes → 8-bit interleaved RGB, the way Meta's PDQ reference sees them: ICC profiles and EXIF
 * orientation ignored, alpha dropped (not composited), first frame of animations, 16-bit samples scaled
 * to 8 bits. The only module that imports sharp.
 *
 * Untrusted input is checked before any decoding: size in bytes, a known container signature, and the
 * pixel count in the header (libvips' limitInputPixels runs on the header alone, so a tiny PNG claiming
 * 50000×50000 is refused in about a millisecond). Every failure is a HashmeshError with a MEDIA_* code.
 */
import sharp from 'sharp'
import { fail, isHashmeshError, HashmeshError } from '../errors.js'

/** Same as config/default.json hash.maxImageBytes / maxImagePixels; callers normally pass the config. */
export const DEFAULT_MAX_IMAGE_BYTES = 50 * 1024 * 1024
export const DEFAULT_MAX_IMAGE_PIXELS = 100_000_000
/** A decode of an allowed image takes milliseconds; anything near this is hostile. */
export const DECODE_TIMEOUT_SECONDS = 30

export type ImageFormat = 'jpeg' | 'png' | 'gif' | 'webp' | 'tiff' | 'avif'

export interface DecodeLimits {
  maxBytes?: number
  maxPixels?: number
}

export interface DecodedImage {
  /** width × height × 3 bytes, row-major RGB. */
  rgb: Uint8Array
  width: number
  height: number
  format: ImageFormat
}

// Operation caching only helps when the same file is re-read; we decode each buffer once.
sharp.cache(false)

/**
 * libvips threads per decode. One per worker when a pool already uses every core (threads would only
 * contend); the library default (one per core) suits a single process decoding one image at a time.
 * This setting is process-wide (worker threads share one libvips), and so is the libuv thread pool that
 * runs the decodes: above 4 cores, start the process with UV_THREADPOOL_SIZE ≥ 2 × cores.
 */
export function setDecoderThreads(threads: number): void {
  sharp.concurrency(threads)
}

export async function decodeImage(bytes: Uint8Array, limits: DecodeLimits = {}): Promise<DecodedImage> {
  const maxBytes = limits.maxBytes ?? DEFAULT_MAX_IMAGE_BYTES
  const maxPixels = limits.maxPixels ?? DEFAULT_MAX_IMAGE_PIXELS
  if (bytes.length === 0) fail('MEDIA_EMPTY', 'image is empty (0 bytes)')
  if (bytes.length > maxBytes) {
    fail('MEDIA_TOO_LARGE', `image is ${bytes.length} bytes, over the limit of ${maxBytes}`, { details: { bytes: bytes.length, maxBytes } })
  }
  const format = sniffImageFormat(bytes)
  if (format === undefined) fail('MEDIA_UNSUPPORTED', 'not a JPEG, PNG, GIF, WebP, TIFF or AVIF image')
  if (format === 'heic') fail('MEDIA_UNSUPPORTED', 'HEIC/HEIF images are not supported (no HEVC decoder); convert to JPEG or PNG')
  const input = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  try {
    const { data, info } = await sharp(input, { ignoreIcc: true, limitInputPixels: maxPixels, failOn: 'error' })
      .timeout({ seconds: DECODE_TIMEOUT_SECONDS })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true })
    if (info.channels !== 3 || data.length !== info.width * info.height * 3) {
      fail('MEDIA_UNSUPPORTED', `decoder returned ${info.channels} channels, expected RGB`)
    }
    return { rgb: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height, format }
  } catch (cause) {
    if (isHashmeshError(cause)) throw cause
    throw decodeError(cause, format)
  }
}

/** libvips reports failures as message text only; these are the ones users can act on. */
function decodeError(cause: unknown, format: ImageFormat): HashmeshError {
  const message = cause instanceof Error ? cause.message : String(cause)
  const firstLine = message.split('\n').find((line) => line.trim() !== '') ?? message
  if (/exceeds pixel limit/i.test(message)) return new HashmeshError('MEDIA_TOO_LARGE', 'image has more pixels than allowed', { cause })
  if (/timeout/i.test(message)) return new HashmeshError('MEDIA_TIMEOUT', `decoding took over ${DECODE_TIMEOUT_SECONDS}s`, { cause })
  if (/unsupported image format|not been built in|unsupported (codec|feature)|no decoder/i.test(message)) {
    return new HashmeshError('MEDIA_UNSUPPORTED', `cannot decode this ${format}: ${firstLine}`, { cause })
  }
  return new HashmeshError('MEDIA_CORRUPT', `${format} is corrupt or truncated: ${firstLine}`, { cause })
}

const HEIF_BRANDS_WE_DECODE = new Set(['avif', 'avis'])

/**
 * The container, from its signature. Anything else (SVG, PDF, raw camera files, HEIC, whose HEVC codec
 * the prebuilt sharp lacks) is refused before libvips sees it: fewer parsers exposed to untrusted bytes.
 */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | 'heic' | undefined {
  const ascii = (from: number, to: number): string => Buffer.from(bytes.subarray(from, to)).toString('latin1')
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg'
  if (bytes.length >= 8 && ascii(0, 8) === '\x89PNG\r\n\x1a\n') return 'png'
  if (bytes.length >= 6 && (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a')) return 'gif'
  if (bytes.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp'
  if (bytes.length >= 4 && (ascii(0, 4) === 'II*\0' || ascii(0, 4) === 'MM\0*')) return 'tiff'
  if (bytes.length >= 12 && ascii(4, 8) === 'ftyp') {
    const boxSize = Math.min(bytes.length, Math.max(16, Buffer.from(bytes.subarray(0, 4)).readUInt32BE(0)))
    const brands = [ascii(8, 12)]
    for (let at = 16; at + 4 <= boxSize; at += 4) brands.push(ascii(at, at + 4))
    return brands.some((brand) => HEIF_BRANDS_WE_DECODE.has(brand)) ? 'avif' : 'heic'
  }
  return undefined
}

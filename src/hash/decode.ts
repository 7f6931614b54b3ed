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
/**
 * 50 M pixels: every phone camera (12 MP binned, 48 MP full: 8064×6048) and 45 MP full-frame bodies fit;
 * PDQ squashes anything over 512×512 anyway, so a larger picture can be downscaled before hashing. A decode
 * holds pixels × 3 bytes (150 MB here) until it is hashed: with 2 decodes at once, 16 concurrent
 * maximum-size requests peaked at 0.68-0.84 GB RSS, against 1.10-1.12 GB at the former 100 M
 * (scripts/bench-decode-memory.ts; docs/operations.md has the table).
 */
export const DEFAULT_MAX_IMAGE_PIXELS = 50_000_000
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
  const maxPixels = limits.maxPixels ?? DEFAULT_MAX_IMAGE_PIXELS
  const format = checkBytesAndFormat(bytes, limits.maxBytes ?? DEFAULT_MAX_IMAGE_BYTES)
  try {
    const { data, info } = await sharp(asBuffer(bytes), { ignoreIcc: true, limitInputPixels: maxPixels, failOn: 'error' })
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

/**
 * Everything decodeImage refuses without decoding: size, container, and the pixel count in the header
 * (libvips reads the header only, in well under a millisecond). Cheap enough to run before a request
 * waits for a decode slot, so a bomb is told MEDIA_TOO_LARGE at once even on a busy node.
 */
export async function checkImageHeader(bytes: Uint8Array, limits: DecodeLimits = {}): Promise<{ format: ImageFormat; width: number; height: number }> {
  const maxPixels = limits.maxPixels ?? DEFAULT_MAX_IMAGE_PIXELS
  const format = checkBytesAndFormat(bytes, limits.maxBytes ?? DEFAULT_MAX_IMAGE_BYTES)
  let width: number
  let height: number
  try {
    ;({ width, height } = await sharp(asBuffer(bytes), { limitInputPixels: false }).metadata())
  } catch (cause) {
    throw decodeError(cause, format)
  }
  if (width * height > maxPixels) {
    fail('MEDIA_TOO_LARGE', `image is ${width}x${height} (${width * height} pixels), over the limit of ${maxPixels}`, { details: { width, height, maxPixels } })
  }
  return { format, width, height }
}

function checkBytesAndFormat(bytes: Uint8Array, maxBytes: number): ImageFormat {
  if (bytes.length === 0) fail('MEDIA_EMPTY', 'image is empty (0 bytes)')
  if (bytes.length > maxBytes) {
    fail('MEDIA_TOO_LARGE', `image is ${bytes.length} bytes, over the limit of ${maxBytes}`, { details: { bytes: bytes.length, maxBytes } })
  }
  const format = sniffImageFormat(bytes)
  if (format === undefined) fail('MEDIA_UNSUPPORTED', 'not a JPEG, PNG, GIF, WebP, TIFF or AVIF image')
  if (format === 'heic') fail('MEDIA_UNSUPPORTED', 'HEIC/HEIF images are not supported (no HEVC decoder); convert to JPEG or PNG')
  return format
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
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

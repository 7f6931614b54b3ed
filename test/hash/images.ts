/** Test image builders: a minimal PNG encoder (for 16-bit and deliberately broken files) and textures. */
import { deflateSync, crc32 } from 'node:zlib'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const SHARED_PDQ_DIR = join(REPO_ROOT, '..', 'shared', 'testdata', 'pdq')
export const FIXTURES_DIR = join(REPO_ROOT, 'test', 'fixtures', 'pdq')

function chunk(type: string, data: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data])
  const out = Buffer.alloc(body.length + 8)
  out.writeUInt32BE(data.length, 0)
  body.copy(out, 4)
  out.writeUInt32BE(crc32(body), body.length + 4)
  return out
}

const COLOUR_TYPE = { 1: 0, 2: 4, 3: 2, 4: 6 } as const

/** PNG of `channels` (1 grey, 2 grey+alpha, 3 RGB, 4 RGBA) samples at 8 or 16 bits; sample(x, y, c) gives the value. */
export function encodePng(width: number, height: number, channels: 1 | 2 | 3 | 4, bitDepth: 8 | 16, sample: (x: number, y: number, c: number) => number): Buffer {
  const header = Buffer.alloc(13)
  header.writeUInt32BE(width, 0)
  header.writeUInt32BE(height, 4)
  header[8] = bitDepth
  header[9] = COLOUR_TYPE[channels]
  const bytesPerSample = bitDepth / 8
  const rowBytes = 1 + width * channels * bytesPerSample
  const raw = Buffer.alloc(rowBytes * height)
  for (let y = 0; y < height; y++) {
    let o = y * rowBytes + 1
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++, o += bytesPerSample) {
        if (bitDepth === 16) raw.writeUInt16BE(sample(x, y, c), o)
        else raw[o] = sample(x, y, c)
      }
    }
  }
  return pngFromChunks(header, deflateSync(raw))
}

/** A PNG whose header claims width×height but whose data is a few bytes: a decompression bomb's shape. */
export function pixelBombPng(width: number, height: number): Buffer {
  const header = Buffer.alloc(13)
  header.writeUInt32BE(width, 0)
  header.writeUInt32BE(height, 4)
  header[8] = 8
  header[9] = 2
  return pngFromChunks(header, deflateSync(Buffer.alloc(width * 3 + 1)))
}

function pngFromChunks(header: Buffer, idat: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), chunk('IHDR', header), chunk('IDAT', idat), chunk('IEND', new Uint8Array(0))])
}

/** Deterministic photo-like RGB: gradients, a few shapes and noise (flat colour would hash to quality 0). */
export function textureRgb(width: number, height: number, seed = 1, noiseAmplitude = 20): Uint8Array {
  const rgb = new Uint8Array(width * height * 3)
  let state = seed >>> 0 || 1
  const noise = (): number => {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    return noiseAmplitude === 0 ? 0 : ((state >>> 0) % (2 * noiseAmplitude + 1)) - noiseAmplitude
  }
  const cx = width * (0.3 + 0.4 * ((seed * 7) % 10) / 10)
  const cy = height * (0.3 + 0.4 * ((seed * 3) % 10) / 10)
  const radius = Math.min(width, height) / 4
  for (let y = 0, o = 0; y < height; y++) {
    for (let x = 0; x < width; x++, o += 3) {
      const inDisc = (x - cx) ** 2 + (y - cy) ** 2 < radius * radius
      const inBar = Math.abs(x - y * (width / height) * ((seed % 3) + 1) * 0.4) < width / 20
      const base = (x / width) * 160 + 40 * Math.sin((y + seed * 11) / (height / 9))
      const shape = inDisc ? 70 : inBar ? -60 : 0
      rgb[o] = clamp(base + shape + noise())
      rgb[o + 1] = clamp((y / height) * 200 + shape / 2 + noise())
      rgb[o + 2] = clamp(128 + 90 * Math.sin((x + y) / (width / 7) + seed) - shape + noise())
    }
  }
  return rgb
}

function clamp(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v)
}

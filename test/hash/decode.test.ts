import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { decodeImage, sniffImageFormat } from '../../src/hash/decode.js'
import { fingerprintImage } from '../../src/hash/fingerprint.js'
import { pdqFromImage } from '../../src/hash/pdq.js'
import { hammingDistance } from '../../src/hash/hash256.js'
import { FIXTURES_DIR, encodePng, pixelBombPng, textureRgb } from './images.js'

const jpeg = readFileSync(join(FIXTURES_DIR, 'wee.jpg'))

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise
    return undefined
  } catch (err) {
    return (err as { code?: string }).code ?? `not a HashmeshError: ${String(err)}`
  }
}

test('empty input is MEDIA_EMPTY', async () => {
  assert.equal(await codeOf(decodeImage(new Uint8Array(0))), 'MEDIA_EMPTY')
})

test('input over maxBytes is MEDIA_TOO_LARGE, without decoding', async () => {
  assert.equal(await codeOf(decodeImage(jpeg, { maxBytes: jpeg.length - 1 })), 'MEDIA_TOO_LARGE')
  assert.equal(await codeOf(fingerprintImage(jpeg, { maxBytes: 100 })), 'MEDIA_TOO_LARGE')
})

test('a pixel bomb (tiny PNG claiming 50000×50000) is MEDIA_TOO_LARGE within milliseconds', async () => {
  const bomb = pixelBombPng(50000, 50000)
  assert.ok(bomb.length < 10_000)
  const started = Date.now()
  assert.equal(await codeOf(decodeImage(bomb)), 'MEDIA_TOO_LARGE')
  assert.ok(Date.now() - started < 1000)
  assert.equal(await codeOf(decodeImage(jpeg, { maxPixels: 100 })), 'MEDIA_TOO_LARGE')
})

test('random bytes, SVG, PDF and HEIC are MEDIA_UNSUPPORTED', async () => {
  const random = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24))
  assert.equal(await codeOf(decodeImage(random)), 'MEDIA_UNSUPPORTED')
  const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>')
  assert.equal(await codeOf(decodeImage(svg)), 'MEDIA_UNSUPPORTED')
  assert.equal(await codeOf(decodeImage(Buffer.from('%PDF-1.4\n%...'))), 'MEDIA_UNSUPPORTED')
  const heic = Buffer.concat([Buffer.from('0000001c66747970686569630000000068656963', 'hex'), Buffer.from('6d69663100000000', 'hex'), Buffer.alloc(512)])
  assert.equal(sniffImageFormat(heic), 'heic')
  assert.equal(await codeOf(decodeImage(heic)), 'MEDIA_UNSUPPORTED')
})

test('truncated JPEG and damaged PNG are MEDIA_CORRUPT', async () => {
  const big = readFileSync(join(FIXTURES_DIR, 'square-128x128.jpg'))
  assert.equal(await codeOf(decodeImage(big.subarray(0, Math.floor(big.length / 2)))), 'MEDIA_CORRUPT')
  assert.equal(await codeOf(decodeImage(big.subarray(0, 200))), 'MEDIA_CORRUPT')
  const png = encodePng(64, 64, 3, 8, (x, y, c) => (x * 3 + y * 5 + c * 40) & 255)
  assert.equal(await codeOf(decodeImage(png.subarray(0, png.length - 40))), 'MEDIA_CORRUPT')
  const garbled = Buffer.from(png)
  for (let i = 60; i < garbled.length - 20; i++) garbled[i] ^= 0x5a
  assert.equal(await codeOf(decodeImage(garbled)), 'MEDIA_CORRUPT')
})

test('16-bit PNG is scaled to 8 bits (high byte), not truncated to the low byte', async () => {
  const width = 256
  const height = 64
  const value16 = (x: number, y: number, c: number) => (x * 257 + y * 3 + c * 11) & 0xffff
  const png16 = encodePng(width, height, 3, 16, value16)
  const png8 = encodePng(width, height, 3, 8, (x, y, c) => value16(x, y, c) >> 8)
  const decoded16 = await decodeImage(png16)
  const decoded8 = await decodeImage(png8)
  assert.equal(decoded16.width, width)
  for (let i = 0; i < decoded8.rgb.length; i++) assert.ok(Math.abs(decoded16.rgb[i]! - decoded8.rgb[i]!) <= 1, `sample ${i}`)
  const hash16 = pdqFromImage(decoded16.rgb, width, height)
  const hash8 = pdqFromImage(decoded8.rgb, width, height)
  assert.ok(hammingDistance(hash16.hash, hash8.hash) <= 4)
  const grey16 = await decodeImage(encodePng(8, 8, 1, 16, (x) => x * 8000))
  assert.deepEqual(Array.from(grey16.rgb.subarray(0, 6)), [0, 0, 0, 31, 31, 31])
})

test('grey, grey+alpha, palette, RGBA and CMYK decode to 8-bit RGB', async () => {
  const grey = await decodeImage(encodePng(16, 8, 1, 8, (x) => x * 16))
  assert.deepEqual([grey.width, grey.height, grey.rgb.length], [16, 8, 16 * 8 * 3])
  assert.deepEqual(Array.from(grey.rgb.subarray(3, 6)), [16, 16, 16])
  // Alpha is dropped, not composited: a fully transparent pixel keeps its stored colour (as the reference).
  const rgba = await decodeImage(encodePng(4, 4, 4, 8, (_x, _y, c) => [200, 100, 50, 0][c]!))
  assert.deepEqual(Array.from(rgba.rgb.subarray(0, 3)), [200, 100, 50])
  const greyAlpha = await decodeImage(encodePng(4, 4, 2, 8, (_x, _y, c) => [90, 0][c]!))
  assert.deepEqual(Array.from(greyAlpha.rgb.subarray(0, 3)), [90, 90, 90])

  const rgb = textureRgb(96, 64, 2)
  const raw = { raw: { width: 96, height: 64, channels: 3 as const } }
  const palette = await sharp(rgb, raw).png({ palette: true, colours: 16 }).toBuffer()
  const decodedPalette = await decodeImage(palette)
  assert.deepEqual([decodedPalette.width, decodedPalette.height, decodedPalette.format], [96, 64, 'png'])
  const cmyk = await sharp(rgb, raw).toColourspace('cmyk').jpeg().toBuffer()
  assert.equal((await sharp(cmyk).metadata()).space, 'cmyk')
  const decodedCmyk = await decodeImage(cmyk)
  assert.equal(decodedCmyk.rgb.length, 96 * 64 * 3)
  // libvips converts CMYK through a colour profile (ImageMagick, under the reference, does not), so colours
  // shift; the real CMYK.jpg lands 10 bits from the reference (pdq-conformance.test.ts).
  const reference = pdqFromImage(rgb, 96, 64).hash
  assert.ok(hammingDistance(pdqFromImage(decodedCmyk.rgb, 96, 64).hash, reference) <= 64, 'CMYK decodes to the same picture')
})

test('GIF and WebP animations: only the first frame is decoded', async () => {
  const frame = (seed: number) => sharp(textureRgb(64, 64, seed), { raw: { width: 64, height: 64, channels: 3 } }).png().toBuffer()
  const frames = [await frame(7), await frame(8)]
  const firstAlone = pdqFromImage((await decodeImage(frames[0]!)).rgb, 64, 64).hash
  for (const encode of ['gif', 'webp'] as const) {
    const animated = await sharp(frames, { join: { animated: true } }).toFormat(encode, { lossless: true }).toBuffer()
    assert.equal((await sharp(animated).metadata()).pages, 2)
    const decoded = await decodeImage(animated)
    assert.deepEqual([decoded.format, decoded.width, decoded.height], [encode, 64, 64])
    assert.ok(hammingDistance(pdqFromImage(decoded.rgb, 64, 64).hash, firstAlone) <= 40, `${encode}: first frame`)
  }
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pdqFromImage, pdqFromRgb, squashTo512 } from '../../src/hash/pdq.js'
import { bitsFromDct } from '../../src/hash/dct.js'
import { fingerprintImage } from '../../src/hash/fingerprint.js'
import { formatHash256, hammingDistance } from '../../src/hash/hash256.js'
import { FIXTURES_DIR, textureRgb } from './images.js'

test('fixtures hash exactly as the C++ reference', async () => {
  const rows = readFileSync(join(FIXTURES_DIR, 'expected.tsv'), 'utf8').trim().split('\n').slice(1)
  assert.equal(rows.length, 3)
  for (const row of rows) {
    const [file, hash, quality] = row.split('\t') as [string, string, string]
    const bytes = readFileSync(join(FIXTURES_DIR, file))
    const fp = await fingerprintImage(bytes)
    assert.equal(fp.pdq.hash, hash, file)
    assert.equal(fp.pdq.quality, Number(quality), file)
    assert.equal(fp.pdq.lowQuality, Number(quality) < 50, file)
    assert.match(fp.md5, /^[0-9a-f]{32}$/)
    assert.match(fp.sha256, /^[0-9a-f]{64}$/)
    assert.equal(fp.format, 'jpeg')
  }
})

test('minQuality decides lowQuality', async () => {
  const bytes = readFileSync(join(FIXTURES_DIR, 'wee.jpg'))
  assert.equal((await fingerprintImage(bytes, { minQuality: 100 })).pdq.lowQuality, false)
  assert.equal((await fingerprintImage(bytes, { minQuality: 101 })).pdq.lowQuality, true)
})

test('hex layout: bit k = 16i + j has weight 2^k, most significant hex digit first', () => {
  const ascending = Float64Array.from({ length: 256 }, (_, k) => k)
  // Coefficients 128..255 exceed the median (the 128th smallest), so the top 128 bits are set.
  assert.equal(formatHash256(bitsFromDct(ascending)), 'f'.repeat(32) + '0'.repeat(32))
  const onlyLowBits = Float64Array.from({ length: 256 }, (_, k) => 255 - k)
  assert.equal(formatHash256(bitsFromDct(onlyLowBits)), '0'.repeat(32) + 'f'.repeat(32))
})

test('squashTo512 samples column floor(x·W/512) and row floor(y·H/512)', () => {
  const width = 1000
  const height = 600
  const rgb = new Uint8Array(width * height * 3)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3
      rgb[o] = x & 255
      rgb[o + 1] = x >> 8
      rgb[o + 2] = y & 255
    }
  }
  const out = squashTo512(rgb, width, height)
  assert.equal(out.width, 512)
  assert.equal(out.height, 512)
  for (const [x, y] of [[0, 0], [1, 1], [511, 511], [300, 17], [257, 400]] as const) {
    const o = (y * 512 + x) * 3
    const sx = Math.floor((x * width) / 512)
    const sy = Math.floor((y * height) / 512)
    assert.equal(out.rgb[o]! + 256 * out.rgb[o + 1]!, sx)
    assert.equal(out.rgb[o + 2], sy & 255)
  }
  const small = textureRgb(300, 200)
  assert.equal(squashTo512(small, 300, 200).rgb, small, 'images up to 512 px are left alone')
})

test('pdqFromImage = pdqFromRgb of the squashed pixels; pdqFromRgb alone hashes at full size', () => {
  const rgb = textureRgb(900, 700, 3)
  const squashed = squashTo512(rgb, 900, 700)
  const viaImage = pdqFromImage(rgb, 900, 700)
  assert.deepEqual(viaImage, pdqFromRgb(squashed.rgb, 512, 512))
  const full = pdqFromRgb(rgb, 900, 700)
  assert.ok(viaImage.quality > 50)
  assert.ok(hammingDistance(full.hash, viaImage.hash) <= 32, 'the same picture either way')
  const small = textureRgb(400, 300, 4)
  assert.deepEqual(pdqFromImage(small, 400, 300), pdqFromRgb(small, 400, 300))
})

test('dihedral hashes come from the same DCT and approximate really transformed pixels', () => {
  const size = 256
  // No pixel noise: a mirror moves the decimation grid by one pixel, which would resample the noise.
  const rgb = textureRgb(size, size, 5, 0)
  const result = pdqFromRgb(rgb, size, size, { dihedral: true })
  assert.ok(result.dihedral)
  assert.deepEqual(result.dihedral.orig, result.hash)
  const transform = (map: (x: number, y: number) => [number, number]): Uint8Array => {
    const out = new Uint8Array(rgb.length)
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const [sx, sy] = map(x, y)
        out.set(rgb.subarray((sy * size + sx) * 3, (sy * size + sx) * 3 + 3), (y * size + x) * 3)
      }
    }
    return out
  }
  const last = size - 1
  const cases = {
    rot90: transform((x, y) => [last - y, x]),
    rot180: transform((x, y) => [last - x, last - y]),
    rot270: transform((x, y) => [y, last - x]),
    flipp: transform((x, y) => [y, x]),
    flipx: transform((x, y) => [x, last - y]),
    flipy: transform((x, y) => [last - x, y]),
    flipm: transform((x, y) => [last - y, last - x]),
  }
  // Reflections move the decimation grid by one pixel (cell centre 8j+4 mirrors to 8j+3), so like the
  // reference these are near, not equal, to hashing transformed pixels, except the transpose of a square.
  for (const [name, pixels] of Object.entries(cases)) {
    const actual = pdqFromRgb(pixels, size, size).hash
    const distances = Object.entries(result.dihedral).map(([other, hash]) => [other, hammingDistance(actual, hash)] as const)
    const own = distances.find(([other]) => other === name)![1]
    const nearestOther = Math.min(...distances.filter(([other]) => other !== name).map(([, d]) => d))
    assert.ok(own <= 50 && own < nearestOther - 30, `${name}: ${own} bits, nearest other variant ${nearestOther}`)
    if (name === 'flipp') assert.equal(own, 0)
  }
})

test('images under 5 px on a side get the reference zero hash and quality 0', () => {
  const r = pdqFromRgb(new Uint8Array(4 * 100 * 3).fill(200), 4, 100, { dihedral: true })
  assert.equal(formatHash256(r.hash), '0'.repeat(64))
  assert.equal(r.quality, 0)
  assert.equal(formatHash256(r.dihedral!.rot90), '0'.repeat(64))
})

test('pixel buffers that do not fit the dimensions are refused', () => {
  assert.throws(() => pdqFromRgb(new Uint8Array(10), 10, 10), RangeError)
  assert.throws(() => pdqFromImage(new Uint8Array(10), 1.5, 10), RangeError)
})

/**
 * Conformance with Meta's C++ reference on the ThreatExchange pdq/data images (see
 * ../shared/testdata/pdq/README.md for the rules and where every expected value came from).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { decodeImage } from '../../src/hash/decode.js'
import { pdqFromImage, type DihedralHashes } from '../../src/hash/pdq.js'
import { formatHash256, hammingDistance, hammingDistanceHex, parseHash256 } from '../../src/hash/hash256.js'
import { SHARED_PDQ_DIR } from './images.js'
import { requireSharedData, skipUnless } from './shared-data.js'

const EXPECTED_FILE = join(SHARED_PDQ_DIR, 'expected', 'pdq-cpp.tsv')
const skip = skipUnless(EXPECTED_FILE, 'the shared PDQ data set')
requireSharedData(EXPECTED_FILE, 'the shared PDQ data set')
const DIHEDRAL_NAMES = ['orig', 'rot90', 'rot180', 'rot270', 'flipx', 'flipy', 'flipp', 'flipm'] as const

function readTsv(name: string): Record<string, string>[] {
  const [header, ...lines] = readFileSync(join(SHARED_PDQ_DIR, 'expected', name), 'utf8').trim().split('\n')
  const columns = header!.split('\t')
  return lines.map((line) => Object.fromEntries(line.split('\t').map((value, i) => [columns[i]!, value])))
}

interface Outcome {
  path: string
  referenceQuality: number
  quality: number
  distance: number
  samePixels: boolean
  dihedralDistances: number[]
}

async function hashAll(): Promise<Outcome[]> {
  const dihedral = new Map(readTsv('pdq-cpp-dihedral.tsv').map((row) => [row.path!, row]))
  const pixels = new Map(readTsv('decoded-pixels.tsv').map((row) => [row.path!, row.sha256_rgb8!]))
  const outcomes: Outcome[] = []
  for (const row of readTsv('pdq-cpp.tsv')) {
    const image = await decodeImage(readFileSync(join(SHARED_PDQ_DIR, row.path!)))
    const result = pdqFromImage(image.rgb, image.width, image.height, { dihedral: true })
    const expected = dihedral.get(row.path!)!
    outcomes.push({
      path: row.path!,
      referenceQuality: Number(row.quality),
      quality: result.quality,
      distance: hammingDistanceHex(formatHash256(result.hash), row.hash!),
      samePixels: createHash('sha256').update(image.rgb).digest('hex') === pixels.get(row.path!),
      dihedralDistances: DIHEDRAL_NAMES.map((name) => hammingDistance(result.dihedral![name as keyof DihedralHashes], parseHash256(expected[name]!))),
    })
  }
  return outcomes
}

test('PDQ matches the C++ reference on its own test images', { skip }, async (t) => {
  const outcomes = await hashAll()
  assert.equal(outcomes.length, 45)

  await t.test('rule B: every image of reference quality >= 80 is within distance 10', () => {
    for (const o of outcomes.filter((o) => o.referenceQuality >= 80)) assert.ok(o.distance <= 10, `${o.path}: distance ${o.distance}`)
  })

  await t.test('at least 95% of all images are bit-exact with equal quality', () => {
    const exact = outcomes.filter((o) => o.distance === 0 && o.quality === o.referenceQuality)
    assert.ok(exact.length >= Math.ceil(0.95 * outcomes.length), `only ${exact.length}/${outcomes.length} exact`)
  })

  await t.test('rule A: where our decoder gives the reference pixels, hash and quality are identical', () => {
    const same = outcomes.filter((o) => o.samePixels)
    assert.ok(same.length >= 44, `decoder matched the reference pixels on only ${same.length} images`)
    for (const o of same) {
      assert.equal(o.quality, o.referenceQuality, o.path)
      assert.equal(o.distance, 0, o.path)
    }
  })

  await t.test('all 8 dihedral hashes match the reference (--pdqdih-across)', () => {
    for (const o of outcomes) {
      // q0003 is almost featureless (quality 3): its DCT coefficients tie near the median, so float32 vs
      // float64 rounding moves a couple of bits. The reference README singles it out too.
      const limit = o.referenceQuality >= 80 && o.samePixels ? 0 : 10
      for (const [i, d] of o.dihedralDistances.entries()) assert.ok(d <= limit, `${o.path} ${DIHEDRAL_NAMES[i]}: distance ${d}`)
    }
  })
})

test('needles vs haystack: brute force finds exactly the reference pairs within distance 31', { skip }, () => {
  const load = (name: string) => readFileSync(join(SHARED_PDQ_DIR, 'hashlists', name), 'utf8').trim().split('\n').map((line) => parseHash256(line.trim()))
  const needles = load('needles.txt')
  const haystack = load('haystack.txt')
  const found: string[] = []
  for (const [n, needle] of needles.entries()) {
    for (const [h, hay] of haystack.entries()) {
      const d = hammingDistance(needle, hay)
      if (d <= 31) found.push(`${n + 1}\t${h + 1}\t${d}`)
    }
  }
  const expected = readTsv('needles-vs-haystack-d31.tsv').map((r) => `${r.needle_line}\t${r.haystack_line}\t${r.distance}`)
  assert.equal(found.length, 250)
  assert.deepEqual(found.sort(), expected.sort())
})

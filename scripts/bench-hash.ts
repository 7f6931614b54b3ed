/**
 * Image hashing throughput: `npx tsx scripts/bench-hash.ts [count]`.
 * Generates photo-like 1024×768 JPEGs, then measures images/s for (a) sharp decode only, (b) the full
 * fingerprint (decode + PDQ + MD5 + SHA-256) one image at a time with one libvips thread, and (c) the
 * worker pool on every core. The machine may be shared: each figure is the best of a few rounds, and the
 * process's CPU milliseconds per image are printed too (less sensitive to other processes than wall time).
 */
import '../src/shim.js'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { decodeImage, setDecoderThreads } from '../src/hash/decode.js'
import { fingerprintImage } from '../src/hash/fingerprint.js'
import { HashPool } from '../src/hash/pool.js'

const WIDTH = 1024
const HEIGHT = 768
const COUNT = Number(process.argv[2] ?? 200)
const ROUNDS = 3

/** Gradients, a disc, stripes and pixel noise: JPEG sizes like a real photo (~150–250 KB), not flat colour. */
function photoLike(seed: number): Buffer {
  const rgb = Buffer.alloc(WIDTH * HEIGHT * 3)
  let state = seed * 2654435761 || 1
  const noise = (): number => {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    return ((state >>> 0) % 25) - 12
  }
  const cx = (seed * 97) % WIDTH
  const cy = (seed * 61) % HEIGHT
  for (let y = 0, o = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++, o += 3) {
      const disc = (x - cx) ** 2 + (y - cy) ** 2 < 200 ** 2 ? 60 : 0
      const stripes = 25 * Math.sin((x * (1 + (seed % 5)) + y * 0.7) / 23)
      rgb[o] = clamp((x / WIDTH) * 180 + stripes + disc + noise())
      rgb[o + 1] = clamp((y / HEIGHT) * 160 + 50 * Math.sin((x + seed * 13) / 90) + noise())
      rgb[o + 2] = clamp(120 + 80 * Math.cos((x - y) / 140 + seed) - disc + noise())
    }
  }
  return rgb
}

function clamp(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : v | 0
}

async function measure(label: string, run: () => Promise<void>): Promise<number> {
  let best = 0
  let bestCpu = Infinity
  for (let round = 0; round < ROUNDS; round++) {
    const cpu = process.cpuUsage()
    const started = performance.now()
    await run()
    const seconds = (performance.now() - started) / 1000
    const used = process.cpuUsage(cpu)
    best = Math.max(best, COUNT / seconds)
    bestCpu = Math.min(bestCpu, (used.user + used.system) / 1000 / COUNT)
  }
  console.log(`${label.padEnd(44)} ${best.toFixed(1).padStart(7)} images/s   (${bestCpu.toFixed(2)} ms CPU/image, all threads)`)
  return best
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hashmesh-bench-'))
  try {
    console.log(`generating ${COUNT} JPEGs of ${WIDTH}x${HEIGHT}…`)
    const files: Buffer[] = []
    const paths: string[] = []
    for (let i = 0; i < COUNT; i++) {
      const jpeg = await sharp(photoLike(i + 1), { raw: { width: WIDTH, height: HEIGHT, channels: 3 } }).jpeg({ quality: 85 }).toBuffer()
      files.push(jpeg)
      paths.push(join(dir, `img-${i}.jpg`))
      writeFileSync(paths[i]!, jpeg)
    }
    const meanKb = files.reduce((n, f) => n + f.length, 0) / COUNT / 1024
    console.log(`mean JPEG size ${meanKb.toFixed(0)} KB; ${availableParallelism()} cores; node ${process.version}, sharp ${sharp.versions.sharp}`)

    setDecoderThreads(1)
    const decodeOnly = await measure('(a) sharp decode only, 1 thread', async () => {
      for (const file of files) await decodeImage(file)
    })
    const full = await measure('(b) decode+PDQ+MD5+SHA-256, 1 thread', async () => {
      for (const file of files) await fingerprintImage(file)
    })
    const pool = new HashPool()
    try {
      await Promise.all(paths.slice(0, pool.threads * 2).map((p) => pool.hashFile(p)))
      await measure(`(c) worker pool, ${pool.threads} threads (reads files)`, async () => {
        await Promise.all(paths.map((p) => pool.hashFile(p)))
      })
    } finally {
      await pool.close()
    }
    console.log(`(b)/(a) = ${((100 * full) / decodeOnly).toFixed(0)} % of decode-only throughput`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()

/**
 * vPDQ throughput on a 720p clip, every-frame mode: decode-only frames/s (ffmpeg to rgb24, frames
 * discarded) and decode+hash frames/s (hashing on this one thread while ffmpeg decodes in its process).
 * Usage: npx tsx scripts/bench-video.ts [video.mp4]   (default: shared pattern-hd-no-bar.mp4, 720x1280)
 */
import { join } from 'node:path'
import { decodeVideoFrames } from '../src/hash/video-frames.js'
import { hashVideoFrames } from '../src/hash/vpdq.js'
import { pdqFromRgb } from '../src/hash/pdq.js'
import { PROJECT_ROOT } from '../src/config.js'

const video = process.argv[2] ?? join(PROJECT_ROOT, '..', 'shared', 'testdata', 'vpdq', 'videos', 'pattern-hd-no-bar.mp4')
const options = { timeoutMs: 600_000, maxDurationSeconds: 3600 }
const ROUNDS = 3

async function best(run: () => Promise<number>): Promise<{ frames: number; fps: number }> {
  let bestFps = 0
  let frames = 0
  for (let i = 0; i < ROUNDS; i++) {
    const started = performance.now()
    frames = await run()
    bestFps = Math.max(bestFps, frames / ((performance.now() - started) / 1000))
  }
  return { frames, fps: bestFps }
}

const decode = await best(async () => {
  let n = 0
  await decodeVideoFrames({ path: video }, options, () => undefined, () => void n++)
  return n
})
const full = await best(async () => (await hashVideoFrames({ path: video }, { ...options, framesPerSecond: 0 })).frames.length)

// Hashing alone, on one decoded frame.
let frame: { rgb: Uint8Array; width: number; height: number } | undefined
await decodeVideoFrames({ path: video }, options, () => undefined, (f) => void (frame ??= { rgb: f.rgb.slice(), width: f.width, height: f.height }))
const perFrame = (hash: (rgb: Uint8Array, w: number, h: number) => unknown): number => {
  for (let i = 0; i < 10; i++) hash(frame!.rgb, frame!.width, frame!.height)
  const started = performance.now()
  for (let i = 0; i < 50; i++) hash(frame!.rgb, frame!.width, frame!.height)
  return (performance.now() - started) / 50
}
console.log(`video: ${video} (${frame!.width}x${frame!.height}, ${full.frames} frames, best of ${ROUNDS})`)
console.log(`decode only (ffmpeg → rgb24):   ${decode.fps.toFixed(1)} frames/s`)
console.log(`decode + vPDQ (every frame):    ${full.fps.toFixed(1)} frames/s   (target ≥ 51)`)
console.log(`hash only, pdqFromRgb:          ${perFrame(pdqFromRgb).toFixed(2)} ms/frame`)

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fingerprintVideo, hashVideoFrames, vpdqFrameStep } from '../../src/hash/vpdq.js'
import { sniffMediaKind } from '../../src/hash/media-kind.js'
import { REPO_ROOT } from './images.js'

const FIXTURE = join(REPO_ROOT, 'test', 'fixtures', 'vpdq', 'testsrc-160x120-10fps-3s.mp4')
const OPTIONS = { framesPerSecond: 0, timeoutMs: 30_000, maxDurationSeconds: 3600, maxBytes: 10_000_000 }

async function rejectsWithCode(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (err: { code?: string; message?: string }) => {
    assert.equal(err.code, code, err.message)
    return true
  })
}

test('every-frame mode hashes all 30 frames with frameNumber/fps timestamps; 1 fps keeps frames 0, 10, 20', async () => {
  const all = await hashVideoFrames({ path: FIXTURE }, OPTIONS)
  assert.deepEqual(all.info, { width: 160, height: 120, fps: 10, durationSeconds: 3 })
  assert.equal(all.frames.length, 30)
  assert.deepEqual(all.frames.slice(0, 3).map((f) => [f.frameNumber, f.ms]), [[0, 0], [1, 100], [2, 200]])
  const sampled = await hashVideoFrames({ bytes: readFileSync(FIXTURE) }, { ...OPTIONS, framesPerSecond: 1 })
  assert.deepEqual(sampled.frames.map((f) => [f.frameNumber, f.ms]), [[0, 0], [10, 1000], [20, 2000]])
  // Bytes (served to ffmpeg over loopback HTTP) and the file path give the same hashes.
  assert.deepEqual(sampled.frames.map((f) => f.hash), [0, 10, 20].map((n) => all.frames[n]!.hash))
})

test('vpdqFrameStep follows the reference: floor(fps / framesPerSecond), at least 1, 0 = every frame', () => {
  assert.equal(vpdqFrameStep(30, 1), 30)
  assert.equal(vpdqFrameStep(29.97, 1), 29)
  assert.equal(vpdqFrameStep(30, 0), 1)
  assert.equal(vpdqFrameStep(0.5, 1), 1)
})

test('fingerprintVideo adds MD5 and SHA-256 of the bytes and keeps quality >= 50 frames without repeats', async () => {
  const bytes = readFileSync(FIXTURE)
  const fp = await fingerprintVideo({ bytes }, OPTIONS)
  assert.match(fp.md5, /^[0-9a-f]{32}$/)
  assert.match(fp.sha256, /^[0-9a-f]{64}$/)
  assert.equal(fp.vpdq.framesHashed, 30)
  assert.ok(fp.vpdq.frames.length > 0 && fp.vpdq.frames.every((f) => f.quality >= 50))
  for (let i = 1; i < fp.vpdq.frames.length; i++) assert.notEqual(fp.vpdq.frames[i]!.hash, fp.vpdq.frames[i - 1]!.hash)
})

test('bad videos fail with a MEDIA_* code and leave no ffmpeg behind', async () => {
  const good = readFileSync(FIXTURE)
  await rejectsWithCode(fingerprintVideo({ bytes: new Uint8Array(0) }, OPTIONS), 'MEDIA_EMPTY')
  await rejectsWithCode(fingerprintVideo({ bytes: good }, { ...OPTIONS, maxBytes: 100 }), 'MEDIA_TOO_LARGE')
  await rejectsWithCode(fingerprintVideo({ bytes: good }, { ...OPTIONS, maxDurationSeconds: 1 }), 'MEDIA_TOO_LARGE')
  await rejectsWithCode(fingerprintVideo({ bytes: good.subarray(0, Math.floor(good.length * 0.6)) }, OPTIONS), 'MEDIA_CORRUPT')
  const random = Buffer.concat([good.subarray(0, 32), crypto.getRandomValues(new Uint8Array(50_000))])
  assert.equal(sniffMediaKind(random)?.kind, 'video')
  await rejectsWithCode(fingerprintVideo({ bytes: random }, OPTIONS), 'MEDIA_CORRUPT')
  await rejectsWithCode(fingerprintVideo({ bytes: good }, { ...OPTIONS, timeoutMs: 1 }), 'MEDIA_TIMEOUT')
  const controller = new AbortController()
  const aborted = fingerprintVideo({ bytes: good }, { ...OPTIONS, signal: controller.signal })
  setTimeout(() => controller.abort(new Error('stop')), 5)
  await assert.rejects(aborted, /stop/)
  await rejectsWithCode(fingerprintVideo({ bytes: good }, { ...OPTIONS, ffmpegPath: '/nonexistent/ffmpeg' }), 'MEDIA_UNSUPPORTED')
})

test('sniffMediaKind tells videos from images by signature', () => {
  assert.deepEqual(sniffMediaKind(readFileSync(FIXTURE)), { kind: 'video', container: 'mp4' })
  assert.deepEqual(sniffMediaKind(readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'pdq', 'wee.jpg'))), { kind: 'image', format: 'jpeg' })
  assert.deepEqual(sniffMediaKind(Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x42, 0x82, 0x84, 0x77, 0x65, 0x62, 0x6d])), { kind: 'video', container: 'webm' })
  assert.equal(sniffMediaKind(Buffer.from('hello world')), undefined)
})

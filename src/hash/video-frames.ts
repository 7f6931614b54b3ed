/**
 * Video bytes or file → decoded RGB24 frames, by running ffmpeg in a child process. The only module that
 * spawns ffmpeg.
 *
 * How this fits together: one ffmpeg process both probes and decodes. Its stderr (log level info) carries
 * the header dump: the input's duration and average frame rate, and the rgb24 output stream's size; its
 * stdout carries the raw frames, which we cut at width×height×3 bytes. Frames are queued (a few at most)
 * while the caller hashes, so decoding (ffmpeg's process, the second core) overlaps hashing (this thread).
 *
 * To match Meta's vPDQ reference, which decodes with libav and converts each frame with swscale SWS_AREA
 * at the same size: no rotation (-noautorotate), every decoded frame kept once (-vsync passthrough), and
 * -sws_flags area for the YUV → RGB conversion. Files are read by path; in-memory bytes are served to
 * ffmpeg from a one-shot loopback HTTP URL with Range support, because MP4s whose index (moov) follows the
 * media data cannot be demuxed from a pipe, and we write no temporary files.
 *
 * Every run ends with ffmpeg gone: on timeout (MEDIA_TIMEOUT), abort, error, a caller that stops early,
 * or a video over the duration limit (MEDIA_TOO_LARGE).
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { accessSync, constants as fsConstants } from 'node:fs'
import { createRequire } from 'node:module'
import { fail, HashmeshError } from '../errors.js'

/** Containers ffmpeg may open: never playlists (HLS, concat) that would make it fetch other URLs. */
const DEMUXER_WHITELIST = 'mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,flv,mpegts,mpeg,asf,ogg'
/** Decoded frames waiting for the hasher before ffmpeg is paused (each up to width×height×3 bytes). */
const MAX_QUEUED_FRAMES = 4
/** Largest frame we accept (8K UHD is 33 Mpx); beyond it a single frame is hundreds of MB. */
export const MAX_FRAME_PIXELS = 40_000_000
const STDERR_KEEP_BYTES = 64 * 1024

export interface VideoInfo {
  width: number
  height: number
  /** Average frame rate of the video stream (the reference's avg_frame_rate). */
  fps: number
  /** From the container header; 0 when unknown. */
  durationSeconds: number
}

export type VideoSource = { path: string } | { bytes: Uint8Array }

export interface DecodeVideoOptions {
  ffmpegPath?: string | null
  timeoutMs: number
  maxDurationSeconds: number
  /**
   * Keep only decoded frames whose index is a multiple of the returned step (default: every frame). When
   * given, a quick header-only ffmpeg run first learns the frame rate, so that ffmpeg itself drops the
   * other frames before converting them to RGB.
   */
  frameStepFor?: (info: VideoInfo) => number
  signal?: AbortSignal
}

export interface DecodedVideoFrame {
  /** 0-based index among all decoded frames. */
  index: number
  width: number
  height: number
  /** width × height × 3 bytes, row-major RGB. */
  rgb: Uint8Array
}

/** The ffmpeg binary: config video.ffmpegPath, else the one inside @ffmpeg-installer/ffmpeg. */
export function resolveFfmpegPath(configured?: string | null): string {
  let path = configured ?? undefined
  if (!path) {
    try {
      path = (createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string }).path
    } catch (cause) {
      fail('MEDIA_UNSUPPORTED', 'video needs ffmpeg: install @ffmpeg-installer/ffmpeg or set video.ffmpegPath', { cause })
    }
  }
  try {
    accessSync(path, fsConstants.X_OK)
  } catch (cause) {
    fail('MEDIA_UNSUPPORTED', `ffmpeg at ${path} is missing or not executable: run "chmod +x ${path}" or set video.ffmpegPath`, { cause })
  }
  return path
}

/**
 * Decodes the first video stream. `onInfo` runs once, before any frame; `onFrame` runs per kept frame
 * and may be async (decoding continues meanwhile, up to a few queued frames). Resolves with the info and
 * the number of frames passed to `onFrame`.
 */
export async function decodeVideoFrames(
  source: VideoSource,
  options: DecodeVideoOptions,
  onInfo: (info: VideoInfo) => void,
  onFrame: (frame: DecodedVideoFrame) => void | Promise<void>,
): Promise<{ info: VideoInfo; keptFrames: number }> {
  const ffmpeg = resolveFfmpegPath(options.ffmpegPath)
  options.signal?.throwIfAborted()
  const served = 'bytes' in source ? await serveBytesOnce(source.bytes) : undefined
  const input = served?.url ?? (source as { path: string }).path
  try {
    let frameStep = 1
    if (options.frameStepFor) {
      const probed = await runFfmpeg(ffmpeg, input, options, 0, () => undefined, () => undefined)
      frameStep = Math.max(1, Math.floor(options.frameStepFor(probed.info)))
    }
    return await runFfmpeg(ffmpeg, input, options, frameStep, onInfo, onFrame)
  } finally {
    await served?.close()
  }
}

function ffmpegArgs(input: string, frameStep: number): string[] {
  const args = ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info', '-noautorotate', '-format_whitelist', DEMUXER_WHITELIST]
  args.push('-i', input, '-map', '0:v:0', '-an', '-sn', '-dn', '-vsync', 'passthrough', '-sws_flags', 'area')
  // select counts frames as decoded, so skipped frames are neither converted to RGB nor piped.
  if (frameStep > 1) args.push('-vf', `select=not(mod(n\\,${frameStep}))`)
  // Step 0: header only (no frame is decoded past probing).
  if (frameStep === 0) args.push('-frames:v', '0')
  args.push('-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1')
  return args
}

function runFfmpeg(
  ffmpeg: string, input: string, options: DecodeVideoOptions, frameStep: number,
  onInfo: (info: VideoInfo) => void, onFrame: (frame: DecodedVideoFrame) => void | Promise<void>,
): Promise<{ info: VideoInfo; keptFrames: number }> {
  const child = spawn(ffmpeg, ffmpegArgs(input, frameStep), { stdio: ['ignore', 'pipe', 'pipe'] })
  return new Promise((resolve, reject) => {
    let stderr = ''
    let info: VideoInfo | undefined
    let frameBytes = 0
    let pending: Buffer[] = []
    let pendingBytes = 0
    const queue: Uint8Array[] = []
    let kept = 0
    let consuming = false
    let exited: { code: number | null } | undefined
    let settled = false

    const finish = (err?: unknown): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      options.signal?.removeEventListener('abort', onAbort)
      if (exited === undefined) child.kill('SIGKILL')
      if (err !== undefined) reject(err)
      else resolve({ info: info!, keptFrames: kept })
    }
    const timer = setTimeout(() => finish(new HashmeshError('MEDIA_TIMEOUT', `video decoding took over ${options.timeoutMs} ms`)), options.timeoutMs)
    const onAbort = (): void => finish(options.signal?.reason ?? new Error('aborted'))
    options.signal?.addEventListener('abort', onAbort, { once: true })

    const pump = async (): Promise<void> => {
      if (consuming) return
      consuming = true
      try {
        while (queue.length > 0 && !settled) {
          const rgb = queue.shift()!
          if (queue.length < MAX_QUEUED_FRAMES) child.stdout.resume()
          await onFrame({ index: kept * frameStep, width: info!.width, height: info!.height, rgb })
          kept++
          if (info!.fps > 0 && (kept * frameStep) / info!.fps > options.maxDurationSeconds + 1) {
            return finish(new HashmeshError('MEDIA_TOO_LARGE', `video is longer than the limit of ${options.maxDurationSeconds} s`))
          }
        }
      } catch (err) {
        return finish(err)
      } finally {
        consuming = false
      }
      if (exited !== undefined) onExit()
    }

    const takeFrames = (): void => {
      while (pendingBytes >= frameBytes) {
        const all = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes)
        queue.push(new Uint8Array(all.buffer, all.byteOffset, frameBytes))
        const rest = all.subarray(frameBytes)
        pending = rest.length > 0 ? [Buffer.from(rest)] : []
        pendingBytes = rest.length
      }
      if (queue.length >= MAX_QUEUED_FRAMES) child.stdout.pause()
      void pump()
    }

    child.stdout.on('data', (chunk: Buffer) => {
      pending.push(chunk)
      pendingBytes += chunk.length
      if (info) takeFrames()
    })
    child.stderr.setEncoding('latin1')
    child.stderr.on('data', (text: string) => {
      if (stderr.length < STDERR_KEEP_BYTES) stderr += text
      if (info || settled) return
      try {
        info = parseHeader(stderr, options.maxDurationSeconds)
      } catch (err) {
        return finish(err)
      }
      if (!info) return
      frameBytes = info.width * info.height * 3
      onInfo(info)
      takeFrames()
    })
    child.on('error', (cause) => finish(new HashmeshError('MEDIA_UNSUPPORTED', `cannot run ffmpeg (${ffmpeg}): ${cause.message}`, { cause })))
    const onExit = (): void => {
      if (settled || consuming || queue.length > 0) return
      const problem = ffmpegProblem(exited!.code, stderr, info, frameStep === 0 ? 1 : kept, pendingBytes)
      finish(problem)
    }
    child.on('close', (code) => {
      exited = { code }
      if (info && pendingBytes >= frameBytes) takeFrames()
      onExit()
    })
  })
}

/** Parses ffmpeg's header dump once the output stream line has appeared; undefined until then. */
function parseHeader(stderr: string, maxDurationSeconds: number): VideoInfo | undefined {
  const output = stderr.indexOf('Output #0')
  if (output < 0) return undefined
  const outputStream = /Stream #0:0.*?: Video: rawvideo[^\n]*?, (\d+)x(\d+)/.exec(stderr.slice(output))
  if (!outputStream) return undefined
  const inputPart = stderr.slice(0, output)
  const inputStream = /Stream #0:\d+[^\n]*?: Video: [^\n]*/.exec(inputPart)?.[0] ?? ''
  const fps = /, ([\d.]+)(k?) fps/.exec(inputStream)
  const duration = /Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)/.exec(inputPart)
  const info: VideoInfo = {
    width: Number(outputStream[1]),
    height: Number(outputStream[2]),
    fps: fps ? Number(fps[1]) * (fps[2] ? 1000 : 1) : 0,
    durationSeconds: duration ? Number(duration[1]) * 3600 + Number(duration[2]) * 60 + Number(duration[3]) : 0,
  }
  if (info.durationSeconds > maxDurationSeconds) {
    fail('MEDIA_TOO_LARGE', `video lasts ${info.durationSeconds} s, over the limit of ${maxDurationSeconds} s`, { details: { durationSeconds: info.durationSeconds, maxDurationSeconds } })
  }
  if (info.width * info.height > MAX_FRAME_PIXELS) fail('MEDIA_TOO_LARGE', `video frames are ${info.width}x${info.height}, over ${MAX_FRAME_PIXELS} pixels`)
  if (info.width === 0 || info.height === 0) fail('MEDIA_CORRUPT', 'video stream has no picture size')
  return info
}

/** What went wrong, from the exit code and stderr, or undefined when the whole video decoded. */
function ffmpegProblem(code: number | null, stderr: string, info: VideoInfo | undefined, frames: number, leftover: number): HashmeshError | undefined {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean)
  const firstError = lines.find((l) => /error|invalid|not found|partial file|corrupt|unsupported|does not contain/i.test(l)) ?? lines.at(-1) ?? `exit code ${code}`
  if (/matches no streams|does not contain any stream|no video/i.test(stderr)) return new HashmeshError('MEDIA_UNSUPPORTED', 'the file has no video stream')
  if (/Decoder \(codec .*\) not found|Unsupported codec|not on whitelist|could not find codec parameters/i.test(stderr) && frames === 0) {
    return new HashmeshError('MEDIA_UNSUPPORTED', `cannot decode this video: ${firstError}`)
  }
  // A truncated or damaged file often decodes partly and still exits 0: we refuse a partial fingerprint.
  if (code !== 0 || !info || frames === 0 || leftover > 0 || /partial file|Invalid data found|corrupt input packet|moov atom not found/i.test(stderr)) {
    return new HashmeshError('MEDIA_CORRUPT', `video is corrupt or truncated: ${firstError}`, { details: { exitCode: code, framesDecoded: frames } })
  }
  return undefined
}

/**
 * Serves `bytes` at an unguessable URL on 127.0.0.1 (GET with Range, as ffmpeg's http protocol seeks),
 * until close(). Nothing else is served.
 */
async function serveBytesOnce(bytes: Uint8Array): Promise<{ url: string; close: () => Promise<void> }> {
  const path = `/${randomBytes(16).toString('hex')}`
  const body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const server = createServer((request, response) => {
    if (request.url !== path || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(404).end()
      return
    }
    const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.range ?? '')
    const start = range ? Number(range[1]) : 0
    const end = range && range[2] ? Math.min(Number(range[2]), body.length - 1) : body.length - 1
    if (start >= body.length && body.length > 0) {
      response.writeHead(416, { 'content-range': `bytes */${body.length}` }).end()
      return
    }
    const headers = { 'content-type': 'application/octet-stream', 'accept-ranges': 'bytes', 'content-length': String(end - start + 1) }
    if (range) response.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${end}/${body.length}` })
    else response.writeHead(200, headers)
    response.end(request.method === 'HEAD' ? undefined : body.subarray(start, end + 1))
  })
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', () => resolve()))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}${path}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
}

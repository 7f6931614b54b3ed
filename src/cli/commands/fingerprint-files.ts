/**
 * Files for `submit` and `match`: walking directories, fingerprinting images (PDQ, MD5, SHA-256) and videos
 * (vPDQ, MD5, SHA-256), and reading back what `hashmesh hash` prints (TSV or JSON Lines), so its output can be
 * submitted without hashing again. sharp and ffmpeg are imported only when a file is fingerprinted.
 */
import { open, readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { ContributionInput } from '../../node/contribute.js'

export type Signals = ContributionInput['signals']

/** Enough of a file's start for every container signature media-kind.ts knows (MPEG-TS needs 377 bytes). */
const SNIFF_BYTES = 512

/** Regular files under each path (itself if a file), depth first, sorted by name, dotfiles skipped. A missing path throws ENOENT. */
export async function collectFiles(paths: string[]): Promise<string[]> {
  const out: string[] = []
  const walk = async (path: string, top: boolean): Promise<void> => {
    const info = await stat(path)
    if (info.isFile()) out.push(path)
    else if (info.isDirectory()) {
      for (const entry of (await readdir(path)).sort()) if (!entry.startsWith('.')) await walk(join(path, entry), false)
    } else if (top) {
      throw Object.assign(new Error(`${path} is not a regular file`), { code: 'EISDIR', path })
    }
  }
  for (const path of paths) await walk(path, true)
  return out
}

/** A fingerprinter bound to the data directory's config (decode limits, video frame rate). */
export async function fileFingerprinter(dataDir: string | undefined): Promise<(file: string) => Promise<Signals>> {
  const { loadConfig } = await import('../../config.js')
  const { sniffVideoContainer } = await import('../../hash/media-kind.js')
  const { fingerprintMedia, fingerprintVideoSource, contributionSignals } = await import('../../node/media.js')
  const config = loadConfig(dataDir ? { dataDir } : {})
  return async (file) => {
    const container = sniffVideoContainer(await readHead(file))
    // Videos are read by ffmpeg from the path: a long video never has to fit in memory.
    const fp = container ? await fingerprintVideoSource({ path: file }, container, config) : await fingerprintMedia(await readFile(file), config)
    return contributionSignals(fp)
  }
}

export async function fingerprintFiles(files: string[], dataDir: string): Promise<Signals> {
  const fingerprint = await fileFingerprinter(dataDir)
  const out: Signals = []
  for (const file of files) out.push(...(await fingerprint(file)))
  return out
}

export async function readHead(file: string): Promise<Uint8Array> {
  const handle = await open(file, 'r')
  try {
    const buffer = new Uint8Array(SNIFF_BYTES)
    const { bytesRead } = await handle.read(buffer, 0, SNIFF_BYTES, 0)
    return buffer.subarray(0, bytesRead)
  } finally {
    await handle.close()
  }
}

/** One line of a signals file: the signals it carries, and the file it came from when it is `hash` output. */
export interface SignalLine { path?: string; signals: Signals }

const HEX = /^[0-9a-f]+$/i
/** `hash` TSV lines of images and videos have the same columns; a video line is told by its path. */
const VIDEO_PATH = /\.(mp4|m4v|mov|webm|mkv|avi|ts|mts|m2ts|mpe?g|3gp|flv|wmv|ogv)$/i

/**
 * Parses one line of a signals file. Accepted: a signal as JSON `{type,value,quality}`; `type value [quality]`;
 * and what `hashmesh hash` prints: TSV `path pdq quality md5 sha256 [dihedral…]` or, for a video,
 * `path vpdq|- frames md5 sha256` (told by the path's extension), and its `--json` lines. A TSV video line carries
 * no frames, so only its MD5 and SHA-256 are taken (`hash --json` keeps the frames). Undefined when the line is none of these.
 */
export function parseSignalLine(text: string): SignalLine | undefined {
  const trimmed = text.trim()
  if (trimmed.startsWith('{')) {
    let json: Record<string, unknown>
    try {
      json = JSON.parse(trimmed) as Record<string, unknown>
    } catch (err) {
      if (err instanceof SyntaxError) return undefined
      throw err
    }
    if (typeof json.type === 'string') return { signals: [json as Signals[number]] }
    const path = typeof json.path === 'string' ? json.path : undefined
    const exact: Signals = []
    if (typeof json.md5 === 'string') exact.push({ type: 'md5', value: json.md5 })
    if (typeof json.sha256 === 'string') exact.push({ type: 'sha256', value: json.sha256 })
    if (json.kind === 'video') {
      const frames = json.frames as Signals[number]['frames']
      const vpdq = typeof json.vpdq === 'string' && Array.isArray(frames) && frames.length > 0 ? [{ type: 'vpdq', value: json.vpdq, frames }] : []
      return { path, signals: [...vpdq, ...exact] }
    }
    if (typeof json.pdq === 'string') return { path, signals: [{ type: 'pdq', value: json.pdq, ...(typeof json.quality === 'number' ? { quality: json.quality } : {}) }, ...exact] }
    return exact.length ? { path, signals: exact } : undefined
  }
  const columns = text.includes('\t') ? text.split('\t').map((c) => c.trim()) : trimmed.split(/\s+/)
  if (columns.length >= 5 && text.includes('\t')) {
    const [path, first, count, md5, sha256] = columns as [string, string, string, string, string]
    const exact: Signals = [{ type: 'md5', value: md5 }, { type: 'sha256', value: sha256 }]
    if (first === '-' || VIDEO_PATH.test(path)) return { path, signals: exact } // a video line: no frames in TSV
    return { path, signals: [{ type: 'pdq', value: first, quality: Number(count) }, ...exact] }
  }
  const [type, value, quality] = columns
  if (!type || !value || HEX.test(type)) return undefined
  return { signals: [{ type, value, ...(quality !== undefined ? { quality: Number(quality) } : {}) }] }
}

/**
 * `hashmesh hash FILE|DIR…`: PDQ, MD5 and SHA-256 of image files, on every core; vPDQ of video files (one
 * at a time: ffmpeg decodes in its own process while this thread hashes). Nothing is stored or sent.
 */
import type { Command } from 'commander'
import { readdir, stat } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { isHashmeshError } from '../../errors.js'
import type { ImageFingerprint } from '../../hash/fingerprint.js'
import type { VideoMediaFingerprint } from '../../node/media.js'
import { readHead } from './fingerprint-files.js'
import { parseIntOption, progressBar } from '../common.js'
import { printError, printJson, printLine } from '../output.js'

interface HashOptions {
  json?: boolean
  dihedral?: boolean
  threads?: number
}

const DIHEDRAL_COLUMNS = ['rot90', 'rot180', 'rot270', 'flipx', 'flipy', 'flipp', 'flipm'] as const

export function register(program: Command): void {
  program
    .command('hash')
    .description('print PDQ hash, quality, MD5 and SHA-256 of image files, vPDQ of videos (directories are walked recursively)')
    .argument('<paths...>', 'image or video files, or directories')
    .option('--json', 'one JSON object per file instead of tab-separated columns')
    .option('--dihedral', 'also print the 7 rotated/flipped PDQ hashes (TSV: extra columns rot90…flipm)')
    .option('--threads <n>', 'worker threads (default: one per core)', parseIntOption('--threads'))
    .action(async (paths: string[], opts: HashOptions) => {
      process.exitCode = (await hashPaths(paths, opts)) ? 0 : 1
    })
}

/** Hashes every file, printing results in input order; returns false if any file failed. */
async function hashPaths(paths: string[], opts: HashOptions): Promise<boolean> {
  const { loadConfig } = await import('../../config.js')
  const { HashPool } = await import('../../hash/pool.js')
  const { sniffVideoContainer } = await import('../../hash/media-kind.js')
  const { fingerprintVideoSource } = await import('../../node/media.js')
  const config = loadConfig()
  let ok = true
  const files: string[] = []
  for (const path of paths) {
    try {
      await collectFiles(path, files)
    } catch (err) {
      printError(`${path}\tNOT_FOUND: ${(err as Error).message}`)
      ok = false
    }
  }
  const pool = new HashPool({
    threads: opts.threads || undefined,
    fingerprint: { dihedral: opts.dihedral, maxBytes: config.hash.maxImageBytes, maxPixels: config.hash.maxImagePixels, minQuality: config.hash.minQuality },
  })
  // ~100 ms a file on one core (images; videos take longer): a bar when the whole should take over 2 s
  const progress = await progressBar(files.length, 'hashing', { expectedMs: (files.length * 100) / Math.max(1, opts.threads || availableParallelism()) })
  try {
    // Results arrive out of order; start every task, then print each as soon as all before it are done.
    let videoChain: Promise<unknown> = Promise.resolve()
    const hashOne = async (file: string): Promise<ImageFingerprint | VideoMediaFingerprint> => {
      const container = sniffVideoContainer(await readHead(file).catch(() => new Uint8Array(0)))
      if (!container) return pool.hashFile(file)
      const video = videoChain.then(() => fingerprintVideoSource({ path: file }, container, config))
      videoChain = video.catch(() => undefined) // not swallowed: `video` is returned and its failure reported for its file; the chain only orders ffmpeg runs
      return video
    }
    const results = files.map((file) => hashOne(file).then((fp) => ({ fp }), (err: unknown) => ({ err })))
    for (const [i, pending] of results.entries()) {
      const result = await pending
      progress.tick()
      if ('fp' in result) printFingerprint(files[i]!, result.fp, opts)
      else {
        ok = false
        const err = result.err
        printError(isHashmeshError(err) ? `${files[i]}\t${err.code}: ${err.message}` : `${files[i]}\tINTERNAL: ${String(err)}`)
      }
    }
  } finally {
    progress.stop()
    await pool.close()
  }
  return ok
}

function printFingerprint(path: string, fp: ImageFingerprint | VideoMediaFingerprint, opts: HashOptions): void {
  if ('kind' in fp && fp.kind === 'video') return printVideoFingerprint(path, fp, opts)
  fp = fp as ImageFingerprint
  if (opts.json) {
    const line: Record<string, unknown> = { path, pdq: fp.pdq.hash, quality: fp.pdq.quality, md5: fp.md5, sha256: fp.sha256 }
    if (opts.dihedral) line.dihedral = fp.pdq.dihedral
    printJson(line)
    return
  }
  const columns = [path, fp.pdq.hash, String(fp.pdq.quality), fp.md5, fp.sha256]
  if (opts.dihedral && fp.pdq.dihedral) for (const name of DIHEDRAL_COLUMNS) columns.push(fp.pdq.dihedral[name])
  printLine(columns.join('\t'))
}

/** TSV: path, vpdq value (or "-" when no frame has quality ≥ 50), frames kept, MD5, SHA-256. */
function printVideoFingerprint(path: string, fp: VideoMediaFingerprint, opts: HashOptions): void {
  if (opts.json) {
    printJson({ path, kind: 'video', vpdq: fp.vpdq.value ?? null, frames: fp.vpdq.frames, framesHashed: fp.vpdq.framesHashed, md5: fp.md5, sha256: fp.sha256, width: fp.width, height: fp.height, fps: fp.fps, durationSeconds: fp.durationSeconds })
    return
  }
  printLine([path, fp.vpdq.value ?? '-', String(fp.vpdq.frames.length), fp.md5, fp.sha256].join('\t'))
}

/** Regular files under `path` (itself if a file), sorted by name so output order is reproducible. */
async function collectFiles(path: string, into: string[]): Promise<void> {
  const info = await stat(path)
  if (info.isFile()) {
    into.push(path)
    return
  }
  if (!info.isDirectory()) return
  const entries = (await readdir(path)).sort()
  for (const entry of entries) {
    if (entry.startsWith('.')) continue
    await collectFiles(join(path, entry), into)
  }
}

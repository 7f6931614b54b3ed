/** Fingerprints files for `submit` and `match`: images (PDQ, MD5, SHA-256) and videos (vPDQ, MD5, SHA-256). */
import { open, readFile } from 'node:fs/promises'
import type { ContributionInput } from '../../node/contribute.js'

/** Enough of a file's start for every container signature media-kind.ts knows (MPEG-TS needs 377 bytes). */
const SNIFF_BYTES = 512

export async function fingerprintFiles(files: string[], dataDir: string): Promise<ContributionInput['signals']> {
  const { loadConfig } = await import('../../config.js')
  const { sniffVideoContainer } = await import('../../hash/media-kind.js')
  const { fingerprintMedia, fingerprintVideoSource, contributionSignals } = await import('../../node/media.js')
  const config = loadConfig({ dataDir })
  const out: ContributionInput['signals'] = []
  for (const file of files) {
    const container = sniffVideoContainer(await readHead(file))
    // Videos are read by ffmpeg from the path: a long video never has to fit in memory.
    const fp = container ? await fingerprintVideoSource({ path: file }, container, config) : await fingerprintMedia(await readFile(file), config)
    out.push(...contributionSignals(fp))
  }
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

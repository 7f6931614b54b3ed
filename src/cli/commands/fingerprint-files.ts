/** Fingerprints files for `submit` and `match` (images now; videos join with vPDQ). */
import { readFile } from 'node:fs/promises'
import type { ContributionInput } from '../../node/contribute.js'

export async function fingerprintFiles(files: string[], _dataDir: string): Promise<ContributionInput['signals']> {
  const { fingerprintImage } = await import('../../hash/fingerprint.js')
  const out: ContributionInput['signals'] = []
  for (const file of files) {
    const fp = await fingerprintImage(await readFile(file), {})
    out.push({ type: 'pdq', value: fp.pdq.hash, quality: fp.pdq.quality }, { type: 'md5', value: fp.md5 }, { type: 'sha256', value: fp.sha256 })
  }
  return out
}

/**
 * A system Chromium for the console's browser tests (Debian's `chromium` package, driven by
 * playwright-core, which downloads no browser). Without one the tests are skipped and say why; under
 * CI=true a missing browser is a failure (.ci/run installs it).
 */
import { existsSync } from 'node:fs'
import { delimiter, join } from 'node:path'

const NAMES = ['chromium', 'chromium-browser', 'google-chrome']

export function findChromium(): string | undefined {
  const given = process.env.HASHMESH_CHROMIUM
  if (given) return existsSync(given) ? given : undefined
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    for (const name of NAMES) {
      const path = join(dir, name)
      if (dir && existsSync(path)) return path
    }
  }
  return undefined
}

/** The reason to skip, or undefined when a browser is there; throws under CI=true. */
export function browserSkipReason(): string | undefined {
  if (findChromium()) return undefined
  const why = 'no chromium on PATH (install it with "apt-get install -y chromium", or set HASHMESH_CHROMIUM)'
  if (process.env.CI === 'true') throw new Error(`console browser tests cannot run under CI: ${why}`)
  return why
}

/**
 * How scripts and tests start the hashmesh CLI as a separate process: the compiled CLI (what `npx hashmesh`
 * runs; `npm ci` builds it through `prepare`) when dist is at least as new as every source file, else the
 * sources through tsx (a checkout edited since its last build). The compiled CLI starts in ~0.3 s against
 * ~1.5 s through tsx, and the tests, the demo and the devnet start hundreds of processes.
 * HASHMESH_FROM_SOURCE=1 always uses the sources.
 */
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { NODE_FLAGS, withMallocTunable } from '../../src/cli/node-flags.js'

const REPO = fileURLToPath(new URL('../../', import.meta.url))
const SOURCE_MAIN = join(REPO, 'src', 'cli', 'main.ts')
const BUILT_MAIN = join(REPO, 'dist', 'src', 'cli', 'main.js')

/**
 * Whether to run the compiled code: dist is there and at least as new as every source file, and
 * HASHMESH_FROM_SOURCE is not 1.
 */
export function builtIsFresh(): boolean {
  if (process.env.HASHMESH_FROM_SOURCE === '1' || !existsSync(BUILT_MAIN)) return false
  const built = statSync(BUILT_MAIN).mtimeMs
  const sources = readdirSync(join(REPO, 'src'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'))
  return !sources.some((f) => statSync(join(REPO, 'src', f)).mtimeMs > built)
}

function entry(): string[] {
  return builtIsFresh() ? [...NODE_FLAGS, BUILT_MAIN] : [...NODE_FLAGS, '--import', 'tsx', SOURCE_MAIN]
}

/** Node arguments that run the CLI as the hashmesh command does (its node flags first): `spawn(process.execPath, [...CLI_ENTRY, 'start', …])`. */
export const CLI_ENTRY: readonly string[] = entry()

/** The environment to run CLI_ENTRY in, as the hashmesh command runs node: this process's, with the command's malloc setting. */
export function cliEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return withMallocTunable(env)
}

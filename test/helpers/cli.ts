import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO = fileURLToPath(new URL('../../', import.meta.url))
const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))
const BUILT_MAIN = join(REPO, 'dist', 'src', 'cli', 'main.js')

/**
 * How the CLI is started: the compiled CLI (what `npx hashmesh` runs; `npm ci` builds it) when dist is at
 * least as new as every source file, else the sources through tsx (a checkout edited since its last
 * build). The compiled CLI starts in ~0.3 s against ~1.5 s through tsx, and the CLI tests start a few
 * hundred processes. HASHMESH_TEST_FROM_SOURCE=1 always uses the sources.
 */
function cliEntry(): string[] {
  const fromSource = ['--import', 'tsx', MAIN]
  if (process.env.HASHMESH_TEST_FROM_SOURCE === '1' || !existsSync(BUILT_MAIN)) return fromSource
  const built = statSync(BUILT_MAIN).mtimeMs
  const sources = readdirSync(join(REPO, 'src'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'))
  const stale = sources.some((f) => statSync(join(REPO, 'src', f)).mtimeMs > built)
  return stale ? fromSource : [BUILT_MAIN]
}
const ENTRY = cliEntry()

export interface CliResult { code: number | null; stdout: string; stderr: string }

/** Runs the hashmesh CLI from source, as a user would (a separate process). */
export function cli(args: string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}): CliResult {
  const r = spawnSync(process.execPath, [...ENTRY, ...args], {
    cwd: REPO,
    input: options.input,
    encoding: 'utf8',
    env: { ...process.env, ...options.env },
    timeout: 120_000,
    maxBuffer: 256 * 1024 * 1024,
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

export function cliSpawn(args: string[]): ChildProcess {
  return spawn(process.execPath, [...ENTRY, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] })
}

/** Runs the CLI without blocking the test process (so several can run at once). */
export function cliAsync(args: string[], options: { env?: NodeJS.ProcessEnv; closeStdout?: boolean } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...ENTRY, ...args], { cwd: REPO, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    // A reader that goes away at once, as `| head -0` would: the CLI's first write meets EPIPE.
    if (options.closeStdout) child.stdout.destroy()
    else child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.once('error', reject)
    child.once('close', (code) => resolve({ code, stdout, stderr }))
  })
}

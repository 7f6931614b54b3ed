import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { CLI_ENTRY as ENTRY, cliEnv } from '../../scripts/lib/cli-entry.js'

export const REPO = fileURLToPath(new URL('../../', import.meta.url))

export interface CliResult { code: number | null; stdout: string; stderr: string }

/** Runs the hashmesh CLI as a user would, a separate process (compiled or from source: scripts/lib/cli-entry.ts). */
export function cli(args: string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}): CliResult {
  const r = spawnSync(process.execPath, [...ENTRY, ...args], {
    cwd: REPO,
    input: options.input,
    encoding: 'utf8',
    env: cliEnv({ ...process.env, ...options.env }),
    timeout: 120_000,
    maxBuffer: 256 * 1024 * 1024,
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

export function cliSpawn(args: string[]): ChildProcess {
  return spawn(process.execPath, [...ENTRY, ...args], { cwd: REPO, env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
}

/** Runs the CLI without blocking the test process (so several can run at once). */
export function cliAsync(args: string[], options: { env?: NodeJS.ProcessEnv; closeStdout?: boolean } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...ENTRY, ...args], { cwd: REPO, env: cliEnv({ ...process.env, ...options.env }), stdio: ['ignore', 'pipe', 'pipe'] })
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

/**
 * A node whose log reader goes away (`hashmesh start 2>&1 | head -3`) still stops: on SIGTERM, or by itself
 * when its stdout's reader is gone too. pino's own destination (sonic-boom 4) retried the failed write
 * forever in its flush at exit, and the node hung, deaf to further signals.
 */
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { CLI_ENTRY, cliEnv } from '../../scripts/lib/cli-entry.js'
import { REPO, cli } from '../helpers/cli.js'
import { tempDir } from '../helpers/tmp.js'

const dir = tempDir('hashmesh-logdest-')
after(() => dir.cleanup())

/** The child's exit code, or 'hung' when it has not exited within `ms` (it is then killed). */
function exitWithin(child: ChildProcess, ms: number): Promise<number | string | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      resolve('hung')
    }, ms)
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      resolve(code ?? signal)
    })
  })
}

function firstLine(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = ''
    stream.on('data', (d: Buffer) => {
      text += d.toString()
      if (text.includes('\n')) resolve(text.slice(0, text.indexOf('\n')))
    })
    stream.once('end', () => reject(new Error(`the stream ended before a line: ${text}`)))
  })
}

test('lines pending at exit, their pipe closed: the process exits at once, with its own code', async () => {
  // Lines are written, the first one asynchronously; the rest are still pending when process.exit runs.
  const script = `
    const { openLogDestination } = await import(${JSON.stringify(join(REPO, 'src/cli/log-destination.ts'))})
    const log = openLogDestination()
    process.once('message', () => {
      for (let i = 0; i < 50; i++) log.stream.write(JSON.stringify({ i, text: 'x'.repeat(200) }) + '\\n')
      process.exit(3)
    })
    process.send('ready')`
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] })
  await new Promise((resolve) => child.once('message', resolve))
  child.stderr!.destroy()
  await new Promise((resolve) => setTimeout(resolve, 100))
  child.send('go')
  assert.equal(await exitWithin(child, 10_000), 3)
})

test('close() writes the pending lines, then resolves', async () => {
  const script = `
    const { openLogDestination } = await import(${JSON.stringify(join(REPO, 'src/cli/log-destination.ts'))})
    const log = openLogDestination()
    for (let i = 0; i < 3; i++) log.stream.write('{"line":' + i + '}\\n')
    await log.close()
    process.stdout.write(JSON.stringify({ broken: log.broken }))`
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout!.on('data', (d) => (out += d))
  child.stderr!.on('data', (d) => (err += d))
  assert.equal(await exitWithin(child, 10_000), 0)
  assert.deepEqual(err.trim().split('\n').map((l) => JSON.parse(l)), [{ line: 0 }, { line: 1 }, { line: 2 }])
  assert.deepEqual(JSON.parse(out), { broken: false })
})

const data = join(dir.path, 'node')

test('start, its stderr\'s reader gone: the node runs on and stops on SIGTERM with exit 0', async () => {
  assert.equal(cli(['init', '--data', data, '--name', 'Piped']).code, 0)
  const child = spawn(process.execPath, [...CLI_ENTRY, 'start', '--data', data, '--api-port', '0', '--log-level', 'debug'], { cwd: REPO, env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
  const started = firstLine(child.stdout!)
  await firstLine(child.stderr!)
  child.stderr!.destroy()
  assert.match(await started, /apiUrl/)
  await new Promise((resolve) => setTimeout(resolve, 500))
  assert.equal(child.exitCode, null, 'still running')
  child.kill('SIGTERM')
  assert.equal(await exitWithin(child, 15_000), 0)
})

test('start with stdout and stderr in one pipe whose reader goes away (2>&1 | head -1): the node ends, exit 0', async () => {
  const shell = `exec "$0" "$@" 2>&1`
  const child = spawn('sh', ['-c', shell, process.execPath, ...CLI_ENTRY, 'start', '--data', data, '--api-port', '0', '--log-level', 'debug'], { cwd: REPO, env: cliEnv(), stdio: ['ignore', 'pipe', 'ignore'] })
  await firstLine(child.stdout!)
  child.stdout!.destroy()
  // The node ends by itself at its next write to stdout (cli/fail.ts: EPIPE ends a command quietly); a
  // SIGTERM a little later stops it if it has not.
  const stop = setTimeout(() => child.kill('SIGTERM'), 3_000)
  const code = await exitWithin(child, 20_000)
  clearTimeout(stop)
  assert.equal(code, 0)
})

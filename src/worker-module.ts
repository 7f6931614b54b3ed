import { Worker } from 'node:worker_threads'
import { fileURLToPath } from 'node:url'

let tsxApi: string | undefined

/**
 * Starts a worker thread running the module `<name>.js` beside `callerUrl` (compiled dist/), or
 * `<name>.ts` when running from source under tsx: workers do not inherit tsx's loader hooks on Node 20,
 * so a two-line bootstrap registers tsx in the worker first.
 */
export function startModuleWorker(callerUrl: string, name: string, workerData?: unknown): Worker {
  if (!callerUrl.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, callerUrl), { workerData })
  const workerModule = new URL(`./${name}.ts`, callerUrl).href
  // (resolved once: under tsx's hooks import.meta.resolve is a synchronous request to their thread, which the main
  // thread waits for; the PDQ build worker is started in the middle of a start-up that /status must not notice)
  tsxApi ??= import.meta.resolve('tsx/esm/api')
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(workerModule)}) })`
  return new Worker(bootstrap, { eval: true, workerData })
}

let tsxLoader: string | undefined

/**
 * The arguments for `node` that run the module `<name>.js` beside `callerUrl` in a process of its own (compiled
 * dist/), or `<name>.ts` under tsx's loader when running from source.
 */
export function moduleProcessArgs(callerUrl: string, name: string): string[] {
  if (!callerUrl.endsWith('.ts')) return [fileURLToPath(new URL(`./${name}.js`, callerUrl))]
  tsxLoader ??= import.meta.resolve('tsx')
  return ['--import', tsxLoader, fileURLToPath(new URL(`./${name}.ts`, callerUrl))]
}

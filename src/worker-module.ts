import { Worker } from 'node:worker_threads'

/**
 * Starts a worker thread running the module `<name>.js` beside `callerUrl` (compiled dist/), or
 * `<name>.ts` when running from source under tsx: workers do not inherit tsx's loader hooks on Node 20,
 * so a two-line bootstrap registers tsx in the worker first.
 */
export function startModuleWorker(callerUrl: string, name: string): Worker {
  if (!callerUrl.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, callerUrl))
  const workerModule = new URL(`./${name}.ts`, callerUrl).href
  const tsxApi = import.meta.resolve('tsx/esm/api')
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(workerModule)}) })`
  return new Worker(bootstrap, { eval: true })
}

#!/usr/bin/env node
/**
 * Builds the web console (ui/src, preact + uPlot) into dist/ui with esbuild: app.js (one ES module,
 * every library bundled from node_modules: nothing from a CDN, works offline), app.css, index.html
 * marker. Run by `npm run build` and at `npm ci` (the prepare script); tests call buildConsole().
 * Plain JavaScript so that it runs before anything is compiled.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
export const CONSOLE_OUT = join(ROOT, 'dist', 'ui')

export async function buildConsole({ minify = true, quiet = false } = {}) {
  const esbuild = await import('esbuild')
  mkdirSync(CONSOLE_OUT, { recursive: true })
  const started = Date.now()
  const result = await esbuild.build({
    entryPoints: { app: join(ROOT, 'ui', 'src', 'main.tsx') },
    bundle: true,
    format: 'esm',
    target: ['chrome110', 'firefox115', 'safari16'],
    outdir: CONSOLE_OUT,
    minify,
    sourcemap: true,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'linked',
    logLevel: 'warning',
    metafile: true,
  })
  // The server serves the page shell itself; this file only says the bundle is complete.
  writeFileSync(join(CONSOLE_OUT, 'index.html'), '<!doctype html><title>hashmesh console</title><p>Open /ui on the node.</p>\n')
  const sizes = Object.entries(result.metafile.outputs).filter(([f]) => !f.endsWith('.map')).map(([f, o]) => `${f.split('/').pop()} ${(o.bytes / 1024).toFixed(1)} KB`)
  if (!quiet) console.log(`console built in ${Date.now() - started} ms: ${sizes.join(', ')}`)
  return result
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  buildConsole().catch((err) => {
    console.error(err)
    process.exit(1)
  })
}

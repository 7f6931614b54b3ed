/**
 * The import graph of src/: which folder imports which, and the rules that keep data flowing one way.
 *
 *   npm run check:imports          (or: npx tsx scripts/import-graph.ts [--root DIR])
 *
 * Prints a matrix of imports between folders (rows import columns, in layer order: a count right of the
 * diagonal block is an arrow running back up), the packages each folder imports, and every violation; exits
 * 1 when there is one:
 *   - a folder imports a folder of a higher layer (LAYERS, bottom first);
 *   - files import each other in a circle (type-only imports count: they tie the files' shapes together);
 *   - a package is imported outside its one door (PACKAGE_DOORS);
 *   - an edge (api/, cli/) reaches past node/ into a part the node composes (net/, store/): the node is
 *     the one composition root, so a gossiped record walks net -> node -> store with no stop in api/;
 *   - a folder is in no layer (a new folder must be placed).
 *
 * Imports are read from the text, without a TypeScript parser: `import … from '…'` and `export … from '…'`
 * statements (over several lines too), bare `import '…'`, and `import('…')` with a literal. Relative
 * specifiers resolve as NodeNext does (`./x.js` is `./x.ts`). The checking is the pure `analyzeImports`,
 * which test/architecture/import-graph.test.ts runs on small synthetic graphs.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { posix, relative, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'

/** Folders of src/ from the bottom up; a folder may import its own layer and those below. */
export const LAYERS: readonly (readonly string[])[] = [
  ['(root)'], // errors.ts, constants.ts, protocol-ids.ts, config.ts, shim.ts, worker-module.ts
  ['hash'],
  ['record'],
  ['store', 'match', 'bank', 'lists'],
  ['sync', 'exchange'],
  ['net'],
  ['node'],
  ['api', 'cli'],
]

/** The parts node/ composes and owns (start, stop, access); the edges above it go through the node. */
export const COMPOSED_BY_NODE = { parts: ['net', 'store'], edges: ['api', 'cli'] } as const

export interface PackageDoor {
  name: string
  matches(pkg: string): boolean
  /** Path prefixes (a folder ending in '/', or one file) allowed to import it. */
  allowed: readonly string[]
}

/** Each heavy dependency has one door. */
export const PACKAGE_DOORS: readonly PackageDoor[] = [
  { name: 'dag-cbor', matches: (p) => p === '@ipld/dag-cbor' || p === 'cborg', allowed: ['src/record/', 'src/sync/'] },
  { name: 'libp2p', matches: (p) => p === 'libp2p' || /^@(libp2p|chainsafe|multiformats)\//.test(p), allowed: ['src/net/'] },
  { name: 'fastify', matches: (p) => p === 'fastify' || p.startsWith('@fastify/'), allowed: ['src/api/'] },
  { name: 'level', matches: (p) => p === 'level', allowed: ['src/store/'] },
  { name: 'sharp', matches: (p) => p === 'sharp', allowed: ['src/hash/decode.ts'] },
]

export interface SourceFile {
  /** Relative to the repository, with '/' separators: 'src/net/index.ts'. */
  path: string
  source: string
}

export interface ImportStatement {
  specifier: string
  typeOnly: boolean
  line: number
}

export interface Edge {
  from: string
  to: string
  typeOnly: boolean
  line: number
}

export interface Violation {
  kind: 'upward' | 'cycle' | 'package' | 'reach-past' | 'unplaced'
  message: string
}

export interface ImportReport {
  files: string[]
  /** Imports between files of src/ (resolved). */
  edges: Edge[]
  /** importer folder -> imported folder -> import statements. */
  folders: Map<string, Map<string, number>>
  /** importer folder -> package -> import statements. */
  packages: Map<string, Map<string, number>>
  violations: Violation[]
}

// ---------------------------------------------------------------- reading imports

/** `import|export [type] <names> from '<specifier>'`; the names hold no keyword, so a match never swallows the next statement. */
const STATIC_IMPORT = /^[ \t]*(import|export)[ \t]+(type[ \t]+)?((?:(?!\b(?:import|export|from)\b)[\w$*{},\s]|\/\/[^\n]*)*?)\s*from[ \t]*['"]([^'"\n]+)['"]/gm
const BARE_IMPORT = /^[ \t]*import[ \t]*['"]([^'"\n]+)['"]/gm
const DYNAMIC_IMPORT = /\bimport\([ \t]*['"]([^'"\n]+)['"][ \t]*\)/g

function lineOf(source: string, index: number): number {
  let line = 1
  for (let i = source.indexOf('\n'); i !== -1 && i < index; i = source.indexOf('\n', i + 1)) line++
  return line
}

/** The module specifiers a TypeScript source imports or re-exports, in order of appearance. */
export function readImports(source: string): ImportStatement[] {
  const found: (ImportStatement & { index: number })[] = []
  for (const m of source.matchAll(STATIC_IMPORT)) {
    // `import { type A, type B } from` is type-only too; `import { type A, B }` is not.
    const names = m[3]!.replace(/[{}\s]+/g, ' ').trim()
    const allTypes = names !== '' && names.split(',').every((n) => /^type\s/.test(n.trim()))
    found.push({ specifier: m[4]!, typeOnly: m[2] !== undefined || (names.startsWith('type ') && allTypes), line: 0, index: m.index })
  }
  for (const m of source.matchAll(BARE_IMPORT)) found.push({ specifier: m[1]!, typeOnly: false, line: 0, index: m.index })
  for (const m of source.matchAll(DYNAMIC_IMPORT)) {
    const lineStart = source.lastIndexOf('\n', m.index) + 1
    const before = source.slice(lineStart, m.index).trimStart()
    if (before.startsWith('//') || before.startsWith('*')) continue // in a comment
    found.push({ specifier: m[1]!, typeOnly: false, line: 0, index: m.index })
  }
  return found.sort((a, b) => a.index - b.index).map(({ index, ...s }) => ({ ...s, line: lineOf(source, index) }))
}

/** '@scope/name/sub' -> '@scope/name', 'name/sub' -> 'name'; undefined for relative and node: specifiers. */
export function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:')) return undefined
  const parts = specifier.split('/')
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]
}

/** The file a relative specifier names, among `known` files; NodeNext writes `./x.js` for `./x.ts`. */
export function resolveRelative(fromFile: string, specifier: string, known: ReadonlySet<string>): string | undefined {
  const target = posix.normalize(posix.join(posix.dirname(fromFile), specifier))
  const candidates = [target, target.replace(/\.js$/, '.ts'), target.replace(/\.mjs$/, '.mts'), `${target}.ts`, `${target}/index.ts`]
  return candidates.find((c) => known.has(c))
}

/** 'src/net/index.ts' -> 'net'; 'src/errors.ts' -> '(root)'. */
export function folderOf(path: string): string {
  const parts = path.split('/')
  return parts.length > 2 ? parts[1]! : '(root)'
}

function layerOf(folder: string): number | undefined {
  const i = LAYERS.findIndex((layer) => layer.includes(folder))
  return i === -1 ? undefined : i
}

// ---------------------------------------------------------------- checking

function bump(map: Map<string, Map<string, number>>, a: string, b: string): void {
  const row = map.get(a) ?? new Map<string, number>()
  row.set(b, (row.get(b) ?? 0) + 1)
  map.set(a, row)
}

/** Strongly connected components of more than one file (or a file importing itself): Tarjan's algorithm. */
function cycles(files: readonly string[], edges: readonly Edge[]): string[][] {
  const next = new Map<string, string[]>(files.map((f) => [f, []]))
  for (const e of edges) next.get(e.from)?.push(e.to)
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const found: string[][] = []
  let counter = 0
  const visit = (v: string): void => {
    index.set(v, counter)
    low.set(v, counter++)
    stack.push(v)
    onStack.add(v)
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!))
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = []
      let w: string
      do {
        w = stack.pop()!
        onStack.delete(w)
        component.push(w)
      } while (w !== v)
      if (component.length > 1 || (next.get(v) ?? []).includes(v)) found.push(component.sort())
    }
  }
  for (const f of files) if (!index.has(f)) visit(f)
  return found
}

/** Every rule above, on the given files; pure (no file system). */
export function analyzeImports(sources: readonly SourceFile[]): ImportReport {
  const files = sources.map((s) => s.path).sort()
  const known = new Set(files)
  const edges: Edge[] = []
  const folders = new Map<string, Map<string, number>>()
  const packages = new Map<string, Map<string, number>>()
  const violations: Violation[] = []

  for (const folder of new Set(files.map(folderOf))) {
    if (layerOf(folder) === undefined) violations.push({ kind: 'unplaced', message: `folder ${folder}/ is in no layer: add it to LAYERS in scripts/import-graph.ts` })
  }
  for (const { path, source } of [...sources].sort((a, b) => a.path.localeCompare(b.path))) {
    const folder = folderOf(path)
    for (const imp of readImports(source)) {
      const pkg = packageOf(imp.specifier)
      if (pkg !== undefined) {
        bump(packages, folder, pkg)
        for (const door of PACKAGE_DOORS) {
          if (door.matches(pkg) && !door.allowed.some((prefix) => path === prefix || (prefix.endsWith('/') && path.startsWith(prefix)))) {
            violations.push({ kind: 'package', message: `${path}:${imp.line} imports ${imp.specifier}: ${door.name} belongs to ${door.allowed.join(', ')} only` })
          }
        }
        continue
      }
      if (imp.specifier.startsWith('node:')) continue
      const target = resolveRelative(path, imp.specifier, known)
      if (target === undefined) continue // outside src/ (package.json, a test helper): not part of the graph
      edges.push({ from: path, to: target, typeOnly: imp.typeOnly, line: imp.line })
      const targetFolder = folderOf(target)
      if (targetFolder === folder) continue
      bump(folders, folder, targetFolder)
      const [mine, theirs] = [layerOf(folder), layerOf(targetFolder)]
      if (mine !== undefined && theirs !== undefined && theirs > mine) {
        violations.push({ kind: 'upward', message: `${path}:${imp.line} imports ${target}: ${folder}/ is below ${targetFolder}/` })
      }
      if ((COMPOSED_BY_NODE.edges as readonly string[]).includes(folder) && (COMPOSED_BY_NODE.parts as readonly string[]).includes(targetFolder)) {
        const how = imp.typeOnly ? ' (types only)' : ''
        violations.push({ kind: 'reach-past', message: `${path}:${imp.line} imports ${target}${how}: ${folder}/ must reach ${targetFolder}/ through node/` })
      }
    }
  }
  for (const component of cycles(files, edges)) {
    const inside = new Set(component)
    const circle = edges.filter((e) => inside.has(e.from) && inside.has(e.to))
    const typeOnly = circle.every((e) => e.typeOnly) ? ' (type-only imports)' : ''
    const links = circle.map((e) => `${e.from}:${e.line} -> ${e.to}${e.typeOnly ? ' (type)' : ''}`).join('; ')
    violations.push({ kind: 'cycle', message: `circle of ${component.length} files${typeOnly}: ${links}` })
  }
  return { files, edges, folders, packages, violations }
}

// ---------------------------------------------------------------- printing

export function formatReport(report: ImportReport): string {
  const order = [...LAYERS.flat(), ...[...new Set(report.files.map(folderOf))].filter((f) => layerOf(f) === undefined).sort()]
  const present = order.filter((f) => report.files.some((file) => folderOf(file) === f))
  const width = Math.max(...present.map((f) => f.length)) + 1
  const cell = (s: string | number): string => String(s).padStart(Math.max(7, width))
  const lines: string[] = []
  lines.push(`layers, bottom first: ${LAYERS.map((l) => l.join('/')).join(' -> ')}`)
  lines.push(`${report.files.length} files, ${report.edges.length} imports between them`)
  lines.push('')
  lines.push('imports between folders (row imports column; a count right of its own layer runs upward):')
  lines.push(`${''.padEnd(width)}${present.map(cell).join('')}`)
  for (const row of present) {
    const counts = report.folders.get(row)
    lines.push(`${row.padEnd(width)}${present.map((col) => cell(col === row ? '.' : (counts?.get(col) ?? ''))).join('')}`)
  }
  lines.push('')
  lines.push('packages by folder:')
  for (const folder of present) {
    const pkgs = [...(report.packages.get(folder) ?? new Map<string, number>())].sort(([a], [b]) => a.localeCompare(b))
    if (pkgs.length > 0) lines.push(`  ${folder.padEnd(width)}${pkgs.map(([p, n]) => `${p} ${n}`).join(', ')}`)
  }
  lines.push('')
  if (report.violations.length === 0) {
    lines.push('no violations')
  } else {
    lines.push(`${report.violations.length} violations:`)
    for (const v of report.violations) lines.push(`  [${v.kind}] ${v.message}`)
  }
  return lines.join('\n')
}

// ---------------------------------------------------------------- the script

/** Every .ts file under `root`/src (declaration files declare, they import nothing at run time). */
export function readSources(root: string): SourceFile[] {
  const src = resolve(root, 'src')
  return readdirSync(src, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => ({ path: relative(root, resolve(src, f)).split(/[\\/]/).join('/'), source: readFileSync(resolve(src, f), 'utf8') }))
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const { values } = parseArgs({ options: { root: { type: 'string', default: resolve(fileURLToPath(import.meta.url), '../..') } } })
  const report = analyzeImports(readSources(values.root!))
  console.log(formatReport(report))
  process.exitCode = report.violations.length > 0 ? 1 : 0
}

/**
 * The import-graph checker (scripts/import-graph.ts) on small synthetic graphs: each rule reports what
 * breaks it and nothing else; and the repository itself follows every rule.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { analyzeImports, formatReport, readImports, readSources, type SourceFile, type Violation } from '../../scripts/import-graph.js'

const kinds = (violations: Violation[]): string[] => violations.map((v) => v.kind).sort()

/** A small graph that follows every rule: root <- record <- store <- sync <- net <- node <- api. */
const clean: SourceFile[] = [
  { path: 'src/errors.ts', source: 'export class HashmeshError extends Error {}\n' },
  { path: 'src/constants.ts', source: 'export const LIMIT = 1\n' },
  { path: 'src/record/codec.ts', source: "import * as dagCbor from '@ipld/dag-cbor'\nimport { LIMIT } from '../constants.js'\nimport { fail } from '../errors.js'\n" },
  { path: 'src/store/replica-store.ts', source: "import { Level } from 'level'\nimport type { Rec } from '../record/codec.js'\n" },
  { path: 'src/sync/wire.ts', source: "import { decode } from 'cborg'\nimport { LIMIT } from '../constants.js'\n" },
  { path: 'src/net/index.ts', source: "import { createLibp2p } from 'libp2p'\nimport { tcp } from '@libp2p/tcp'\nimport { encode } from '../sync/wire.js'\n" },
  { path: 'src/node/node.ts', source: "import { createNetwork } from '../net/index.js'\nimport { ReplicaStore } from '../store/replica-store.js'\n" },
  { path: 'src/hash/decode.ts', source: "import sharp from 'sharp'\n" },
  { path: 'src/api/app.ts', source: "import Fastify from 'fastify'\nimport { HashmeshNode } from '../node/node.js'\n" },
]

test('a graph that follows every rule has no violations, and its folders are counted', () => {
  const report = analyzeImports(clean)
  assert.deepEqual(report.violations, [])
  assert.equal(report.folders.get('node')?.get('net'), 1)
  assert.equal(report.folders.get('record')?.get('(root)'), 2)
  assert.equal(report.packages.get('net')?.get('@libp2p/tcp'), 1)
  assert.match(formatReport(report), /no violations/)
})

test('an import circle between files is reported, with each of its links', () => {
  const report = analyzeImports([
    ...clean,
    { path: 'src/node/a.ts', source: "import { b } from './b.js'\n" },
    { path: 'src/node/b.ts', source: "import type { C } from './c.js'\n" },
    { path: 'src/node/c.ts', source: "export { a } from './a.js'\n" },
  ])
  assert.deepEqual(kinds(report.violations), ['cycle'])
  const message = report.violations[0]!.message
  for (const link of ['src/node/a.ts:1 -> src/node/b.ts', 'src/node/b.ts:1 -> src/node/c.ts (type)', 'src/node/c.ts:1 -> src/node/a.ts']) {
    assert.ok(message.includes(link), `${message} names ${link}`)
  }
})

test('a circle of type-only imports is a circle too, and says so', () => {
  const report = analyzeImports([
    ...clean,
    { path: 'src/cli/node-client.ts', source: "import type { RemoteClient } from './remote-client.js'\n" },
    { path: 'src/cli/remote-client.ts', source: "import type { NodeClient } from './node-client.js'\n" },
  ])
  assert.deepEqual(kinds(report.violations), ['cycle'])
  assert.match(report.violations[0]!.message, /type-only/)
})

test('a folder importing a folder above it is reported with file and line', () => {
  const report = analyzeImports([
    ...clean,
    { path: 'src/record/roster.ts', source: "import { fail } from '../errors.js'\n\nimport { createNetwork } from '../net/index.js'\n" },
  ])
  assert.deepEqual(kinds(report.violations), ['upward'])
  assert.match(report.violations[0]!.message, /^src\/record\/roster\.ts:3 imports src\/net\/index\.ts: record\/ is below net\//)
})

test('store and match share a layer, as api and cli do: importing across is not upward', () => {
  const report = analyzeImports([
    ...clean,
    { path: 'src/match/matcher.ts', source: "import type { ReplicaStore } from '../store/replica-store.js'\n" },
    { path: 'src/store/views.ts', source: "import { MAX } from '../match/matcher.js'\n" },
  ])
  assert.deepEqual(report.violations, [])
})

test('a libp2p package outside net/ is reported, for every libp2p scope', () => {
  const report = analyzeImports([
    ...clean,
    {
      path: 'src/node/dial.ts',
      source: [
        "import type { PeerId } from '@libp2p/interface'",
        "import { multiaddr } from '@multiformats/multiaddr'",
        "import { noise } from '@chainsafe/libp2p-noise'",
        "import { createLibp2p } from 'libp2p'",
      ].join('\n'),
    },
  ])
  assert.deepEqual(kinds(report.violations), ['package', 'package', 'package', 'package'])
  assert.match(report.violations[0]!.message, /^src\/node\/dial\.ts:1 imports @libp2p\/interface: libp2p belongs to src\/net\/ only/)
})

test('dag-cbor, fastify, level and sharp outside their doors are reported', () => {
  const report = analyzeImports([
    ...clean,
    { path: 'src/store/codec.ts', source: "import * as dagCbor from '@ipld/dag-cbor'\nimport { Tokenizer } from 'cborg'\n" },
    { path: 'src/node/http.ts', source: "import swagger from '@fastify/swagger'\n" },
    { path: 'src/match/persist.ts', source: "import { Level } from 'level'\n" },
    { path: 'src/hash/pdq.ts', source: "import sharp from 'sharp'\n" },
  ])
  assert.deepEqual(kinds(report.violations), ['package', 'package', 'package', 'package', 'package'])
  const text = report.violations.map((v) => v.message).join('\n')
  for (const door of ['dag-cbor belongs to src/record/, src/sync/', 'fastify belongs to src/api/', 'level belongs to src/store/', 'sharp belongs to src/hash/decode.ts']) {
    assert.ok(text.includes(door), door)
  }
})

test('api/ and cli/ reaching past node/ into net/ or store/ are reported', () => {
  const report = analyzeImports([
    ...clean,
    { path: 'src/api/run-node.ts', source: "import { createNetwork } from '../net/index.js'\n" },
    { path: 'src/cli/status.ts', source: "import type { ReplicaStore } from '../store/replica-store.js'\n" },
  ])
  assert.deepEqual(kinds(report.violations), ['reach-past', 'reach-past'])
  assert.match(report.violations[1]!.message, /\(types only\): cli\/ must reach store\/ through node\//)
})

test('a folder in no layer is reported', () => {
  const report = analyzeImports([...clean, { path: 'src/banks/bank.ts', source: "import { fail } from '../errors.js'\n" }])
  assert.deepEqual(kinds(report.violations), ['unplaced'])
})

test('imports are read from every statement form, and only from statements', () => {
  const source = [
    '/**',
    " * import { notReal } from './in-a-comment.js'  (a doc comment line starts with *)",
    ' */',
    "import '../shim.js'",
    "import x, { y as z } from './one.js'",
    'import {',
    '  a,',
    '  type B,',
    "} from './multi-line.js'",
    "import type { C } from './types.js'",
    "import { type D, type E } from './only-types.js'",
    "export { f } from './re-export.js'",
    "export * from './star.js'",
    "export type { G } from './type-export.js'",
    'export { h, i }',
    "import { j } from './after-local-export.js'",
    'const sharp = await import(\'sharp\')',
    "// const old = await import('./commented-out.js')",
    'const text = `import(${name})`',
  ].join('\n')
  assert.deepEqual(
    readImports(source).map((i) => [i.specifier, i.typeOnly, i.line]),
    [
      ['../shim.js', false, 4],
      ['./one.js', false, 5],
      ['./multi-line.js', false, 6],
      ['./types.js', true, 10],
      ['./only-types.js', true, 11],
      ['./re-export.js', false, 12],
      ['./star.js', false, 13],
      ['./type-export.js', true, 14],
      ['./after-local-export.js', false, 16],
      ['sharp', false, 17],
    ],
  )
})

test('the repository follows every rule: one-way layers, no circles, each heavy dependency behind its one door', () => {
  const report = analyzeImports(readSources(fileURLToPath(new URL('../..', import.meta.url))))
  assert.deepEqual(report.violations.map((v) => v.message), [])
})

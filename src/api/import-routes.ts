/**
 * POST /v1/import: a hash list streamed in the request body, through the one import path
 * (node/list-import.ts) that `hashmesh import --format` uses on a stopped node. The body is read as a
 * stream (never held whole: the route takes it before fastify's body parser), so it has no body limit;
 * the list readers bound each line instead.
 *
 *   curl -X POST -H 'authorization: Bearer …' -H 'content-type: application/octet-stream' \
 *     --data-binary @list.csv 'http://127.0.0.1:7420/v1/import?format=csv&bank=MY_BANK&map=hash%3Dpdq_hash'
 *
 * Query: format (sniffed when absent), bank=NAME or contribute=true, dryRun, map, type, unknownLabels,
 * key (a checkpoint key, 16..64 hex: a retried upload of the same file goes on where it stopped), restart.
 * Answer: the summary, and the rejected lines (the first MAX_REPORTED; `rejectionsLeftOut` counts the rest).
 */
import { PassThrough, Readable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { Type, type Static } from '@sinclair/typebox'
import { loadTaxonomy } from '../config.js'
import { fail, HashmeshError } from '../errors.js'
import { isBankSignalType } from '../bank/types.js'
import { checkListFormat, readImportBatches, type ColumnMap, type ListRejection, type ListSignalType, type UnknownLabelMode } from '../lists/index.js'
import { importList } from '../node/list-import.js'
import type { NodeService } from '../node/service.js'

export const MAX_REPORTED = 10_000

const ImportQuery = Type.Object({
  format: Type.Optional(Type.String()),
  bank: Type.Optional(Type.String()),
  contribute: Type.Optional(Type.Boolean()),
  dryRun: Type.Optional(Type.Boolean()),
  map: Type.Optional(Type.String()),
  type: Type.Optional(Type.String()),
  unknownLabels: Type.Optional(Type.Union([Type.Literal('error'), Type.Literal('drop'), Type.Literal('keep')])),
  key: Type.Optional(Type.String({ pattern: '^[0-9a-f]{16,64}$' })),
  restart: Type.Optional(Type.Boolean()),
}, { additionalProperties: false })

function columnMap(spec: string): ColumnMap {
  const map: ColumnMap = {}
  for (const part of spec.split(',')) {
    const [field, column] = part.split('=').map((s) => s.trim())
    if (!field || !column) fail('BAD_REQUEST', `map takes field=column pairs, got "${part}"`)
    if (field === 'label' || field === 'labels') map.label = [...(map.label ?? []), column]
    else if (field === 'hash' || field === 'type' || field === 'quality' || field === 'note') map[field] = column
    else fail('BAD_REQUEST', `map: unknown field "${field}" (hash, type, label, quality, note)`)
  }
  return map
}

const ImportResponse = Type.Object({
  lines: Type.Integer({ description: 'last line read' }),
  accepted: Type.Integer({ description: 'signals added (or, with dryRun, that would be)' }),
  rejected: Type.Integer(),
  byCode: Type.Record(Type.String(), Type.Integer(), { description: 'rejected lines by code' }),
  written: Type.Integer({ description: 'bank content items added, or records signed' }),
  resumedAfterLine: Type.Integer({ description: 'lines a checkpoint (key) said were done' }),
  revocations: Type.Integer({ description: 'signed revocations read (a hashmesh jsonl export into a bank)' }),
  removed: Type.Integer({ description: 'bank content items those revocations removed' }),
  dryRun: Type.Boolean(),
  rejections: Type.Array(Type.Object({ line: Type.Integer(), code: Type.String(), message: Type.String() })),
  rejectionsLeftOut: Type.Integer({ description: `rejections past the first ${MAX_REPORTED}` }),
}, {
  examples: [{
    lines: 4, accepted: 2, rejected: 1, byCode: { BAD_HEX: 1 }, written: 2, resumedAfterLine: 0, revocations: 0, removed: 0, dryRun: false,
    rejections: [{ line: 3, code: 'BAD_HEX', message: 'pdq value is not hex: nothex' }], rejectionsLeftOut: 0,
  }],
})

export const IMPORT_ROUTE_DOCS = {
  'POST /v1/import': {
    summary: 'Import a hash list (CSV, TSV, MISP, STIX, HMA, python-threatexchange, …) into a bank or as contributions',
    description: 'The body is the list as `application/octet-stream` (gzip is read), streamed. Query: `format` (sniffed when absent; a body in another format is refused naming the one it looks like), `bank=NAME` or `contribute=true`, `dryRun`, `map=hash=COL,type=COL,label=COL`, `type` for lines that name none, `unknownLabels=error|drop|keep`, `key` (16..64 hex) to resume an interrupted upload of the same file, `restart`.',
    body: { 'application/octet-stream': { type: 'string', format: 'binary', description: 'the list' } },
    ok: { 200: { description: 'counts and the rejected lines with their line numbers and codes', schema: ImportResponse } },
    errors: [400, 401, 404],
  },
}

const BODY = Symbol('hashmesh.importBody')

export function importRoutes(app: FastifyInstance, service: NodeService): void {
  app.post('/v1/import', {
    schema: { querystring: ImportQuery },
    // Take the body stream before any parser reads it; the parser is handed an empty one.
    preParsing: async (request, _reply, payload) => {
      ;(request as unknown as Record<symbol, Readable>)[BODY] = payload as Readable
      delete request.headers['content-length'] // the parser's length check is for the body it reads: none
      return new PassThrough().end() as unknown as typeof payload
    },
  }, async (request, reply) => {
    const query = request.query as Static<typeof ImportQuery>
    // A client that goes away stops the import after the batch under way (its checkpoint is kept).
    const gone = new AbortController()
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) gone.abort(new HashmeshError('BAD_REQUEST', 'the client closed the connection'))
    })
    const body = (request as unknown as Record<symbol, Readable>)[BODY]
    if (!body) fail('BAD_REQUEST', 'no request body')
    if (query.bank && query.contribute) fail('BAD_REQUEST', 'give bank or contribute, not both')
    if (!query.bank && !query.contribute && !query.dryRun) fail('BAD_REQUEST', 'give bank=NAME or contribute=true (or dryRun=true)')
    if (query.type !== undefined && !isBankSignalType(query.type)) fail('BAD_REQUEST', `type must be pdq, md5, video_md5, sha256 or vpdq, got "${query.type}"`)
    const rejections: ListRejection[] = []
    let leftOut = 0
    const items = readImportBatches(body, {
      format: query.format === undefined ? undefined : checkListFormat(query.format),
      map: query.map ? columnMap(query.map) : undefined,
      signalType: query.type as ListSignalType | undefined,
      unknownLabels: (query.unknownLabels ?? 'error') as UnknownLabelMode,
      taxonomy: loadTaxonomy(),
      name: 'the request body',
      signal: gone.signal,
    })
    const summary = await importList(service.node, items, {
      into: query.bank ? { bank: query.bank } : { contribute: true },
      dryRun: query.dryRun, checkpointKey: query.key, restart: query.restart, signal: gone.signal,
      onRejected: (r) => (rejections.length < MAX_REPORTED ? rejections.push(r) : leftOut++),
    })
    return { ...summary, rejections: rejections.map(({ line, code, message }) => ({ line, code, message })), rejectionsLeftOut: leftOut }
  })
}

/** API test helpers: a real node (LevelDB in a temp dir, matching on) behind buildApp, driven with app.inject. */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import { buildApp } from '../../src/api/server.js'
import { initDataDir } from '../../src/node/identity.js'
import { HashmeshNode } from '../../src/node/node.js'
import { FIXTURES_DIR, REPO_ROOT } from '../hash/images.js'
import { tempDir } from './tmp.js'

export const API_FIXTURES_DIR = join(REPO_ROOT, 'test', 'fixtures', 'api')
/** Small limits so the 413 paths are cheap to reach. */
export const TEST_LIMITS = { bodyLimitBytes: 512 * 1024, jsonBodyLimitBytes: 192 * 1024 } as const

export function pdqFixture(name: string): Buffer {
  return readFileSync(join(FIXTURES_DIR, name))
}

export function apiFixture(name: string): Buffer {
  return readFileSync(join(API_FIXTURES_DIR, name))
}

/** The fixture's hash and quality from Meta's reference hasher (test/fixtures/pdq/expected.tsv). */
export function expectedPdq(name: string): { hash: string; quality: number } {
  const line = readFileSync(join(FIXTURES_DIR, 'expected.tsv'), 'utf8').split('\n').find((l) => l.startsWith(name + '\t'))
  if (!line) throw new Error(`no expected hash for ${name}`)
  const [, hash, quality] = line.split('\t')
  return { hash: hash!, quality: Number(quality) }
}

export interface ApiHarness {
  app: FastifyInstance
  node: HashmeshNode
  token: string
  dataDir: string
  /** app.inject with the bearer token unless `headers.authorization` is given. */
  call(options: InjectOptions): Promise<LightMyRequestResponse>
  close(): Promise<void>
}

export async function openApiHarness(name = 'api-test-member'): Promise<ApiHarness> {
  const dir = tempDir('hashmesh-api-')
  const identity = await initDataDir(dir.path, { name })
  const node = await HashmeshNode.open(dir.path, { env: {} })
  await node.enableMatching()
  const app = await buildApp(node, { token: identity.apiToken, ...TEST_LIMITS })
  await app.ready()
  return {
    app,
    node,
    token: identity.apiToken,
    dataDir: dir.path,
    call: (options) => app.inject({ ...options, headers: { authorization: `Bearer ${identity.apiToken}`, ...(options.headers ?? {}) } }),
    close: async () => {
      await app.close()
      await node.close()
      dir.cleanup()
    },
  }
}

/** Flips the first `n` bits of a 64-hex PDQ hash: the result is exactly `n` bits away. */
export function flipBits(hex: string, n: number): string {
  const bytes = Buffer.from(hex, 'hex')
  for (let bit = 0; bit < n; bit++) bytes[bit >> 3]! ^= 1 << (bit & 7)
  return bytes.toString('hex')
}

/** The error body every 4xx/5xx carries. */
export function errorCode(res: LightMyRequestResponse): string | undefined {
  try {
    return (res.json() as { error?: { code?: string } }).error?.code
  } catch {
    return undefined
  }
}

/**
 * Exchange API credentials (TCAP username/password, ThreatExchange access token), per API as HMA keeps
 * them, in DIR/exchange-credentials.json with mode 0600, written atomically (temp file + rename). They are
 * read when a fetch starts and never returned by the API, put in a status or logged: HMA's answer is only
 * whether they are set.
 */
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fail } from '../errors.js'
import type { ExchangeApi } from './types.js'

export const CREDENTIALS_FILE = 'exchange-credentials.json'

type CredentialsFile = Partial<Record<ExchangeApi, Record<string, string>>>

export class ExchangeCredentials {
  private readonly path: string
  constructor(dataDir: string) {
    this.path = join(dataDir, CREDENTIALS_FILE)
  }

  private read(): CredentialsFile {
    if (!existsSync(this.path)) return {}
    try {
      return JSON.parse(readFileSync(this.path, 'utf8')) as CredentialsFile
    } catch (cause) {
      fail('CONFIG_INVALID', `${CREDENTIALS_FILE} is not JSON: set the credentials again`, { cause })
    }
  }

  get(api: ExchangeApi): Record<string, string> | null {
    return this.read()[api] ?? null
  }

  has(api: ExchangeApi): boolean {
    return this.get(api) !== null
  }

  /** Sets (or with null clears) one API's credentials: exactly `fields`, each a non-empty string. */
  set(api: ExchangeApi, fields: readonly string[], value: Record<string, unknown> | null): void {
    const all = this.read()
    if (value === null) delete all[api]
    else {
      const unknown = Object.keys(value).filter((k) => !fields.includes(k))
      if (unknown.length > 0) fail('BAD_REQUEST', `unexpected credential fields for ${api}: ${unknown.sort().join(', ')} (expected ${fields.join(', ')})`)
      const missing = fields.filter((f) => typeof value[f] !== 'string' || (value[f] as string).length === 0)
      if (missing.length > 0) fail('BAD_REQUEST', `credential_json for ${api} needs ${missing.join(', ')} (strings)`)
      all[api] = Object.fromEntries(fields.map((f) => [f, value[f] as string]))
    }
    const temp = `${this.path}.${process.pid}.tmp`
    writeFileSync(temp, JSON.stringify(all, null, 2) + '\n', { mode: 0o600 })
    chmodSync(temp, 0o600) // an existing temp file keeps its mode on write
    renameSync(temp, this.path)
  }
}

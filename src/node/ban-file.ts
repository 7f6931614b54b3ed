/**
 * Bans that outlive a restart: DATA_DIR/bans.json, the network's BanStore. Written whole on every new ban
 * (a temp file with mode 0600, then a rename, so a crash leaves the old file or the new one, never half),
 * read once at start. Bans are rare (a member must send MAX_INVALID_PER_PEER invalid items), so a
 * synchronous write each time costs nothing worth a queue.
 */
import { chmodSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fail } from '../errors.js'
import type { BanEntry, BanStore } from '../net/index.js'
import { isPeerId } from '../net/keys.js'

export const BANS_FILE = 'bans.json'
/** Format of the file; a file of another version is refused rather than guessed at. */
export const BANS_FILE_VERSION = 1
/** Largest file read: 10,000 bans of ~150 bytes. A larger one is not ours. */
export const MAX_BANS_FILE_BYTES = 2 * 1024 * 1024
/** Bans kept in the file at most (the network tracks at most this many peers). */
export const MAX_STORED_BANS = 10_000
/** Longest reason kept (ours are a few words). */
const MAX_REASON_LENGTH = 200

interface BansFile {
  version: number
  bans: BanEntry[]
}

export function banFile(dataDir: string): BanStore {
  const path = join(resolve(dataDir), BANS_FILE)
  return {
    load: () => readBans(path),
    save(entries) {
      const file: BansFile = { version: BANS_FILE_VERSION, bans: entries.slice(0, MAX_STORED_BANS).map(clean) }
      const temp = `${path}.${process.pid}.tmp`
      try {
        writeFileSync(temp, JSON.stringify(file, null, 1) + '\n', { mode: 0o600 })
        chmodSync(temp, 0o600) // the mode applies only when the file is created; a stale temp keeps its own
        renameSync(temp, path)
      } catch (err) {
        rmSync(temp, { force: true })
        throw err
      }
    },
  }
}

/** The saved bans; none when there is no file yet. Throws CONFIG_INVALID for a file that is not ours. */
function readBans(path: string): BanEntry[] {
  let size: number
  try {
    size = statSync(path).size
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
  if (size > MAX_BANS_FILE_BYTES) fail('CONFIG_INVALID', `${path} is ${size} bytes, over ${MAX_BANS_FILE_BYTES}`)
  let file: BansFile
  try {
    file = JSON.parse(readFileSync(path, 'utf8')) as BansFile
  } catch (cause) {
    fail('CONFIG_INVALID', `${path} is not valid JSON`, { cause })
  }
  if (file?.version !== BANS_FILE_VERSION || !Array.isArray(file.bans)) fail('CONFIG_INVALID', `${path}: expected {"version": ${BANS_FILE_VERSION}, "bans": [...]}`)
  return file.bans.slice(0, MAX_STORED_BANS).filter(isBanEntry).map(clean)
}

function isBanEntry(e: unknown): e is BanEntry {
  const b = e as BanEntry
  return typeof b === 'object' && b !== null && typeof b.peerId === 'string' && isPeerId(b.peerId) && Number.isSafeInteger(b.until) && typeof b.reason === 'string'
}

function clean(e: BanEntry): BanEntry {
  return { peerId: e.peerId, until: e.until, reason: e.reason.slice(0, MAX_REASON_LENGTH) }
}

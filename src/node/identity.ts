/**
 * A node's data directory: who it is and where it keeps things.
 *
 *   DIR/member.key     ed25519 seed of the member's signing key (hex, mode 0600)
 *   DIR/peer.key       libp2p peer key, protobuf (mode 0600) — stable peer id across restarts
 *   DIR/api.token      bearer token for the HTTP API (mode 0600, rotatable)
 *   DIR/identity.json  public facts: name, member key, peer id
 *   DIR/member-card.json  the public member card to send to the other members (init writes it)
 *   DIR/config.json    this node's config overrides (see config/default.json)
 *   DIR/db/            the LevelDB replica
 *   DIR/node.json      written while a node runs: pid and API URL (other CLI commands talk to it)
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fail } from '../errors.js'
import { fromHex, generateMemberKeyPair, keyPairFromSeed, randomToken, toHex, type MemberKeyPair } from '../record/crypto.js'
import { parseAddress } from '../net/addresses.js'

/** Multiaddr facts for the CLI (doctor), which reaches net/ through node/. */
export { parseAddress } from '../net/addresses.js'
import { NODE_CONFIG_FILE } from '../config.js'

export const FILES = {
  memberKey: 'member.key',
  peerKey: 'peer.key',
  apiToken: 'api.token',
  identity: 'identity.json',
  db: 'db',
  running: 'node.json',
} as const

export interface PublicIdentity { name: string; memberKey: string; peerId: string; createdAt: number }
export interface Identity extends PublicIdentity {
  dataDir: string
  memberKeyPair: MemberKeyPair
  peerKey: Uint8Array
  apiToken: string
}

function writeSecret(path: string, data: string | Uint8Array): void {
  writeFileSync(path, data, { mode: 0o600, flag: 'wx' })
  chmodSync(path, 0o600)
}

export interface InitOptions { name: string; apiPort?: number; config?: Record<string, unknown> }

export async function initDataDir(dataDir: string, options: InitOptions): Promise<Identity> {
  const dir = resolve(dataDir)
  if (existsSync(join(dir, FILES.memberKey)) || existsSync(join(dir, FILES.identity))) {
    fail('IDENTITY_EXISTS', `${dir} already holds a hashmesh identity; refusing to overwrite it`)
  }
  if (!options.name || options.name.length > 64) fail('BAD_REQUEST', 'the member name must be 1 to 64 characters')
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const memberKeyPair = generateMemberKeyPair()
  // libp2p's key code is loaded when a key is made (init, a new PSK), not by every command that opens a node.
  const { generatePeerKey, peerIdFromKey } = await import('../net/keys.js')
  const peerKey = await generatePeerKey()
  const apiToken = randomToken()
  writeSecret(join(dir, FILES.memberKey), toHex(memberKeyPair.seed) + '\n')
  writeSecret(join(dir, FILES.peerKey), peerKey)
  writeSecret(join(dir, FILES.apiToken), apiToken + '\n')
  const pub: PublicIdentity = { name: options.name, memberKey: toHex(memberKeyPair.publicKey), peerId: peerIdFromKey(peerKey), createdAt: Date.now() }
  writeFileSync(join(dir, FILES.identity), JSON.stringify(pub, null, 2) + '\n', { flag: 'wx' })
  const config = { ...(options.config ?? {}) } as Record<string, Record<string, unknown>>
  if (options.apiPort !== undefined) config.api = { ...(config.api ?? {}), port: options.apiPort }
  if (!existsSync(join(dir, NODE_CONFIG_FILE))) writeFileSync(join(dir, NODE_CONFIG_FILE), JSON.stringify(config, null, 2) + '\n')
  return { ...pub, dataDir: dir, memberKeyPair, peerKey, apiToken }
}

function readSecret(path: string): Buffer {
  if (!existsSync(path)) fail('IDENTITY_MISSING', `${path} is missing: run "hashmesh init --data DIR --name ORG" first`)
  const mode = statSync(path).mode & 0o077
  if (mode !== 0) fail('KEY_INVALID', `${path} is readable by others (mode ${(statSync(path).mode & 0o777).toString(8)}); run chmod 600 on it`)
  return readFileSync(path)
}

export function loadIdentity(dataDir: string): Identity {
  const dir = resolve(dataDir)
  const identityPath = join(dir, FILES.identity)
  if (!existsSync(identityPath)) fail('IDENTITY_MISSING', `${dir} has no hashmesh identity: run "hashmesh init --data ${dataDir} --name ORG" first`)
  const pub = JSON.parse(readFileSync(identityPath, 'utf8')) as PublicIdentity
  const seed = fromHex(readSecret(join(dir, FILES.memberKey)).toString('utf8').trim(), 32, 'member key seed')
  const memberKeyPair = keyPairFromSeed(seed)
  if (toHex(memberKeyPair.publicKey) !== pub.memberKey) fail('KEY_INVALID', `${FILES.memberKey} does not match the member key in ${FILES.identity}`)
  const peerKey = new Uint8Array(readSecret(join(dir, FILES.peerKey)))
  return { ...pub, dataDir: dir, memberKeyPair, peerKey, apiToken: readApiToken(dir) }
}

export function readApiToken(dataDir: string): string {
  return readSecret(join(resolve(dataDir), FILES.apiToken)).toString('utf8').trim()
}

/** Writes a new token atomically (temp file + rename), so a running node never reads half a token. */
export function rotateApiToken(dataDir: string): string {
  const path = join(resolve(dataDir), FILES.apiToken)
  const temp = `${path}.${process.pid}.tmp`
  const token = randomToken()
  writeFileSync(temp, token + '\n', { mode: 0o600 })
  chmodSync(temp, 0o600)
  renameSync(temp, path)
  return token
}

/** The current API token, re-read only when the file changes (a running node picks up rotations). */
export function apiTokenReader(dataDir: string): () => string {
  const path = join(resolve(dataDir), FILES.apiToken)
  let cached: { key: string; token: string } | undefined
  return () => {
    const st = statSync(path)
    const key = `${st.mtimeMs}:${st.size}:${st.ino}`
    if (cached?.key !== key) cached = { key, token: readApiToken(dataDir) }
    return cached.token
  }
}

/** A new pre-shared key file (libp2p pnet format) for `p2p.pskFile`: the members share it out of band. */
export async function createPskFile(path: string): Promise<void> {
  const { generatePsk } = await import('../net/keys.js')
  writeFileSync(path, generatePsk(), { mode: 0o600, flag: 'wx' })
}

/**
 * The public member card: what a member sends to the founders (or to whoever proposes the roster that
 * adds it). Nothing secret: name, member key, peer id and the addresses other nodes dial.
 */
export interface MemberCard { hashmeshMemberCard: 1; name: string; memberKey: string; peerId: string; addresses: string[] }
export const CARD_FILE = 'member-card.json'

export function memberCard(id: PublicIdentity, addresses: string[]): MemberCard {
  return { hashmeshMemberCard: 1, name: id.name, memberKey: id.memberKey, peerId: id.peerId, addresses }
}

export interface P2pOptions { listen?: string[]; announce?: string[]; bootstrap?: string[]; p2pPort?: number }

/**
 * The p2p section `init` writes from its flags, validated: every address a multiaddr, bootstrap ones
 * ending in /p2p/<peerId>; --p2p-port alone listens on every interface at that port.
 */
export function p2pConfigFromOptions(options: P2pOptions): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  const port = options.p2pPort
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65_535)) fail('CONFIG_INVALID', `--p2p-port ${port} must be a TCP port (1-65535)`)
  for (const addr of options.listen ?? []) {
    const facts = parseAddress(addr, '--listen address')
    if (port !== undefined && facts.port !== undefined && facts.port !== port) fail('CONFIG_INVALID', `--listen ${addr} disagrees with --p2p-port ${port}`)
  }
  for (const addr of options.announce ?? []) parseAddress(addr, '--announce address')
  for (const addr of options.bootstrap ?? []) {
    if (!parseAddress(addr, '--bootstrap address').peerId) fail('CONFIG_INVALID', `--bootstrap ${addr} must end in /p2p/<peerId> (the peer id on the other member's card)`)
  }
  if (options.listen?.length) out.listen = options.listen
  else if (port !== undefined) out.listen = [`/ip4/0.0.0.0/tcp/${port}`]
  if (options.announce?.length) out.announce = options.announce
  if (options.bootstrap?.length) out.bootstrap = options.bootstrap
  return out
}

/** Addresses for the card: the announced ones, else listen addresses others can dial (not 0.0.0.0, not port 0), with /p2p/<peerId>. */
export function cardAddresses(peerId: string, p2p: { listen: string[]; announce: string[] }): string[] {
  const candidates = p2p.announce.length > 0 ? p2p.announce : p2p.listen.filter((a) => {
    const facts = parseAddress(a, 'listen address')
    return facts.port !== 0 && facts.host !== '0.0.0.0' && facts.host !== '::'
  })
  return candidates.map((a) => (parseAddress(a, 'address').peerId ? a : `${a}/p2p/${peerId}`))
}

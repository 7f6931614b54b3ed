/**
 * The one module that owns cryptography: ed25519 keys and signatures, SHA-256 digests.
 * tweetnacl is the reference (key generation, signing); node:crypto Ed25519 gives byte-identical
 * signatures (Ed25519 is deterministic), so own records are signed with it. Received records are
 * verified with libsodium (sodium-native, prebuilt): 46 µs per signature here against 80 µs for
 * node:crypto and ~1 ms for tweetnacl, and verification is most of the CPU of a bulk catch-up.
 * Golden vectors in test/vectors check that all three agree.
 */
import nacl from 'tweetnacl'
import sodium from 'sodium-native'
import { createHash, createPrivateKey, createPublicKey, hash, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto'
import { fail, isProgrammerError } from '../errors.js'

export const PUBLIC_KEY_BYTES = 32
export const SEED_BYTES = 32
export const SIGNATURE_BYTES = 64

const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')

export interface MemberKeyPair {
  publicKey: Uint8Array
  /** The 32-byte seed; the 64-byte tweetnacl secret key is derived from it. */
  seed: Uint8Array
}

export function generateMemberKeyPair(): MemberKeyPair {
  const seed = nacl.randomBytes(SEED_BYTES)
  return keyPairFromSeed(seed)
}

export function keyPairFromSeed(seed: Uint8Array): MemberKeyPair {
  if (seed.length !== SEED_BYTES) fail('KEY_INVALID', `ed25519 seed must be ${SEED_BYTES} bytes, got ${seed.length}`)
  const kp = nacl.sign.keyPair.fromSeed(seed)
  return { publicKey: kp.publicKey, seed: Uint8Array.from(seed) }
}

/** Reference signing with tweetnacl (slow; used by tests to cross-check the fast path). */
export function signReference(message: Uint8Array, keyPair: MemberKeyPair): Uint8Array {
  const secret = nacl.sign.keyPair.fromSeed(keyPair.seed).secretKey
  return nacl.sign.detached(message, secret)
}

/** Reference verification with tweetnacl. */
export function verifyReference(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== SIGNATURE_BYTES || publicKey.length !== PUBLIC_KEY_BYTES) return false
  return nacl.sign.detached.verify(message, signature, publicKey)
}

/** A signer that keeps its node:crypto KeyObject built once. */
export class Signer {
  readonly publicKey: Uint8Array
  readonly publicKeyHex: string
  private readonly privateKeyObject: KeyObject

  constructor(keyPair: MemberKeyPair) {
    this.publicKey = keyPair.publicKey
    this.publicKeyHex = toHex(keyPair.publicKey)
    this.privateKeyObject = createPrivateKey({
      key: Buffer.concat([PKCS8_ED25519_PREFIX, keyPair.seed]),
      format: 'der',
      type: 'pkcs8',
    })
  }

  sign(message: Uint8Array): Uint8Array {
    return new Uint8Array(nodeSign(null, message, this.privateKeyObject))
  }
}

const publicKeyCache = new Map<string, KeyObject>()
const PUBLIC_KEY_CACHE_MAX = 4096

function publicKeyObject(publicKey: Uint8Array): KeyObject {
  const hex = toHex(publicKey)
  let key = publicKeyCache.get(hex)
  if (!key) {
    key = createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, publicKey]), format: 'der', type: 'spki' })
    if (publicKeyCache.size >= PUBLIC_KEY_CACHE_MAX) publicKeyCache.clear()
    publicKeyCache.set(hex, key)
  }
  return key
}

/** Fast verification (libsodium). Returns false for any malformed key or signature. */
export function verifySignature(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== SIGNATURE_BYTES || publicKey.length !== PUBLIC_KEY_BYTES) return false
  return sodium.crypto_sign_verify_detached(signature, message, publicKey)
}

/** Verification with node:crypto (OpenSSL), to cross-check libsodium in tests. */
export function verifyWithNodeCrypto(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== SIGNATURE_BYTES || publicKey.length !== PUBLIC_KEY_BYTES) return false
  try {
    return nodeVerify(null, message, publicKeyObject(publicKey), signature)
  } catch (err) {
    if (isProgrammerError(err)) throw err
    return false // OpenSSL refuses the key (not a point on the curve): it verifies nothing
  }
}

export function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest())
}

/** SHA-256 as lowercase hex in one native call (no Hash object, no intermediate bytes). */
export function sha256Hex(bytes: Uint8Array): string {
  return hash('sha256', bytes, 'hex')
}

/**
 * Buffer's own hex encoder, called on the Uint8Array directly: Buffer.from(view) allocated a Buffer
 * object per call, and decoding a record converts six fields (0.45 s of a 100,000-record catch-up).
 */
const hexSlice = (Buffer.prototype as unknown as { hexSlice?: (this: Uint8Array, start: number, end: number) => string }).hexSlice

export function toHex(bytes: Uint8Array): string {
  if (hexSlice) return hexSlice.call(bytes, 0, bytes.byteLength)
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

export function fromHex(hex: string, expectedBytes: number, what: string): Uint8Array {
  if (typeof hex !== 'string' || hex.length !== expectedBytes * 2 || !/^[0-9a-fA-F]*$/.test(hex)) {
    fail('KEY_INVALID', `${what} must be ${expectedBytes * 2} hex digits`)
  }
  return Uint8Array.from(Buffer.from(hex, 'hex'))
}

export function randomToken(bytes = 32): string {
  return Buffer.from(nacl.randomBytes(bytes)).toString('base64url')
}

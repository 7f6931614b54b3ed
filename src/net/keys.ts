/**
 * The node's libp2p identity and the federation's optional pre-shared key.
 * The peer key is persisted as protobuf (privateKeyToProtobuf), never as a raw 32-byte seed:
 * privateKeyFromRaw(seed32) silently yields a secp256k1 key.
 */
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { generateKey } from '@libp2p/pnet'
import type { PrivateKey } from '@libp2p/interface'
import { fail, safetyCatch } from '../errors.js'

/** A new Ed25519 peer key, protobuf-encoded (what `hashmesh init` writes to disk). */
export async function generatePeerKey(): Promise<Uint8Array> {
  return privateKeyToProtobuf(await generateKeyPair('Ed25519'))
}

export function privateKeyFromBytes(bytes: Uint8Array): PrivateKey {
  try {
    return privateKeyFromProtobuf(bytes)
  } catch (cause) {
    fail('KEY_INVALID', 'peer key is not a protobuf-encoded libp2p private key', { cause })
  }
}

/** The peer id (base58 string, e.g. "12D3KooW…") of a protobuf-encoded peer key. */
export function peerIdFromKey(bytes: Uint8Array): string {
  return peerIdFromPrivateKey(privateKeyFromBytes(bytes)).toString()
}

/** True when `peerId` parses as a libp2p peer id. */
export function isPeerId(peerId: string): boolean {
  try {
    peerIdFromString(peerId)
    return true
  } catch (err) {
    safetyCatch(err) // InvalidParametersError or a base58/base36 decoding error
    return false
  }
}

/** Bytes of the libp2p pnet key file format ("/key/swarm/psk/1.0.0/\n/base16/\n<64 hex>"): write them to p2p.pskFile as is. */
export function generatePsk(): Uint8Array {
  const out = new Uint8Array(95)
  generateKey(out)
  return out
}

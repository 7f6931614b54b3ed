/** Test helpers: deterministic members and record builders. */
import { keyPairFromSeed, Signer } from '../../src/record/crypto.js'
import { createRecord, type ChainPosition } from '../../src/record/build.js'
import type { SignalsBody, VerifiedRecord } from '../../src/record/types.js'

export function memberFromByte(byte: number): Signer {
  return new Signer(keyPairFromSeed(new Uint8Array(32).fill(byte)))
}

export function pdqHex(n: number): string {
  return n.toString(16).padStart(8, '0').repeat(8)
}

export function signalsBody(values: string[], labels = ['behavior:glorification']): SignalsBody {
  return { signals: values.map((value) => ({ type: 'pdq' as const, value, quality: 90 })), contentType: 'photo', labels }
}

/** A chain of `count` signals records for one member, starting after `head`. */
export function chain(signer: Signer, count: number, head: ChainPosition = { seq: 0, id: null }, signalsPer = 1, start = 0): VerifiedRecord[] {
  const out: VerifiedRecord[] = []
  let position = head
  for (let i = 0; i < count; i++) {
    const values = Array.from({ length: signalsPer }, (_, j) => pdqHex(start + i * signalsPer + j))
    const rec = createRecord(signer, position, 'signals', signalsBody(values), 1_700_000_000_000 + position.seq)
    out.push(rec)
    position = { seq: rec.record.seq, id: rec.record.id }
  }
  return out
}

/** A random PDQ hash (hex): random hashes are ~128 bits apart, so never within a match threshold of each other. */
export function randomPdqHex(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex')
}

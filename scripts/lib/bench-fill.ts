/**
 * Benchmark helpers: fill a member's own feed fast (createRecord in a loop, appended in large batches),
 * random signals, percentiles.
 */
import { randomFillSync, randomInt } from 'node:crypto'
import { createRecord } from '../../src/record/build.js'
import { toHex } from '../../src/record/crypto.js'
import type { SignalsBody, VerifiedRecord } from '../../src/record/types.js'
import { HashmeshNode, NODE_INTERNALS } from '../../src/node/node.js'

export function randomHex(bytes: number): string {
  return toHex(randomFillSync(new Uint8Array(bytes)))
}

export function signalsBody(signals: number): SignalsBody {
  return {
    signals: Array.from({ length: signals }, () => ({ type: 'pdq' as const, value: randomHex(32), quality: 90 })),
    contentType: 'photo',
    labels: ['behavior:glorification'],
  }
}

/** Appends `records` signals records of `signalsPerRecord` PDQ signals to the member's own feed (node closed after). */
export async function fillOwnFeed(dataDir: string, records: number, signalsPerRecord: number, batch = 5_000): Promise<{ feed: string; head: { seq: number; id: string }; ms: number; bytes: number }> {
  const started = performance.now()
  const node = await HashmeshNode.open(dataDir)
  let bytes = 0
  try {
    const now = Date.now()
    for (let done = 0; done < records; ) {
      const n = Math.min(batch, records - done)
      await node[NODE_INTERNALS].store.appendOwn(node.memberKey, (head) => {
        const out: VerifiedRecord[] = []
        let position = head
        for (let i = 0; i < n; i++) {
          const rec = createRecord(node.signer, position, 'signals', signalsBody(signalsPerRecord), now + done + i)
          bytes += rec.bytes.byteLength
          out.push(rec)
          position = { seq: rec.record.seq, id: rec.record.id }
        }
        return out
      })
      done += n
    }
    const head = node.head(node.memberKey)!
    return { feed: node.memberKey, head: { seq: head.seq, id: head.id }, ms: performance.now() - started, bytes }
  } finally {
    await node.close()
  }
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))


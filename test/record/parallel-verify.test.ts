import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import type { Worker } from 'node:worker_threads'
import { generateMemberKeyPair, Signer } from '../../src/record/crypto.js'
import { ParallelVerifier, type SignatureCheck } from '../../src/record/parallel-verify.js'

const signer = new Signer(generateMemberKeyPair())

/** `n` signed messages; every third one has a flipped signature bit. */
function checks(n: number): { checks: SignatureCheck[]; expected: boolean[] } {
  const out: SignatureCheck[] = []
  const expected: boolean[] = []
  for (let i = 0; i < n; i++) {
    const message = new Uint8Array(randomBytes(50 + (i % 200)))
    const signature = signer.sign(message)
    const bad = i % 3 === 2
    if (bad) signature[i % 64]! ^= 1
    out.push({ message, signature, key: signer.publicKey })
    expected.push(!bad)
  }
  return { checks: out, expected }
}

test('a worker verifies a chunk: good signatures pass, tampered ones fail', async () => {
  const verifier = new ParallelVerifier(1)
  try {
    assert.equal(verifier.parallel, true)
    const { checks: c, expected } = checks(300)
    assert.deepEqual(await verifier.verifyChunk(c), expected)
  } finally {
    await verifier.close()
  }
})

test('many chunks in flight at once are all answered, without piling up listeners on the worker', async () => {
  const warnings: Error[] = []
  const onWarning = (w: Error) => warnings.push(w)
  process.on('warning', onWarning)
  const verifier = new ParallelVerifier(1)
  try {
    const batches = Array.from({ length: 40 }, () => checks(64))
    const results = await Promise.all(batches.map((b) => verifier.verifyChunk(b.checks)))
    results.forEach((r, i) => assert.deepEqual(r, batches[i]!.expected))
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(warnings.map((w) => w.name), [])
  } finally {
    process.off('warning', onWarning)
    await verifier.close()
  }
})

test('chunks sent to a worker that dies are verified inline instead', async () => {
  const verifier = new ParallelVerifier(1)
  try {
    const worker = (verifier as unknown as { workers: Worker[] }).workers[0]!
    const batches = Array.from({ length: 8 }, () => checks(200))
    const pending = batches.map((b) => verifier.verifyChunk(b.checks))
    await worker.terminate()
    const results = await Promise.all(pending)
    results.forEach((r, i) => assert.deepEqual(r, batches[i]!.expected))
    assert.equal(verifier.parallel, false)
    const after = checks(40)
    assert.deepEqual(await verifier.verifyChunk(after.checks), after.expected)
  } finally {
    await verifier.close()
  }
})

test('settled() resolves once the workers have loaded (then verifies as before); with no thread, or a worker ended, at once', async () => {
  const verifier = new ParallelVerifier(1)
  try {
    await verifier.settled()
    const { checks: c, expected } = checks(40)
    assert.deepEqual(await verifier.verifyChunk(c), expected)
  } finally {
    await verifier.close()
  }
  await new ParallelVerifier(0).settled()
  const ended = new ParallelVerifier(1)
  await ended.close() // (ended before it said it was ready)
  await ended.settled()
})

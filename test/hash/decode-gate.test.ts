import { test } from 'node:test'
import assert from 'node:assert/strict'
import { DecodeGate } from '../../src/hash/decode-gate.js'
import { checkImageHeader } from '../../src/hash/decode.js'
import { isHashmeshError } from '../../src/errors.js'
import { encodePng, pixelBombPng } from './images.js'

/** A piece of work that finishes (or fails) when the test says so. */
function controlled(): { work: () => Promise<string>; started: Promise<void>; finish(value: string): void; fail(err: Error): void } {
  let markStarted!: () => void
  const started = new Promise<void>((resolve) => (markStarted = resolve))
  let settle!: { resolve: (v: string) => void; reject: (e: Error) => void }
  const done = new Promise<string>((resolve, reject) => (settle = { resolve, reject }))
  return {
    work: () => {
      markStarted()
      return done
    },
    started,
    finish: (value) => settle.resolve(value),
    fail: (err) => settle.reject(err),
  }
}

const tick = () => new Promise((resolve) => setImmediate(resolve))

test('at most maxActive run at once; waiters start first come, first served as slots free', async () => {
  const gate = new DecodeGate({ maxActive: 2, maxQueued: 10 })
  const jobs = Array.from({ length: 5 }, controlled)
  const order: number[] = []
  const results = jobs.map((job, i) => gate.run(() => (order.push(i), job.work())))
  await tick()
  assert.deepEqual(order, [0, 1])
  assert.equal(gate.active, 2)
  assert.equal(gate.queued, 3)
  jobs[1]!.finish('b')
  await tick()
  assert.deepEqual(order, [0, 1, 2])
  jobs[0]!.finish('a')
  await tick()
  assert.deepEqual(order, [0, 1, 2, 3])
  for (const job of jobs.slice(2)) job.finish('x')
  assert.deepEqual(await Promise.all(results), ['a', 'b', 'x', 'x', 'x'])
  assert.equal(gate.active, 0)
  assert.equal(gate.queued, 0)
})

test('a failed decode releases its slot to the next waiter, and its caller gets the error', async () => {
  const gate = new DecodeGate({ maxActive: 1, maxQueued: 1 })
  const first = controlled()
  const second = controlled()
  const failing = gate.run(first.work)
  const waiting = gate.run(second.work)
  await first.started
  assert.equal(gate.queued, 1)
  first.fail(new Error('corrupt'))
  await assert.rejects(failing, /corrupt/)
  await second.started
  assert.equal(gate.active, 1)
  second.finish('ok')
  assert.equal(await waiting, 'ok')
  assert.equal(gate.active, 0)
  // A synchronous throw inside the work releases the slot as well.
  await assert.rejects(gate.run(() => { throw new Error('sync') }), /sync/)
  assert.equal(gate.active, 0)
})

test('past the queue bound a caller is refused at once with BUSY and a Retry-After in seconds', async () => {
  const gate = new DecodeGate({ maxActive: 1, maxQueued: 2 })
  const job = controlled()
  const running = gate.run(job.work)
  const queued = [gate.run(async () => 'q1'), gate.run(async () => 'q2')]
  await assert.rejects(gate.run(async () => 'never'), (err) => {
    assert.ok(isHashmeshError(err, 'BUSY'), String(err))
    const seconds = err.details?.retryAfterSeconds
    assert.ok(typeof seconds === 'number' && Number.isInteger(seconds) && seconds >= 1 && seconds <= 60, `retryAfterSeconds ${seconds}`)
    return true
  })
  assert.equal(gate.queued, 2, 'the refused caller did not join the queue')
  job.finish('r')
  assert.deepEqual(await Promise.all([running, ...queued]), ['r', 'q1', 'q2'])
  // With room again, the next caller is served.
  assert.equal(await gate.run(async () => 'later'), 'later')
})

test('maxQueued 0: refuse whenever every slot is busy', async () => {
  const gate = new DecodeGate({ maxActive: 1, maxQueued: 0 })
  const job = controlled()
  const running = gate.run(job.work)
  await assert.rejects(gate.run(async () => 'x'), (err) => isHashmeshError(err, 'BUSY'))
  job.finish('done')
  assert.equal(await running, 'done')
})

test('a waiter whose signal aborts leaves the queue; the others keep their order', async () => {
  const gate = new DecodeGate({ maxActive: 1, maxQueued: 3 })
  const job = controlled()
  const running = gate.run(job.work)
  const controller = new AbortController()
  const started: string[] = []
  const a = gate.run(async () => started.push('a'))
  const b = gate.run(async () => started.push('b'), { signal: controller.signal })
  const c = gate.run(async () => started.push('c'))
  controller.abort(new Error('client went away'))
  await assert.rejects(b, /client went away/)
  assert.equal(gate.queued, 2)
  job.finish('r')
  await Promise.all([running, a, c])
  assert.deepEqual(started, ['a', 'c'])
  assert.equal(gate.active, 0)
  await assert.rejects(gate.run(async () => 'x', { signal: controller.signal }), /client went away/, 'an already aborted signal is refused')
})

test('Retry-After grows with the queue and the decode times seen', async () => {
  const gate = new DecodeGate({ maxActive: 1, maxQueued: 100 })
  const empty = gate.retryAfterSeconds()
  const job = controlled()
  const running = gate.run(job.work)
  const waiters = Array.from({ length: 20 }, () => gate.run(async () => undefined))
  assert.ok(gate.retryAfterSeconds() > empty, `${gate.retryAfterSeconds()} > ${empty}`)
  job.finish('r')
  await Promise.all([running, ...waiters])
})

test('bad limits are a programming error', () => {
  assert.throws(() => new DecodeGate({ maxActive: 0, maxQueued: 1 }), RangeError)
  assert.throws(() => new DecodeGate({ maxActive: 1, maxQueued: -1 }), RangeError)
})

test('checkImageHeader refuses a pixel bomb from its header, and passes a real image without decoding it', async () => {
  const started = performance.now()
  await assert.rejects(checkImageHeader(pixelBombPng(50000, 50000), { maxPixels: 50_000_000 }), (err) => isHashmeshError(err, 'MEDIA_TOO_LARGE') && /50000x50000/.test(err.message))
  assert.ok(performance.now() - started < 1000)
  // Exactly at the limit passes; one pixel over does not.
  const png = encodePng(40, 25, 3, 8, (x, y, c) => (x * 7 + y * 3 + c * 50) & 255)
  assert.deepEqual(await checkImageHeader(png, { maxPixels: 1000 }), { format: 'png', width: 40, height: 25 })
  await assert.rejects(checkImageHeader(png, { maxPixels: 999 }), (err) => isHashmeshError(err, 'MEDIA_TOO_LARGE'))
  await assert.rejects(checkImageHeader(Buffer.from('not an image at all')), (err) => isHashmeshError(err, 'MEDIA_UNSUPPORTED'))
  await assert.rejects(checkImageHeader(png, { maxBytes: 10 }), (err) => isHashmeshError(err, 'MEDIA_TOO_LARGE'))
})

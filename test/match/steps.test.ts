import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Pacer, runStepsAsync, type Steps } from '../../src/match/steps.js'

/** `total` steps that count themselves into `done.steps`. */
function* counted(done: { steps: number }, total: number): Steps<number> {
  for (let i = 0; i < total; i++) {
    done.steps++
    yield
  }
  return total
}

describe('stepped loops share the event loop from their first step', () => {
  it('runStepsAsync takes one step, then waits for a turn (loops started together do not each run a slice first)', async () => {
    const a = { steps: 0 }
    const b = { steps: 0 }
    const first = runStepsAsync(counted(a, 100_000))
    const second = runStepsAsync(counted(b, 100_000))
    // (what ran before this line ran in the same turn, before anything else could)
    assert.equal(a.steps, 1)
    assert.equal(b.steps, 1)
    assert.deepEqual(await Promise.all([first, second]), [100_000, 100_000])
    assert.equal(a.steps, 100_000)
  })

  it('a new Pacer is due at its first clock check (64 calls), not after a slice of its own', () => {
    const pacer = new Pacer(60_000)
    for (let i = 1; i < 64; i++) assert.equal(pacer.due(), false, `call ${i}`)
    assert.equal(pacer.due(), true)
  })

  it('a call that did many items\' work counts them: a bank chunk of 1,024 hashes makes the Pacer read the clock', async () => {
    const pacer = new Pacer(5)
    await pacer.pause()
    assert.equal(pacer.due(1024), false, 'within its slice')
    const until = performance.now() + 6
    while (performance.now() < until) {
      // (the slice runs out)
    }
    assert.equal(pacer.due(1024), true, 'one chunk after the slice ran out')
    assert.equal(pacer.due(), false, 'the count starts again after a reading')
  })

  it('after a pause, a Pacer runs its share of the slice before it is due again', async () => {
    const pacer = new Pacer(60_000)
    await pacer.pause()
    for (let i = 1; i <= 640; i++) assert.equal(pacer.due(), false, `call ${i}`)
  })
})

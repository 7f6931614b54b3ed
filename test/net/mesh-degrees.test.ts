import '../../src/shim.js'
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { meshDegrees } from '../../src/net/node-assembly.js'

test('gossip mesh bounds satisfy the gossipsub spec for every allowed p2p.meshDegree', () => {
  for (let d = 1; d <= 12; d++) {
    const m = meshDegrees(d)
    assert.ok(m.Dlo <= m.D && m.D <= m.Dhi, `D=${d}: Dlo <= D <= Dhi`)
    assert.ok(m.Dscore >= 1 && m.Dscore <= m.D, `D=${d}: 1 <= Dscore <= D`)
    assert.ok(m.Dout >= 0 && m.Dout < m.Dlo && m.Dout <= m.D / 2, `D=${d}: Dout < Dlo and Dout <= D/2`)
  }
  assert.deepEqual(meshDegrees(3), { D: 3, Dlo: 2, Dhi: 5, Dlazy: 3, Dscore: 2, Dout: 1 })
  assert.deepEqual(meshDegrees(6), { D: 6, Dlo: 5, Dhi: 8, Dlazy: 6, Dscore: 4, Dout: 3 })
})

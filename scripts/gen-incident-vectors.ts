/**
 * Golden vectors of incident notices (docs/protocol.md §9): a declaration, an update and a close by a
 * fixed key at fixed times -> exact canonical bytes, id and signature, and the priority-topic envelope of
 * the declaration. Guarded by test/record/incident-vectors.test.ts; run only when the format's version changes.
 *
 *   npx tsx scripts/gen-incident-vectors.ts > test/vectors/incident.json
 */
import { keyPairFromSeed, Signer, toHex } from '../src/record/crypto.js'
import { signIncidentNotice, type IncidentNotice } from '../src/record/incident.js'
import { encodePriorityMessage } from '../src/record/priority-wire.js'

const signer = new Signer(keyPairFromSeed(new Uint8Array(32).map((_, i) => i + 1)))
const t = 1_764_000_000_000
const base: Omit<IncidentNotice, 'version' | 'author'> = {
  action: 'declare', incident: '00112233445566778899aabbccddeeff', revision: 1, timestamp: t,
  title: 'Live-streamed attack, city X', severity: 'critical', start: t - 600_000, expiry: t + 86_400_000,
  description: 'Share hashes of the attacker\'s stream and its edits.', reference: 'CIP-2026-001',
}
const notices = [
  base,
  { ...base, action: 'update' as const, revision: 2, timestamp: t + 60_000, severity: 'high' as const, description: 'Edits with overlays circulating.' },
  { ...base, action: 'close' as const, revision: 3, timestamp: t + 3_600_000, severity: 'high' as const, description: 'Closed: spread contained.' },
]
const out = notices.map((n) => {
  const { notice, bytes } = signIncidentNotice(n, signer)
  return { notice, bytes: toHex(bytes) }
})
const envelope = encodePriorityMessage({ type: 'notice', bytes: signIncidentNotice(base, signer).bytes })
process.stdout.write(JSON.stringify({ seed: '0102…20 (bytes 1 to 32)', notices: out, priorityEnvelope: toHex(envelope) }, null, 1) + '\n')

/**
 * `npm run demo`: the whole story on one machine, in plain words, with timings.
 * Three member companies run nodes as separate processes on 127.0.0.1, share signed fingerprints by gossip,
 * catch up after downtime, answer a local service's questions, honour a revocation, and pass an offline audit.
 * Exits 0 when every step worked; any failed step exits 1. Cleans up after itself.
 */
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { apiClient, createDevnet, type Devnet, type DevnetMember } from './lib/devnet.js'
import { CLI_ENTRY, cliEnv } from './lib/cli-entry.js'

const DEMO = fileURLToPath(new URL('../demo/', import.meta.url))
const media = (name: string) => readFileSync(join(DEMO, name))

type Api = ReturnType<typeof apiClient>
interface MatchResult { matches: Array<{ type: string; value: string; distance: number; status: string; frames?: Array<{ ms: number }>; records: Array<{ id: string; member: { name: string }; labels: string[]; signatureVerified: boolean }> }> }
interface Contribution { records: Array<{ id: string; seq: number; signals: number }>; fingerprint?: { kind: string; pdq?: { hash: string; quality: number } } }

let stepNo = 0
const startedAll = performance.now()
const say = (line: string) => console.log(`      ${line}`)

async function step<T>(title: string, run: () => Promise<T>): Promise<T> {
  stepNo++
  console.log(`\n[${stepNo}] ${title}`)
  const t = performance.now()
  const result = await run()
  console.log(`      ✓ done in ${Math.round(performance.now() - t)} ms`)
  return result
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<{ value: T; ms: number }> {
  const t = performance.now()
  for (;;) {
    const value = await probe().catch(() => undefined)
    if (value) return { value, ms: Math.round(performance.now() - t) }
    if (performance.now() - t > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

const headOf = async (api: Api, feed: string) => (await api.get<{ feeds: Array<{ feed: string; seq: number }> }>('/v1/feeds')).feeds.find((f) => f.feed === feed)?.seq ?? 0

function hashmesh(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [...CLI_ENTRY, ...args], { encoding: 'utf8', env: cliEnv(), maxBuffer: 64 * 1024 * 1024 })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

async function main(devnet: Devnet): Promise<void> {
  const [alpha, bravo, charlie] = devnet.members as [DevnetMember, DevnetMember, DevnetMember]
  const api = { A: apiClient(alpha), B: apiClient(bravo), C: apiClient(charlie) }
  const alphaFeed = alpha.identity.memberKey

  await step('Three member companies create their identities and sign a roster together', async () => {
    for (const m of devnet.members) say(`${m.name.padEnd(8)} member key ${m.identity.memberKey.slice(0, 16)}…  peer ${m.identity.peerId.slice(0, 20)}…`)
    say(`roster for federation "${devnet.federation}" signed by all three founders; every node pins its id`)
  })

  await step('Each company starts its own node (separate processes, 127.0.0.1 only)', async () => {
    await Promise.all(devnet.members.map((m) => devnet.start(m.name)))
    const { ms } = await until('all nodes connected', async () => {
      const counts = await Promise.all([api.A, api.B, api.C].map(async (a) => (await a.get<{ network: { peers: number } }>('/v1/status')).network.peers))
      return counts.every((n) => n >= 2)
    })
    say(`nodes connected to each other in ${ms} ms (noise-encrypted libp2p; peers outside the roster are refused)`)
  })

  const bridge = await step('Alpha contributes signed fingerprints of three photos and a video', async () => {
    const labels = { 'bridge.jpg': 'behavior:glorification,entity:example-group', 'scene-1.jpg': 'behavior:recruitment', 'clip.mp4': 'behavior:attack-footage,type:video' } as const
    let bridge: Contribution | undefined
    for (const [file, l] of Object.entries(labels)) {
      const type = file.endsWith('.mp4') ? 'video/mp4' : 'image/jpeg'
      const result = await api.A.postBytes<Contribution>(`/v1/contributions?labels=${encodeURIComponent(l)}`, media(file), type)
      say(`${file.padEnd(12)} -> record ${result.records[0]!.id.slice(0, 16)}… (seq ${result.records[0]!.seq}, ${result.records[0]!.signals} signals: ${result.fingerprint?.kind === 'video' ? 'vPDQ frames' : 'PDQ'} + MD5 + SHA-256) [${l}]`)
      if (file === 'bridge.jpg') bridge = result
    }
    return bridge!
  })

  await step('The records reach Bravo and Charlie by gossip', async () => {
    const target = await headOf(api.A, alphaFeed)
    for (const [name, a] of [['Bravo', api.B], ['Charlie', api.C]] as const) {
      const { ms } = await until(`${name} has Alpha's feed`, async () => (await headOf(a, alphaFeed)) === target)
      say(`${name} holds Alpha's feed up to seq ${target} (${ms} ms after the last contribution), each record signature-checked`)
    }
  })

  await step('Charlie goes offline; meanwhile Alpha contributes more', async () => {
    await devnet.stop('Charlie')
    say('Charlie stopped')
    await api.A.postBytes('/v1/contributions?labels=behavior:incitement', media('scene-2.jpg'), 'image/jpeg')
    await api.A.post('/v1/contributions', { signals: [{ type: 'md5', value: 'e2fc714c4727ee9395f324cd2e7f331f' }], labels: ['behavior:instruction'], contentType: 'pdf', note: 'manual, shared as an MD5' })
    const target = await headOf(api.A, alphaFeed)
    await until('Bravo has the new records', async () => (await headOf(api.B, alphaFeed)) === target)
    say(`Alpha's feed is now at seq ${target}; Bravo has it, Charlie does not`)
  })

  await step('Alpha goes offline too; Charlie restarts and catches up from Bravo', async () => {
    await devnet.stop('Alpha')
    say('Alpha stopped: the only node holding the newest records besides their author is Bravo')
    const target = await headOf(api.B, alphaFeed)
    await devnet.start('Charlie')
    const { ms } = await until('Charlie caught up', async () => (await headOf(api.C, alphaFeed)) === target)
    say(`Charlie caught up to Alpha's seq ${target} in ${ms} ms by anti-entropy sync with Bravo`)
    await devnet.start('Alpha')
    say('Alpha back online')
  })

  await step('A local service at Charlie asks about a re-uploaded copy of Alpha\'s photo (resized, recompressed)', async () => {
    const t = performance.now()
    const result = await api.C.postBytes<MatchResult>('/v1/match', media('bridge-reupload.jpg'), 'image/jpeg')
    const pdq = result.matches.find((m) => m.type === 'pdq')
    if (!pdq) throw new Error('the re-upload did not match')
    const r = pdq.records[0]!
    say(`match in ${Math.round(performance.now() - t)} ms: PDQ distance ${pdq.distance} of 256 bits, status ${pdq.status}`)
    say(`contributed by ${r.member.name}, labels [${r.labels.join(', ')}], record ${r.id.slice(0, 16)}…, signature verified: ${r.signatureVerified}`)
    if (r.member.name !== 'Alpha' || !r.signatureVerified) throw new Error('unexpected match details')
    say('the image itself never left Charlie\'s machine: only its fingerprint was compared, locally')
  })

  await step('... and about a still taken from Alpha\'s video', async () => {
    const result = await api.C.postBytes<MatchResult>('/v1/match', media('clip-still.jpg'), 'image/jpeg')
    const video = result.matches.find((m) => m.type === 'vpdq')
    if (!video) throw new Error('the still did not match the video')
    say(`matched a frame of Alpha's video at ${(video.frames ?? []).map((f) => (f.ms / 1000).toFixed(1) + ' s').join(', ')} (distance ${video.distance}), labels [${video.records[0]!.labels.join(', ')}]`)
  })

  await step('Alpha revokes the photo\'s fingerprints; the match disappears at Charlie', async () => {
    const id = bridge.records[0]!.id
    await api.A.post(`/v1/contributions/${id}/revoke`, { reason: 'false_positive' })
    say(`Alpha signed a revocation of record ${id.slice(0, 16)}…`)
    const { ms } = await until('match gone at Charlie', async () => {
      const result = await api.C.postBytes<MatchResult>('/v1/match', media('bridge-reupload.jpg'), 'image/jpeg')
      return result.matches.every((m) => m.type !== 'pdq')
    })
    say(`Charlie no longer matches the re-upload (${ms} ms after the revocation)`)
  })

  await step('A security team exports Charlie\'s replica and verifies it offline', async () => {
    const exportFile = join(devnet.baseDir, 'charlie-export.jsonl')
    const rosterFile = join(devnet.baseDir, 'roster.json')
    const exported = hashmesh(['export', '--data', charlie.dataDir])
    if (exported.code !== 0) throw new Error(`export failed: ${exported.stderr}`)
    writeFileSync(exportFile, exported.stdout)
    const roster = (await api.C.get<{ versions: Array<{ document: unknown; signatures: unknown }> }>('/v1/roster')).versions.at(-1)!
    writeFileSync(rosterFile, JSON.stringify({ document: roster.document, signatures: roster.signatures }))
    say(`hashmesh export --data <charlie>   -> ${exported.stdout.trim().split('\n').length} signed records`)
    const verified = hashmesh(['verify', exportFile, '--roster', rosterFile])
    if (verified.code !== 0) throw new Error(`verify failed:\n${verified.stdout}${verified.stderr}`)
    for (const line of verified.stdout.trim().split('\n').filter((l) => l.startsWith('feed') || /valid/.test(l))) say(`hashmesh verify: ${line}`)
  })
}

const devnet = await createDevnet({ names: ['Alpha', 'Bravo', 'Charlie'], syncIntervalMs: 1000 })
console.log('hashmesh demo: a federation of three member companies sharing fingerprints with no central server')
let failed = false
try {
  await main(devnet)
} catch (err) {
  failed = true
  console.error(`\n      ✗ step ${stepNo} failed: ${(err as Error).message}`)
  for (const m of devnet.members) if (m.log.length) console.error(`--- ${m.name} log (tail) ---\n${m.log.join('').slice(-1500)}`)
} finally {
  await devnet.close()
}
console.log(failed ? '\ndemo FAILED' : `\nall ${stepNo} steps worked in ${((performance.now() - startedAll) / 1000).toFixed(1)} s; nodes stopped and data removed`)
process.exit(failed ? 1 : 0)

/**
 * A whole federation on one machine, for the devnet, the demo and integration tests: data directories for
 * N members, a genesis roster signed by all of them (possible only because every key is local), installed
 * and pinned on every node, and p2p config on 127.0.0.1 with every other node as a bootstrap peer.
 * Never used for a real federation, where each founder signs on their own machine (see README).
 */
import { createServer } from 'node:net'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { NODE_CONFIG_FILE } from '../config.js'
import { Signer } from '../record/crypto.js'
import { encodeSignedRoster, signRoster, type RosterDocument, type SignedRoster } from '../record/roster.js'
import { initDataDir, type Identity } from './identity.js'
import { HashmeshNode } from './node.js'

export interface LocalMember {
  name: string
  dataDir: string
  identity: Identity
  p2pPort: number
  apiPort: number
  multiaddr: string
}

export interface LocalFederation { federation: string; roster: SignedRoster; members: LocalMember[] }

/**
 * Ports handed out before the nodes start are picked below Linux's ephemeral range (32768-60999): a
 * port the kernel chose for listen(0) could be given to another node's outgoing connection before its
 * owner binds it (EADDRINUSE when a 20-node devnet started).
 */
const PORT_RANGE = { from: 20_000, to: 32_000 }

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

const handedOut = new Set<number>()

/** A free port on 127.0.0.1 outside the ephemeral range, not handed out before by this process. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = PORT_RANGE.from + Math.floor(Math.random() * (PORT_RANGE.to - PORT_RANGE.from))
    if (handedOut.has(port) || !(await canListen(port))) continue
    handedOut.add(port)
    return port
  }
  throw new Error(`no free port between ${PORT_RANGE.from} and ${PORT_RANGE.to} on 127.0.0.1`)
}

export async function createLocalFederation(baseDir: string, names: string[], options: { federation?: string; syncIntervalMs?: number; config?: Record<string, unknown> } = {}): Promise<LocalFederation> {
  const federation = options.federation ?? 'devnet'
  const members: LocalMember[] = []
  for (const name of names) {
    const dataDir = join(baseDir, name.toLowerCase().replace(/[^a-z0-9]+/g, '-'))
    const identity = await initDataDir(dataDir, { name })
    const p2pPort = await freePort()
    const apiPort = await freePort()
    members.push({ name, dataDir, identity, p2pPort, apiPort, multiaddr: `/ip4/127.0.0.1/tcp/${p2pPort}/p2p/${identity.peerId}` })
  }
  const document: RosterDocument = {
    federation,
    serial: 1,
    prev: null,
    members: members.map((m) => ({ name: m.name, key: m.identity.memberKey, peers: [m.identity.peerId] })),
    createdAt: Date.now(),
  }
  let roster: Omit<SignedRoster, 'id'> = { document, signatures: [] }
  for (const m of members) roster = signRoster(roster, new Signer(m.identity.memberKeyPair))
  const signed = roster as SignedRoster
  for (const m of members) {
    const node = await HashmeshNode.open(m.dataDir)
    const result = await node.installRoster(encodeSignedRoster(signed), true)
    await node.close()
    if (result.verdict !== 'accepted') throw new Error(`roster install failed on ${m.name}: ${result.code} ${result.message}`)
    const config = {
      ...(options.config ?? {}),
      api: { port: m.apiPort },
      p2p: {
        listen: [`/ip4/127.0.0.1/tcp/${m.p2pPort}`],
        bootstrap: members.filter((o) => o !== m).map((o) => o.multiaddr),
        allowPrivateAddresses: true,
        syncIntervalMs: options.syncIntervalMs ?? 2000,
        ...((options.config?.p2p as Record<string, unknown> | undefined) ?? {}),
        rosterGenesis: signed.id,
      },
    }
    writeFileSync(join(m.dataDir, NODE_CONFIG_FILE), JSON.stringify(config, null, 2) + '\n')
  }
  return { federation, roster: signed, members }
}

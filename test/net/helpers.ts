/** Real libp2p nodes on 127.0.0.1 for the network tests. */
import '../../src/shim.js'
import {
  createNetwork,
  generatePeerKey,
  peerIdFromKey,
  recordsTopic,
  NET_INTERNALS,
  type NetInternals,
  type Network,
  type NetworkInit,
} from '../../src/net/index.js'
import { FakeReplica } from './fake-replica.js'

export const FEDERATION = 'test-fed'

export interface TestNode {
  net: Network
  replica: FakeReplica
  peerId: string
  key: Uint8Array
  /** Dialable address, ending in /p2p/<peerId>. */
  addr: string
}

export async function newKey(): Promise<{ key: Uint8Array; peerId: string }> {
  const key = await generatePeerKey()
  return { key, peerId: peerIdFromKey(key) }
}

export async function startNode(options: Partial<NetworkInit> & { replica?: FakeReplica } = {}): Promise<TestNode> {
  const replica = options.replica ?? new FakeReplica()
  const key = options.peerPrivateKey ?? (await generatePeerKey())
  const net = await createNetwork({
    listen: ['/ip4/127.0.0.1/tcp/0'],
    announce: [],
    bootstrap: [],
    allowPrivateAddresses: true,
    federationId: FEDERATION,
    isAllowedPeer: () => true,
    syncIntervalMs: 60_000,
    ...options,
    peerPrivateKey: key,
    replica,
  })
  await net.start()
  const addr = net.multiaddrs().find((a) => a.startsWith('/ip4/127.0.0.1/'))!
  if (!addr.endsWith(`/p2p/${net.peerId}`)) throw new Error(`unexpected address ${addr}`)
  return { net, replica, peerId: net.peerId, key, addr }
}

export async function stopAll(nodes: (TestNode | undefined)[]): Promise<void> {
  await Promise.all(nodes.map((n) => n?.net.stop()))
}

export async function waitFor(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = 8_000): Promise<void> {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    if (await predicate()) return
    await new Promise((r) => setTimeout(r, 25))
  }
  throw new Error(`timed out waiting for ${what}`)
}

/** Until the records topic has at least `n` subscribed peers (the gossip mesh formed). */
export async function waitForGossipPeers(node: TestNode, n: number): Promise<void> {
  const pubsub = internals(node).libp2p.services.pubsub
  await waitFor(`${n} gossip peers on ${node.peerId}`, () => pubsub.getSubscribers(recordsTopic(FEDERATION)).length >= n)
}

/** Until `node` has at least `n` peers in its gossip mesh for the records topic (forwarding is then immediate). */
export async function waitForMesh(node: TestNode, n: number): Promise<void> {
  const pubsub = internals(node).libp2p.services.pubsub as unknown as { getMeshPeers(topic: string): string[] }
  await waitFor(`${n} mesh peers on ${node.peerId}`, () => pubsub.getMeshPeers(recordsTopic(FEDERATION)).length >= n)
}

export function internals(node: TestNode): NetInternals {
  return (node.net as unknown as Record<symbol, NetInternals>)[NET_INTERNALS]!
}

export async function sameHeads(a: FakeReplica, b: FakeReplica): Promise<boolean> {
  const key = (h: { feed: string; seq: number; id: string }[]) => JSON.stringify([...h].sort((x, y) => (x.feed < y.feed ? -1 : 1)))
  return key(await a.heads()) === key(await b.heads())
}

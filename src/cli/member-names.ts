/** Member names for the peer ids and feed keys a command prints, from the roster installed on the node. */
import type { NodeApi } from '../node/contract.js'

export interface MemberNames { byPeer: Map<string, string>; byKey: Map<string, string> }

export async function memberNames(client: Pick<NodeApi, 'roster'>): Promise<MemberNames> {
  const members = (await client.roster()).versions.at(-1)?.document.members ?? []
  const byPeer = new Map<string, string>()
  for (const m of members) for (const p of m.peers) byPeer.set(p, m.name)
  return { byPeer, byKey: new Map(members.map((m) => [m.key, m.name])) }
}

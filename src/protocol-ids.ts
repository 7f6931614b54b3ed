/**
 * Every name hashmesh uses on the network, each with its version: the libp2p protocol ids it speaks and the
 * gossip topics it publishes on. A change of format is a new version here, never the same name with new
 * bytes. Imports nothing. (Signing domains and format versions are in constants.ts; the formats behind
 * these names in record/ and sync/; docs/protocol.md §5, §7, §8.)
 */

/** Prefix of every hashmesh protocol id and topic. */
export const PROTOCOL_PREFIX = '/hashmesh'

/** Anti-entropy sync: one stream of length-prefixed dag-cbor frames (sync/wire.ts). */
export const SYNC_PROTOCOL = `${PROTOCOL_PREFIX}/sync/2.0.0`

/** kad-dht's own protocol, under a federation's prefix so that it never joins the public IPFS DHT. */
export const DHT_PROTOCOL_SUFFIX = '/kad/1.0.0'

/** The DHT protocol of one federation, e.g. /hashmesh/<federationId>/kad/1.0.0. */
export function dhtProtocol(federationId: string): string {
  return `${PROTOCOL_PREFIX}/${federationId}${DHT_PROTOCOL_SUFFIX}`
}

/** Gossip topic of a federation's records: one encoded record per message. */
export function recordsTopic(federationId: string): string {
  return `${PROTOCOL_PREFIX}/records/1/${federationId}`
}

/**
 * Gossip topic of a federation's incidents fast path (docs/protocol.md §9): incident notices and
 * contributions naming an open incident, each in a small envelope, flood-published.
 */
export function incidentsTopic(federationId: string): string {
  return `${PROTOCOL_PREFIX}/incidents/1/${federationId}`
}

/** Catch-up of open incidents right after a connection: the server writes its open notices and closes. */
export const INCIDENTS_PROTOCOL = `${PROTOCOL_PREFIX}/incidents/1.0.0`

/** Gossip topic of a federation's extras (roster versions, equivocation proofs): one encoded extra per message. */
export function extrasTopic(federationId: string): string {
  return `${PROTOCOL_PREFIX}/extras/1/${federationId}`
}

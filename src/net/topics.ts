/** Gossip topics of one federation (versioned like protocol ids). */
import { gossipTopic } from '../constants.js'

export function recordsTopic(federationId: string): string {
  return gossipTopic(federationId)
}

/** Roster versions and equivocation proofs. */
export function extrasTopic(federationId: string): string {
  return `/hashmesh/extras/1/${federationId}`
}

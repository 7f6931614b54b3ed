/** Versioned protocol identifiers, format versions and every decode limit, in one place. */

export const RECORD_FORMAT_VERSION = 1
/** Domain separation prefix for record signatures (never reused for any other signed object). */
export const RECORD_SIGNING_DOMAIN = 'hashmesh/record/v1\n'
export const ROSTER_SIGNING_DOMAIN = 'hashmesh/roster/v1\n'

export const RECORD_LIMITS = {
  maxRecordBytes: 256 * 1024,
  maxSignalsPerRecord: 1000,
  maxLabels: 32,
  maxLabelLength: 64,
  maxNoteLength: 1024,
  maxReasonLength: 256,
  /** vPDQ signal: frames per video and bytes of its encoded value. */
  maxVpdqFrames: 4096,
} as const

export const STORE_LIMITS = {
  /** Out-of-order records kept per feed while waiting for the gap to fill. */
  maxPendingPerFeed: 4096,
  maxPendingTotal: 65536,
} as const

export const PROTOCOL_PREFIX = '/hashmesh'
export const SYNC_PROTOCOL = '/hashmesh/sync/2.0.0'
export const DHT_PROTOCOL_SUFFIX = '/kad/1.0.0'
export function gossipTopic(federationId: string): string {
  return `/hashmesh/records/1/${federationId}`
}

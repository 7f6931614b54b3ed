/** The sync and gossip bounds now live in the one limits table (constants.ts); this name is kept for its importers. */
export { FIRST_SEQ, GOSSIP_LIMITS, SYNC_LIMITS } from '../constants.js'

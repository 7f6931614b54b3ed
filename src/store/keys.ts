/**
 * LevelDB key layout (utf8 keys, binary values). One prefix per table; hex keys sort as bytes.
 *
 *   rec!<id>                          -> record bytes
 *   seq!<feed>!<seq:16>               -> record id (utf8)
 *   head!<feed>                       -> {seq, id} JSON
 *   sig!<type>:<value>!<id>!<index:4> -> ''            (signal value -> records carrying it)
 *   pdq!<id>                          -> the record's PDQ hashes, 32 bytes each in signal order  (written with
 *                                        the record; complete when meta!counts' pdqColumns equals its signals)
 *   rev!<author>!<type>:<value>       -> {by, reason, seq} JSON  (the author's revocation of its own signal)
 *   op!<type>:<value>!<member>        -> {opinion, id, seq, timestamp} JSON  (latest opinion per member)
 *   pend!<feed>!<seq:16>!<id>         -> record bytes  (verified, waiting for a gap to fill)
 *   eq!<feed>!<seq:16>                -> dag-cbor [bytesA, bytesB]  (equivocation proof)
 *   roster!<serial:16>                -> signed roster version (dag-cbor)
 *   meta!counts                       -> {records, signals, byKind} JSON
 */
export const SEP = '!'

export const seqPad = (seq: number): string => seq.toString().padStart(16, '0')
export const recordKey = (id: string): string => `rec!${id}`
export const seqKey = (feed: string, seq: number): string => `seq!${feed}!${seqPad(seq)}`
export const headKey = (feed: string): string => `head!${feed}`
export const signalIndexKey = (signalKey: string, id: string, index: number): string => `sig!${signalKey}!${id}!${index.toString().padStart(4, '0')}`
export const pdqColumnKey = (id: string): string => `pdq!${id}`
export const revocationKey = (author: string, signalKey: string): string => `rev!${author}!${signalKey}`
export const opinionKey = (signalKey: string, member: string): string => `op!${signalKey}!${member}`
export const pendingKey = (feed: string, seq: number, id: string): string => `pend!${feed}!${seqPad(seq)}!${id}`
export const proofKey = (feed: string, seq: number): string => `eq!${feed}!${seqPad(seq)}`
export const rosterKey = (serial: number): string => `roster!${seqPad(serial)}`
export const COUNTS_KEY = 'meta!counts'

/** Range bounds for every key starting with `prefix`. */
export function prefixRange(prefix: string): { gte: string; lt: string } {
  return { gte: prefix, lt: prefix + '\xff' }
}

export function parseSignalIndexKey(key: string): { signalKey: string; id: string; index: number } {
  const parts = key.split(SEP)
  return { signalKey: parts[1]!, id: parts[2]!, index: Number(parts[3]) }
}

/**
 * The token bucket both rate limits of the network layer use: new connections per source address
 * (inbound-limiter.ts) and sync requests per peer (peer-hygiene.ts). A bucket holds at most `burst` tokens
 * and refills at `rate` tokens a second; each action takes one.
 */
export interface TokenBucket { tokens: number; at: number }

export function fullBucket(burst: number, now: number): TokenBucket {
  return { tokens: burst, at: now }
}

/**
 * Refills the bucket to `now`, then reserves one token: returns the milliseconds to wait until that token
 * is due (0: now), or undefined, taking nothing, when the wait would exceed `maxWaitMs` (0: only a token
 * available now will do). A reserved token may leave the bucket negative: later callers wait longer.
 */
export function reserveToken(b: TokenBucket, now: number, rate: number, burst: number, maxWaitMs = 0): number | undefined {
  b.tokens = Math.min(burst, b.tokens + (Math.max(0, now - b.at) / 1000) * rate)
  b.at = now
  const waitMs = b.tokens >= 1 ? 0 : Math.ceil(((1 - b.tokens) / rate) * 1000)
  if (waitMs > maxWaitMs) return undefined
  b.tokens -= 1
  return waitMs
}

/**
 * The console's login refuses guesses: after MAX_FAILURES wrong secrets within WINDOW_MS, every login
 * (the right secret too) answers 429 RATE_LIMITED with Retry-After until the oldest failure leaves the
 * window. The API token is 256 random bits, but a console password file (password.ts) is chosen by
 * people. One counter for the node: the console listens on loopback, so a per-address count would be one
 * count anyway, and behind a proxy every client shares the proxy's address.
 */
import { fail } from '../../errors.js'

export const LOGIN_MAX_FAILURES = 5
export const LOGIN_WINDOW_MS = 60_000

export class LoginThrottle {
  private failures: number[] = []

  constructor(private readonly now: () => number = Date.now) {}

  /** Before a login is checked: throws RATE_LIMITED while too many recent logins failed. */
  check(): void {
    const now = this.now()
    this.failures = this.failures.filter((at) => now - at < LOGIN_WINDOW_MS)
    if (this.failures.length < LOGIN_MAX_FAILURES) return
    const retryAfterSeconds = Math.max(1, Math.ceil((this.failures[0]! + LOGIN_WINDOW_MS - now) / 1000))
    fail('RATE_LIMITED', `${this.failures.length} wrong logins in the last minute: try again in ${retryAfterSeconds} s`, { details: { retryAfterSeconds } })
  }

  failed(): void {
    this.failures.push(this.now())
  }
}

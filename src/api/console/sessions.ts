/**
 * Console sessions, in memory: a random session id (the HttpOnly cookie) maps to its CSRF token and
 * expiry. Nothing here is derived from the API token, so a session id or CSRF token that leaks says
 * nothing about it; a restart of the node logs everyone out.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto'

/** How long a session lasts after login (not extended by use: a reviewer logs in again each shift). */
export const SESSION_TTL_MS = 8 * 60 * 60 * 1000
/** Sessions kept at once; the oldest is dropped past this (each login makes one). */
export const MAX_SESSIONS = 64

export interface Session { id: string; csrf: string; expiresAt: number }

export class SessionStore {
  private readonly sessions = new Map<string, Session>()

  constructor(private readonly ttlMs = SESSION_TTL_MS, private readonly now: () => number = Date.now) {}

  create(): Session {
    const session = { id: randomToken(), csrf: randomToken(), expiresAt: this.now() + this.ttlMs }
    this.sessions.set(session.id, session)
    for (const [id, s] of this.sessions) if (s.expiresAt <= this.now()) this.sessions.delete(id)
    while (this.sessions.size > MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!)
    return session
  }

  /** The live session with this id, if any (an expired one is removed). */
  get(id: string | undefined): Session | undefined {
    if (!id) return undefined
    const session = this.sessions.get(id)
    if (!session) return undefined
    if (session.expiresAt <= this.now()) {
      this.sessions.delete(id)
      return undefined
    }
    return session
  }

  destroy(id: string): void {
    this.sessions.delete(id)
  }
}

export function randomToken(): string {
  return randomBytes(32).toString('base64url')
}

/** Constant-time comparison of two secrets given as strings. */
export function sameSecret(given: string | undefined, expected: string): boolean {
  if (typeof given !== 'string' || expected.length === 0) return false
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

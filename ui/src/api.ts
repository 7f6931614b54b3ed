/**
 * The console's one door to the node: fetch against /ui/api with the session cookie (HttpOnly, never
 * visible here) and the CSRF token, which lives in this module's memory only (no storage, no URL).
 */
export interface ApiError { code: string; message: string; status: number }

let csrf: string | undefined

export function setCsrf(token: string | undefined): void {
  csrf = token
}

export class ConsoleError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message)
  }
}

async function call<T>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
  const headers: Record<string, string> = {}
  if (method !== 'GET' && csrf) headers['x-csrf-token'] = csrf
  let payload: BodyInit | undefined
  if (body instanceof Blob) {
    payload = body
    headers['content-type'] = contentType || body.type || 'application/octet-stream'
  } else if (body !== undefined) {
    payload = JSON.stringify(body)
    headers['content-type'] = 'application/json'
  }
  const res = await fetch(`/ui/api${path}`, { method, headers, body: payload, credentials: 'same-origin', cache: 'no-store' })
  const text = await res.text()
  const json = text ? JSON.parse(text) : {}
  if (!res.ok) {
    const err = json?.error ?? { code: 'HTTP_' + res.status, message: res.statusText }
    if (res.status === 401 && path !== '/login') onUnauthorized?.()
    throw new ConsoleError(res.status, err.code, err.message)
  }
  return json as T
}

let onUnauthorized: (() => void) | undefined
export function whenUnauthorized(handler: () => void): void {
  onUnauthorized = handler
}

export const api = {
  get: <T>(path: string) => call<T>('GET', path),
  post: <T>(path: string, body?: unknown, contentType?: string) => call<T>('POST', path, body ?? {}, contentType),
}

/** Answers asked for before the page knows it is logged in (the overview on a first load: one round trip less). */
const early = new Map<string, Promise<unknown>>()

export function prefetch(path: string): void {
  const answer = call('GET', path)
  answer.catch(() => undefined) // consumed (or dropped) later; a 401 then shows the login form
  early.set(path, answer)
}

export function prefetched<T>(path: string): Promise<T> | undefined {
  const answer = early.get(path)
  early.delete(path)
  return answer as Promise<T> | undefined
}

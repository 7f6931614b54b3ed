/**
 * The HTTP door the exchange adapters are given (FetchContext.http). Adapters never open sockets: the node
 * hands them a client that refuses loopback, private and link-local destinations (node/exchange-http.ts,
 * built on the address rules of node/guarded-http.ts), with a size cap and a time-out per request.
 * Tests give a client that may reach 127.0.0.1 only through an explicit test-only option.
 */
export interface HttpRequest {
  url: string
  method?: 'GET' | 'POST'
  headers?: Record<string, string>
  /** A form or JSON body (POST). */
  body?: string
  /** Largest body accepted (bytes); over it the request fails with PAYLOAD_TOO_LARGE. */
  maxBytes?: number
  timeoutMs?: number
  signal?: AbortSignal
}

export interface HttpResponse {
  status: number
  /** Lower-case header names. */
  headers: Record<string, string | undefined>
  body: Buffer
  /** The URL answered (after redirects). */
  url: string
}

/**
 * Any status is an answer (304, 401, 429… are the adapter's to interpret); only a refused destination
 * (URL_REFUSED), a time-out (TIMEOUT), a body over the cap (PAYLOAD_TOO_LARGE) or a connection failure
 * (EXCHANGE_FETCH) throw.
 */
export type HttpGet = (request: HttpRequest) => Promise<HttpResponse>

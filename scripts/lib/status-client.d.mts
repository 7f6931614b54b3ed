/** Types of scripts/lib/status-client.mjs. */
export declare class StatusClient {
  /** `url`: the server's base URL (http://host:port); each request carries `token` and its number in `seqHeader`. */
  constructor(url: string, token: string, seqHeader: string)
  /** GET /status as request `seq`: the status code (-1: no answer) and when it was written (monotonicMs()). */
  ask(seq: number): Promise<{ status: number; askedAt: number }>
  close(): void
}

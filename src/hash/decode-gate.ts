/**
 * At most `maxActive` decodes at once, at most `maxQueued` waiting (first come, first served), and a BUSY
 * error past that. A decode's memory is its pixel count × 3 bytes until it has been hashed, so this count
 * times hash.maxImagePixels × 3 bounds what concurrent requests can make a node allocate; more decodes
 * than cores would only hold more memory, not finish sooner. Videos pass the same gate (ffmpeg's frames
 * are held in this process while they are hashed).
 */
import { HashmeshError } from '../errors.js'

/** Retry-After before any decode has been timed: a maximum-size image takes about a second here. */
const INITIAL_DECODE_MS = 1000
/** Weight of the newest decode in the running mean of decode times (the rest is history). */
const DECODE_MS_WEIGHT = 0.2
/** Retry-After stays within these: at least a second (HTTP's unit), at most a minute (a client should come back). */
const MIN_RETRY_AFTER_SECONDS = 1
const MAX_RETRY_AFTER_SECONDS = 60

export interface DecodeGateOptions {
  maxActive: number
  /** Callers waiting for a slot before new ones are refused with BUSY (0: refuse whenever all slots are busy). */
  maxQueued: number
}

interface Waiter {
  start: () => void
}

export class DecodeGate {
  private readonly maxActive: number
  private readonly maxQueued: number
  private readonly waiting: Waiter[] = []
  private running = 0
  private meanDecodeMs = INITIAL_DECODE_MS

  constructor(options: DecodeGateOptions) {
    if (!(options.maxActive >= 1) || !(options.maxQueued >= 0)) throw new RangeError(`bad decode gate limits ${JSON.stringify(options)}`)
    this.maxActive = options.maxActive
    this.maxQueued = options.maxQueued
  }

  get active(): number {
    return this.running
  }

  get queued(): number {
    return this.waiting.length
  }

  /** Seconds until a slot is likely free for a new caller: the queue ahead of it at the mean decode time. */
  retryAfterSeconds(): number {
    const seconds = Math.ceil((this.meanDecodeMs * (this.waiting.length + 1)) / this.maxActive / 1000)
    return Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(MIN_RETRY_AFTER_SECONDS, seconds))
  }

  /**
   * Runs `work` once a slot is free; the slot is released when it settles, resolved or rejected. A caller
   * whose signal aborts while it waits leaves the queue (rejected with the signal's reason).
   */
  async run<T>(work: () => Promise<T>, options: { signal?: AbortSignal } = {}): Promise<T> {
    options.signal?.throwIfAborted()
    if (this.running >= this.maxActive) await this.waitForSlot(options.signal)
    else this.running++
    const started = performance.now()
    try {
      return await work()
    } finally {
      this.meanDecodeMs += DECODE_MS_WEIGHT * (performance.now() - started - this.meanDecodeMs)
      this.release()
    }
  }

  private waitForSlot(signal: AbortSignal | undefined): Promise<void> {
    if (this.waiting.length >= this.maxQueued) {
      const retryAfterSeconds = this.retryAfterSeconds()
      throw new HashmeshError('BUSY', `${this.running} decodes running and ${this.waiting.length} waiting: retry in ${retryAfterSeconds} s`, { details: { retryAfterSeconds } })
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const at = this.waiting.indexOf(waiter)
        if (at >= 0) this.waiting.splice(at, 1)
        reject(signal!.reason)
      }
      const waiter: Waiter = {
        start: () => {
          signal?.removeEventListener('abort', onAbort)
          resolve()
        },
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.waiting.push(waiter)
    })
  }

  /** Hands the slot straight to the next waiter (running stays the same), or frees it. */
  private release(): void {
    const next = this.waiting.shift()
    if (next) next.start()
    else this.running--
  }
}

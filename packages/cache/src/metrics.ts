import type { FastifyRequest } from 'fastify'

export interface CacheMetrics {
  /** Answers from the store (fresh, or stale where allowed). */
  hits: number
  /** Requests forwarded because nothing usable was stored. */
  misses: number
  /** Hits that served a stale entry (max-stale, stale-while-revalidate, stale-if-error). */
  stale: number
  /** Stale entries refreshed by a 304. */
  revalidated: number
  /** Entries written to the store. */
  stores: number
  /** Body bytes written to the store. */
  storedBytes: number
  /** Requests the cache did not handle (unsafe methods, store errors). */
  bypass: number
  /** Requests that waited for another one's upstream fetch (collapsed). */
  collapsed: number
  /** Store errors (Redis down …). */
  errors: number
}

export function newMetrics(): CacheMetrics {
  return {
    hits: 0,
    misses: 0,
    stale: 0,
    revalidated: 0,
    stores: 0,
    storedBytes: 0,
    bypass: 0,
    collapsed: 0,
    errors: 0,
  }
}

/**
 * Counts store errors and logs them, one line per 10 s at most: a store that is down fails every request,
 * and a line each would bury the log.
 */
export class StoreErrors {
  readonly #metrics: CacheMetrics
  #lastLog = 0

  constructor(metrics: CacheMetrics) {
    this.#metrics = metrics
  }

  failed(request: FastifyRequest, err: unknown, message: string): void {
    this.#metrics.errors++
    const now = Date.now()
    if (now - this.#lastLog > 10_000) {
      this.#lastLog = now
      request.log.warn({ err }, message)
    }
  }
}

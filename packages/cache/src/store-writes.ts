import type { OutgoingHttpHeaders } from 'node:http'
import type { Writable } from 'node:stream'
import { HOP_BY_HOP } from '@proxykit/core'
import type { FastifyRequest } from 'fastify'
import { headerString } from './fields.js'
import { sameOriginKey } from './key.js'
import type { CacheMetrics, StoreErrors } from './metrics.js'
import type { ResolvedOptions } from './options.js'
import { decideStorage, deleteAt, type EntryPolicy } from './policy.js'
import type { CacheRequestState } from './state.js'
import { type CachedResponse, type CacheEntry, type CacheStore, varyRecord } from './store.js'
import { writeWhole } from './tee.js'

// Stored heads never keep connection-level fields, nor the ones a hit computes itself.
const DROP = new Set([...HOP_BY_HOP, 'age', 'content-length'])

/**
 * What the response path changes in the store: a new entry's head and writer, a stale entry refreshed by a
 * 304, a variant dropped, the URLs an unsafe method invalidates.
 */
export class StoreWrites {
  readonly #o: ResolvedOptions
  readonly #store: CacheStore
  readonly #metrics: CacheMetrics
  readonly #errors: StoreErrors

  constructor(options: ResolvedOptions, store: CacheStore, metrics: CacheMetrics, errors: StoreErrors) {
    this.#o = options
    this.#store = store
    this.#metrics = metrics
    this.#errors = errors
  }

  /** The writer for a response being stored (its body still to come), or null when the store declines. */
  open(
    request: FastifyRequest,
    st: CacheRequestState,
    statusCode: number,
    headers: OutgoingHttpHeaders,
    policy: EntryPolicy,
  ): Writable | null {
    const writer = this.#store.createWriteStream(st.key, this.#head(st, statusCode, headers, policy)) ?? null
    writer?.on('error', (err) => this.#writeFailed(request, err))
    return writer
  }

  #writeFailed(request: FastifyRequest, err: unknown): void {
    this.#errors.failed(request, err, '@proxykit/cache: store write failed')
  }

  #head(
    st: CacheRequestState,
    statusCode: number,
    headers: OutgoingHttpHeaders,
    policy: EntryPolicy,
  ): CachedResponse {
    const stored: Record<string, string | string[]> = {}
    for (const name in headers) {
      const v = headers[name]
      if (v === undefined || DROP.has(name)) continue
      stored[name] = typeof v === 'number' ? String(v) : v
    }
    if (stored.date === undefined) stored.date = new Date(policy.responseTime).toUTCString()
    const varyNames = (headerString(headers, 'vary') ?? '')
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter((s) => s !== '')
    if (st.varyExtra) varyNames.push(':key')
    const tagHeader = this.#o.tagHeader
    const tagValue = tagHeader === false ? undefined : headerString(headers, tagHeader)
    const tags =
      tagValue === undefined
        ? []
        : tagValue
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s !== '')
    return {
      statusCode,
      headers: stored,
      vary: varyRecord(varyNames, st.key.headers),
      tags,
      policy,
      deleteAt: deleteAt(policy, this.#o.keep),
      size: 0,
    }
  }

  /**
   * §4.3.3/§4.3.4: a 304 that selects the stale entry refreshes it, its fields replacing the stored ones.
   * The refreshed entry (its write under way, `onStored` told how it ended), or null when the merged head
   * is no longer storable (the variant is dropped) or the store declines it.
   */
  refresh(
    request: FastifyRequest,
    st: CacheRequestState,
    stale: CacheEntry,
    headers304: OutgoingHttpHeaders,
    now: number,
    onStored: (stored: boolean) => void,
  ): CacheEntry | null {
    const merged: OutgoingHttpHeaders = { ...stale.headers }
    for (const name in headers304) {
      if (
        DROP.has(name) ||
        name === 'content-encoding' ||
        name === 'content-range' ||
        name === 'cache-status' ||
        // Not shared (shareSetCookie: false): the 304's cookies go to the client that got it, the
        // refreshed entry stays without them, as it was stored.
        (name === 'set-cookie' && !this.#o.shareSetCookie)
      )
        continue
      const v = headers304[name]
      if (v !== undefined) merged[name] = v
    }
    const decision = decideStorage(request.headers, {}, stale.statusCode, merged, st.requestTime, now, {
      heuristicFraction: this.#o.heuristicFraction,
      shareSetCookie: this.#o.shareSetCookie,
      ttl: st.ttl,
      keep: this.#o.keep,
      targeted: this.#o.targeted,
    })
    if (!decision.storable) {
      this.dropVariant(st)
      return null
    }
    const cached = this.#head(st, stale.statusCode, merged, decision.policy!)
    // The selecting headers of the stored variant stay those it was stored under.
    cached.vary = stale.vary
    const writer = this.#store.createWriteStream(st.key, cached)
    if (writer === undefined) return null
    writer.on('error', (err) => this.#writeFailed(request, err))
    writeWhole(stale.body, writer, (ok, bytes) => {
      if (ok) {
        this.#metrics.stores++
        this.#metrics.storedBytes += bytes
      }
      onStored(ok)
    })
    return { ...cached, size: stale.body.length, body: stale.body }
  }

  /** A 2xx/3xx answer to a stale request that turned out not storable replaces nothing: drop the old copy. */
  dropVariant(st: CacheRequestState): void {
    Promise.resolve(this.#store.delete({ url: st.url })).catch(() => {})
  }

  /** §4.4: an unsafe method's success invalidates its URL and the same-origin Location/Content-Location. */
  invalidate(url: string, headers: OutgoingHttpHeaders): void {
    const urls = new Set([url])
    for (const h of ['location', 'content-location']) {
      const k = sameOriginKey(headerString(headers, h), url)
      if (k !== null) urls.add(k)
    }
    for (const u of urls) Promise.resolve(this.#store.delete({ url: u })).catch(() => {})
  }
}

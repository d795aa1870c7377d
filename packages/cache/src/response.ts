import type { OutgoingHttpHeaders } from 'node:http'
import { Readable, type Writable } from 'node:stream'
import type { UpstreamResponse } from '@proxykit/core'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Collapsing } from './collapsing.js'
import { announcedLength } from './fields.js'
import type { CacheMetrics } from './metrics.js'
import type { ResolvedOptions } from './options.js'
import { currentAge, decideStorage, staleIfErrorAllows, validatorsMatch } from './policy.js'
import { type CacheRequestState, cacheState } from './state.js'
import { appendStatus, ForwardStatusMemo, forwardStatus, hitStatus, joinedStatus } from './status.js'
import type { CacheEntry, CacheStore } from './store.js'
import type { StoreWrites } from './store-writes.js'
import { teeInto, writeWhole } from './tee.js'

const noop = () => {}

/** What becomes of a response: `replace` answers instead of it; `writer` takes a copy of its body. */
interface Outcome {
  headers: OutgoingHttpHeaders
  writer: Writable | null
  replace: { statusCode: number; headers: OutgoingHttpHeaders; body: Buffer } | null
}

/**
 * The response path of a request the cache forwarded: the proxies' response filter and plain routes'
 * `onSend` both decide here what happens to the response (invalidation, a 304 that refreshes a stale
 * entry, stale-if-error, storing), put Cache-Status on it, and tee its body into the store.
 */
export class ResponsePath {
  readonly #o: ResolvedOptions
  readonly #store: CacheStore
  readonly #metrics: CacheMetrics
  readonly #collapsing: Collapsing
  readonly #writes: StoreWrites
  readonly #notStored: ForwardStatusMemo
  /**
   * Stored fields not passed on (`stripTargetedCacheControl`): kept in the store, since a 304's refresh
   * judges the merged head again, and dropped from every answer.
   */
  readonly #hidden: ReadonlySet<string>

  constructor(
    options: ResolvedOptions,
    store: CacheStore,
    metrics: CacheMetrics,
    hidden: ReadonlySet<string>,
    collapsing: Collapsing,
    writes: StoreWrites,
  ) {
    this.#o = options
    this.#store = store
    this.#metrics = metrics
    this.#hidden = hidden
    this.#collapsing = collapsing
    this.#writes = writes
    this.#notStored = new ForwardStatusMemo(options.name)
  }

  #hide(headers: OutgoingHttpHeaders): void {
    for (const name of this.#hidden) delete headers[name]
  }

  /** The ResponseFilter the proxies call before writing the head (bound: pushed as is). */
  readonly filter = (request: FastifyRequest, response: UpstreamResponse): void => {
    const st = cacheState(request)
    if (st === null || st.handled) return
    st.handled = true
    const out = this.#respond(
      request,
      st,
      response.statusCode,
      response.headers,
      announcedLength(response.headers),
    )
    if (this.#hidden.size > 0) this.#hide(out.replace?.headers ?? response.headers)
    if (out.replace !== null) {
      // The upstream body is not wanted (a 304's is empty, an error's is replaced): drop it quietly.
      response.body?.on('error', noop).destroy()
      response.statusCode = out.replace.statusCode
      response.headers = out.replace.headers
      response.body = request.raw.method === 'HEAD' ? null : Readable.from([out.replace.body])
      return
    }
    const writer = out.writer
    if (writer !== null) {
      if (response.body === null) this.#stored(st, writeWhole.bind(null, Buffer.alloc(0), writer))
      else {
        const body = response.body
        const expected = announcedLength(response.headers)
        this.#stored(st, (cb) => teeInto(body, writer, expected, cb))
      }
    }
  }

  /** Plain routes' response phase (`onSend`). */
  onSend(request: FastifyRequest, reply: FastifyReply, payload: unknown): unknown {
    const st = cacheState(request)
    if (st === null || st.handled) return payload
    st.handled = true
    const headers = reply.getHeaders() as OutgoingHttpHeaders
    const length =
      typeof payload === 'string'
        ? Buffer.byteLength(payload)
        : Buffer.isBuffer(payload)
          ? payload.length
          : payload == null
            ? 0
            : announcedLength(headers)
    const out = this.#respond(request, st, reply.statusCode, headers, length)
    if (this.#hidden.size > 0) {
      if (out.replace !== null) this.#hide(out.replace.headers)
      for (const name of this.#hidden) reply.removeHeader(name)
    }
    if (out.replace !== null) {
      if (payload instanceof Readable) payload.on('error', noop).destroy()
      reply.code(out.replace.statusCode)
      for (const name in headers) if (out.replace.headers[name] === undefined) reply.removeHeader(name)
      reply.headers(out.replace.headers)
      return out.replace.body
    }
    if (out.headers['cache-status'] !== undefined) reply.header('cache-status', out.headers['cache-status'])
    const writer = out.writer
    if (writer === null) return payload
    if (payload instanceof Readable) {
      const expected = announcedLength(headers)
      this.#stored(st, (cb) => teeInto(payload, writer, expected, cb))
    } else if (typeof payload === 'string' || Buffer.isBuffer(payload) || payload == null) {
      const buf =
        payload == null ? Buffer.alloc(0) : typeof payload === 'string' ? Buffer.from(payload) : payload
      this.#stored(st, writeWhole.bind(null, buf, writer))
    } else {
      writer.destroy()
      st.flight?.resolve(false)
    }
    return payload
  }

  #stored(st: CacheRequestState, write: (cb: (stored: boolean, bytes: number) => void) => void): void {
    write((stored, bytes) => {
      if (stored) {
        this.#metrics.stores++
        this.#metrics.storedBytes += bytes
        this.#collapsing.stored(st.url)
      }
      st.flight?.resolve(stored)
    })
  }

  /**
   * Decides what happens to a response (shared by the proxies' filter and onSend): invalidation, a 304 that
   * refreshes a stale entry, stale-if-error, or storing. Sets Cache-Status on `headers`.
   */
  #respond(
    request: FastifyRequest,
    st: CacheRequestState,
    statusCode: number,
    headers: OutgoingHttpHeaders,
    bodyLength: number | null,
  ): Outcome {
    const name = this.#o.name
    const none = { headers, writer: null, replace: null }
    if (st.invalidate) {
      if (statusCode >= 200 && statusCode < 400) this.#writes.invalidate(st.url, headers)
      this.#setStatus(request, headers, this.#notStored.get('bypass', statusCode, 'method'))
      return none
    }
    const now = Date.now()
    const stale = st.stale
    if (stale !== null && statusCode === 304 && validatorsMatch(stale.policy, headers)) {
      // §4.3.3/§4.3.4: the stored response is still good; the 304's fields replace the stored ones.
      const flight = st.flight
      const refreshed = this.#writes.refresh(request, st, stale, headers, now, (ok) => flight?.resolve(ok))
      if (refreshed === null) flight?.resolve(false)
      this.#metrics.revalidated++
      if (st.clientConditional) {
        this.#setStatus(request, headers, forwardStatus(name, 'stale', 304, refreshed !== null, null))
        return none
      }
      const entry = refreshed ?? stale
      const member = forwardStatus(
        name,
        'stale',
        304,
        refreshed !== null,
        entry.policy.lifetime - currentAge(entry.policy, now),
      )
      const replace = this.#replacement(request, entry, now, member)
      // The 304's cookies were set for this client: they go to it, whether or not they were stored.
      const cookies = headers['set-cookie']
      if (cookies !== undefined) replace.headers['set-cookie'] = cookies
      return { headers, writer: null, replace }
    }
    if (stale !== null && statusCode === 304 && !st.clientConditional) {
      // §4.3.4: a 304 without the stored validator (none at all, or another ETag) does not select the
      // stored response, so it updates nothing; but it is the origin's answer to our own conditional
      // request, which the client never made, and a bare 304 would be no answer for it. The origin did
      // say that what we asked about is current: the stored response goes out as it is (not refreshed,
      // so the next request validates again), rather than a second, unconditional round trip.
      st.flight?.resolve(false)
      const member = forwardStatus(
        name,
        'stale',
        304,
        false,
        stale.policy.lifetime - currentAge(stale.policy, now),
        'not-selected',
      )
      return { headers, writer: null, replace: this.#replacement(request, stale, now, member) }
    }
    if (
      stale !== null &&
      statusCode >= 500 &&
      statusCode <= 504 &&
      staleIfErrorAllows(stale.policy, st.cc, now)
    ) {
      this.#metrics.hits++
      this.#metrics.stale++
      const member = `${hitStatus(name, stale.policy.lifetime - currentAge(stale.policy, now), 'stale-if-error')}; fwd=stale; fwd-status=${statusCode}`
      st.flight?.resolve(false)
      return { headers, writer: null, replace: this.#replacement(request, stale, now, member) }
    }
    if (!st.mayStore) {
      this.#setStatus(request, headers, this.#notStored.get(st.fwd, statusCode, st.detail))
      st.flight?.resolve(false)
      return none
    }
    const decision = decideStorage(request.headers, st.cc, statusCode, headers, st.requestTime, now, {
      heuristicFraction: this.#o.heuristicFraction,
      shareSetCookie: this.#o.shareSetCookie,
      ttl: st.ttl,
      keep: this.#o.keep,
      targeted: this.#o.targeted,
    })
    // A body announced larger than the store keeps is not offered to it: it would only be abandoned
    // while it streams, after Cache-Status had already said `stored`.
    const limit = this.#store.maxEntrySize
    const tooBig = bodyLength !== null && limit !== undefined && bodyLength > limit
    if (!decision.storable || statusCode === 206 || statusCode === 304 || tooBig) {
      if (stale !== null && statusCode < 400) this.#writes.dropVariant(st)
      const why = decision.storable && tooBig ? 'too-big' : decision.reason
      this.#setStatus(request, headers, this.#notStored.get(st.fwd, statusCode, st.detail ?? why))
      if (st.flight !== null) {
        this.#collapsing.markUncacheable(st.url)
        st.flight.resolve(false)
      }
      return none
    }
    const writer = this.#writes.open(request, st, statusCode, headers, decision.policy!)
    const ttl = decision.policy!.lifetime - decision.policy!.initialAge
    this.#setStatus(
      request,
      headers,
      forwardStatus(name, st.fwd, statusCode, writer !== null, ttl, st.detail),
    )
    if (writer === null) st.flight?.resolve(false)
    return { headers, writer, replace: null }
  }

  #setStatus(request: FastifyRequest, headers: OutgoingHttpHeaders, member: string): void {
    request.proxy.cache = member
    appendStatus(headers, member)
  }

  /** A stored entry answering instead of the response (a 304 that selected it, stale-if-error). */
  #replacement(request: FastifyRequest, entry: CacheEntry, now: number, member: string) {
    const headers: OutgoingHttpHeaders = { ...entry.headers }
    delete headers['cache-status']
    headers['content-length'] = entry.body.length
    headers.age = String(Math.floor(currentAge(entry.policy, now)))
    headers['cache-status'] = joinedStatus(entry, member)
    request.proxy.cache = member
    return { statusCode: entry.statusCode, headers, body: entry.body }
  }
}

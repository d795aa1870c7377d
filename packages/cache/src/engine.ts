import { randomBytes } from 'node:crypto'
import { type IncomingHttpHeaders, IncomingMessage, type OutgoingHttpHeaders } from 'node:http'
import { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  answersThroughFastify,
  FORWARD_PATH,
  GatewayTimeoutError,
  HOP_BY_HOP,
  hookHeaders,
  kOriginalTarget,
  RESPONSE_OWNED,
  sendError,
  setResponseOnReply,
  type UpstreamResponse,
} from '@proxykit/core'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { requestUrl, sameOriginKey } from './key.js'
import type { NormalizedRoute, ResolvedOptions } from './options.js'
import {
  currentAge,
  type Directives,
  decideStorage,
  deleteAt,
  type EntryPolicy,
  evaluate,
  notModified,
  requestDirectives,
  staleIfErrorAllows,
  validatorsMatch,
} from './policy.js'
import { rangeAnswer } from './range.js'
import { appendStatus, type Forward, ForwardStatusMemo, forwardStatus, hitStatus } from './status.js'
import { type CachedResponse, type CacheEntry, type CacheKey, type CacheStore, varyRecord } from './store.js'
import { teeInto, writeWhole } from './tee.js'

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

interface Flight {
  promise: Promise<boolean>
  resolve(stored: boolean): void
}

/** Per-request state of a request the cache forwards. */
export interface CacheRequestState {
  url: string
  key: CacheKey
  requestTime: number
  cc: Directives
  fwd: Forward
  detail: string | undefined
  /** The stored entry being revalidated (and used for stale-if-error). */
  stale: CacheEntry | null
  /** The client sent its own conditional headers (a 304 goes back to it as is). */
  clientConditional: boolean
  mayStore: boolean
  ttl: number | null
  varyExtra: boolean
  flight: Flight | null
  /** Unsafe method: invalidate on success (§4.4). */
  invalidate: boolean
  handled: boolean
}

declare module 'fastify' {
  interface FastifyRequest {
    /** @internal @proxykit/cache's per-request state. */
    proxykitCacheState: CacheRequestState | null
  }
}

// Stored heads never keep connection-level fields, nor the ones a hit computes itself.
const DROP = new Set([...HOP_BY_HOP, 'age', 'content-length'])
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE'])
/** Headers of a 304 answered from a fresh entry (RFC 9110 §15.4.5). */
const NOT_MODIFIED_HEADERS = [
  'cache-control',
  'content-location',
  'date',
  'etag',
  'expires',
  'vary',
  'last-modified',
]
const kFlat = Symbol('flatHeaders')
const noop = () => {}
/** How long a not-storable answer stops collapsing for its URL, and how many such URLs are remembered. */
const PASS_MS = 120_000
/** How often an instance waiting for another one's fetch (a held store lock) looks for its entry. */
const LOCK_POLL_MS = 20
const PASS_MARKS = 10_000

/** A hit's head for one (age, ttl, why): see `#hitHead`. */
interface HitHead {
  age: number
  ttl: number
  why: string | undefined
  member: string
  out: string[]
}
const kHit = Symbol('hitHead')

type Entry = CacheEntry & { [kFlat]?: string[]; [kHit]?: HitHead }

function flatHeaders(entry: Entry, hidden: ReadonlySet<string>): string[] {
  let flat = entry[kFlat]
  if (flat !== undefined) return flat
  flat = []
  for (const name in entry.headers) {
    if (name === 'cache-status' || hidden.has(name)) continue
    const v = entry.headers[name]!
    if (Array.isArray(v)) for (const item of v) flat.push(name, item)
    else flat.push(name, v)
  }
  flat.push('content-length', String(entry.body.length))
  entry[kFlat] = flat
  return flat
}

// Fields a hit computes itself: a hook's value for them is not taken (core's rule for every answer, plus
// the hit's own Age and Cache-Status).
const HIT_OWNED: ReadonlySet<string> = new Set([...RESPONSE_OWNED, 'age', 'cache-status'])

/**
 * A hit's head with the fields the request's own hooks set (`reply.header()` before the cache answered):
 * theirs replace the stored ones of the same name, since they were made for this request. `out` itself
 * is never changed (it may be shared by other hits of the same second).
 */
function withOwnHeaders(out: string[], own: OutgoingHttpHeaders): string[] {
  let names: Set<string> | null = null
  for (const name in own) {
    if (own[name] !== undefined && !HIT_OWNED.has(name)) {
      names ??= new Set()
      names.add(name)
    }
  }
  if (names === null) return out
  const merged: string[] = []
  for (let i = 0; i < out.length; i += 2) if (!names.has(out[i]!)) merged.push(out[i]!, out[i + 1]!)
  for (const name of names) {
    const v = own[name]!
    if (Array.isArray(v)) for (const item of v) merged.push(name, String(item))
    else merged.push(name, String(v))
  }
  return merged
}

/** The head of a 304 answered from a fresh entry (RFC 9110 §15.4.5), before the hooks' headers. */
function notModifiedHead(entry: CacheEntry, age: number, member: string): string[] {
  const out: string[] = []
  for (const name of NOT_MODIFIED_HEADERS) {
    const v = entry.headers[name]
    if (v !== undefined) out.push(name, Array.isArray(v) ? v.join(', ') : v)
  }
  out.push('age', String(Math.floor(age)), 'cache-status', joinedStatus(entry, member))
  return out
}

function joinedStatus(entry: CacheEntry, member: string): string {
  const prev = entry.headers['cache-status']
  return prev === undefined ? member : `${Array.isArray(prev) ? prev.join(', ') : prev}, ${member}`
}

/** The body length a `Content-Length` announces, or null when there is none (or it is not a number). */
function announcedLength(h: OutgoingHttpHeaders): number | null {
  const v = h['content-length']
  if (typeof v === 'number') return v
  // Several Content-Length values are not one announced length (as before: never compared).
  return typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : null
}

function headerString(h: OutgoingHttpHeaders | IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name]
  if (v === undefined) return undefined
  return Array.isArray(v) ? v.join(', ') : String(v)
}

export class HttpCache {
  readonly metrics: CacheMetrics = {
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
  readonly store: CacheStore
  readonly #o: ResolvedOptions
  readonly #fastify: FastifyInstance
  readonly #flights = new Map<string, Flight>()
  readonly #revalidating = new Set<string>()
  /** URLs whose last answer was not storable: no collapsing until then (ms since the epoch). */
  readonly #passUntil = new Map<string, number>()
  /** A per-instance secret marking our own background revalidation requests. */
  readonly #token = randomBytes(16).toString('hex')
  #lastErrorLog = 0
  readonly #notStored: ForwardStatusMemo
  /**
   * Stored fields not passed on (`stripTargetedCacheControl`): kept in the store, since a 304's refresh
   * judges the merged head again, and dropped from every answer.
   */
  readonly #hidden: ReadonlySet<string>

  constructor(fastify: FastifyInstance, options: ResolvedOptions, store: CacheStore) {
    this.#fastify = fastify
    this.#o = options
    this.store = store
    this.#notStored = new ForwardStatusMemo(options.name)
    this.#hidden = new Set(options.stripTargetedCacheControl ? options.targeted : [])
  }

  #hide(headers: OutgoingHttpHeaders): void {
    for (const name of this.#hidden) delete headers[name]
  }

  // ---- lookup (preHandler) -------------------------------------------------------------------------

  lookup(
    request: FastifyRequest,
    reply: FastifyReply,
    route: NormalizedRoute,
    done: (err?: Error) => void,
  ): void {
    const method = request.raw.method!
    if (method !== 'GET' && method !== 'HEAD') {
      if (!SAFE.has(method)) {
        const url = requestUrl(request)
        if (url !== null) this.#forward(request, this.#state(request, url, null, 'bypass', false), 'method')
      }
      done()
      return
    }
    const headers = request.headers
    // A GET with content (RFC 9110 §9.3.1: no defined semantics, yet some origins answer by it) is passed
    // on untouched but never shares an answer: the key has no room for the body, so storing the answer,
    // or letting other misses wait on it (collapsing), would serve it to GETs without one.
    if (
      headers['transfer-encoding'] !== undefined ||
      (headers['content-length'] !== undefined && headers['content-length'] !== '0')
    ) {
      const url = requestUrl(request)
      if (url !== null)
        this.#forward(request, this.#state(request, url, null, 'bypass', false), 'request-body')
      done()
      return
    }
    // An Upgrade (WebSocket) request is a tunnel being opened, never a cacheable exchange.
    const url = headers.upgrade === undefined ? requestUrl(request) : null
    if (url === null) {
      done()
      return
    }
    let background = false
    if (headers['x-proxykit-cache-revalidate'] !== undefined) {
      background = headers['x-proxykit-cache-revalidate'] === this.#token
      delete headers['x-proxykit-cache-revalidate']
    }
    let key: CacheKey
    try {
      key =
        route.key === null ? { url, headers } : { url, headers: { ...headers, ':key': route.key(request) } }
    } catch (err) {
      // The route's own key function failed: that is the app's error to answer (500), not a cache miss.
      done(err as Error)
      return
    }
    let result: ReturnType<CacheStore['get']>
    try {
      result = this.store.get(key)
    } catch (err) {
      this.#storeFailed(request, err, url, key, done)
      return
    }
    if (result instanceof Promise)
      result
        .then(
          (entry) => this.#decide(request, reply, route, key, entry, background, done),
          (err) => this.#storeFailed(request, err, url, key, done),
        )
        .catch((err: unknown) => request.log.error({ err }, '@proxykit/cache: lookup failed'))
    else this.#decide(request, reply, route, key, result, background, done)
  }

  #storeFailed(request: FastifyRequest, err: unknown, url: string, key: CacheKey, done: () => void): void {
    this.metrics.errors++
    const now = Date.now()
    if (now - this.#lastErrorLog > 10_000) {
      this.#lastErrorLog = now
      request.log.warn({ err }, '@proxykit/cache: store unavailable, bypassing the cache')
    }
    const st = this.#state(request, url, key, 'bypass', false)
    st.detail = 'store-error'
    this.#forward(request, st, 'store-error')
    done()
  }

  #state(
    request: FastifyRequest,
    url: string,
    key: CacheKey | null,
    fwd: Forward,
    mayStore: boolean,
  ): CacheRequestState {
    const st: CacheRequestState = {
      url,
      key: key ?? { url, headers: request.headers },
      requestTime: Date.now(),
      cc: {},
      fwd,
      detail: undefined,
      stale: null,
      clientConditional: false,
      mayStore,
      ttl: null,
      varyExtra: key !== null && key.headers[':key'] !== undefined,
      flight: null,
      invalidate: fwd === 'bypass' && !SAFE.has(request.raw.method!),
      handled: false,
    }
    request.proxykitCacheState = st
    return st
  }

  #decide(
    request: FastifyRequest,
    reply: FastifyReply,
    route: NormalizedRoute,
    key: CacheKey,
    found: CacheEntry | null | undefined,
    background: boolean,
    done: () => void,
  ): void {
    // The request's headers (plus the route's ':key' part, when it has one): read from the key rather than
    // through Fastify's `request.headers` getter again.
    const headers = key.headers
    const { cc, pragmaNoCache } = requestDirectives(headers)
    const now = Date.now()
    const auth = headers.authorization !== undefined
    let entry: CacheEntry | null = found ?? null
    let fwd: Forward = found === undefined ? 'uri-miss' : found === null ? 'vary-miss' : 'miss'
    let detail: string | undefined
    if (entry !== null && auth && !entry.policy.authOk) {
      // §3.5: a response stored without permission for authenticated requests must not answer one.
      entry = null
      fwd = 'miss'
      detail = 'authorization'
    }
    if (entry !== null) {
      const verdict = background ? 'validate' : evaluate(entry.policy, cc, pragmaNoCache, now)
      if (verdict === 'fresh' || verdict === 'stale-ok' || verdict === 'stale-revalidate') {
        this.#serve(request, reply, headers, entry, now, verdict === 'fresh' ? undefined : verdict)
        if (verdict === 'stale-revalidate') this.#revalidateInBackground(request, key.url)
        return
      }
      fwd = verdict === 'request' ? 'request' : 'stale'
    }
    if (cc['only-if-cached'] !== undefined) {
      // §5.2.1.7: nothing usable is stored, and the client forbids going upstream.
      const member = `${this.#o.name}; detail=only-if-cached`
      request.proxy.cache = member
      reply.header('cache-status', member)
      sendError(reply, new GatewayTimeoutError('only-if-cached and nothing usable is stored'))
      return
    }
    const method = request.raw.method!
    const st = this.#state(request, key.url, key, fwd, method === 'GET' && cc['no-store'] === undefined)
    st.cc = cc
    st.ttl = route.ttl
    st.detail = detail
    st.stale = entry
    st.clientConditional =
      headers['if-none-match'] !== undefined || headers['if-modified-since'] !== undefined
    const collapse = this.#o.collapse && !auth && !background && !this.#uncacheable(key.url, now)
    const flight = collapse ? this.#flights.get(key.url) : undefined
    if (flight !== undefined) {
      this.metrics.collapsed++
      this.#wait(request, reply, route, key, st, flight, done)
      return
    }
    if (method === 'GET' && collapse && st.mayStore && this.store.acquire !== undefined) {
      this.#leadAcross(request, reply, key, st, done)
      return
    }
    this.#lead(request, reply, st, method === 'GET' && collapse)
    done()
  }

  /**
   * A cold miss on a store shared with other instances (one that offers `acquire`): this process's
   * flight is opened at once (its own concurrent misses wait on it as usual), then the store's lock for
   * the URL decides across instances. The holder goes upstream and releases the lock when its flight
   * ends (stored, not storable or failed); an instance that finds the lock held polls the store until
   * the entry appears (a hit, `collapsed`), the lock goes, or `collapseTimeout` passes, and then goes
   * upstream itself. A store error means no collapsing, an ordinary miss.
   */
  #leadAcross(
    request: FastifyRequest,
    reply: FastifyReply,
    key: CacheKey,
    st: CacheRequestState,
    done: () => void,
  ): void {
    const store = this.store as Required<Pick<CacheStore, 'acquire' | 'release' | 'locked' | 'get'>>
    const flight = this.#openFlight(reply, st)
    const goUpstream = () => {
      this.#lead(request, reply, st, false)
      done()
    }
    store.acquire(key, this.#o.collapseTimeout).then((token) => {
      if (token !== null) {
        flight.promise.then(() => store.release(key, token)).catch(noop)
        goUpstream()
        return
      }
      this.#awaitOther(request, key).then((entry) => {
        if (entry === null) {
          goUpstream()
          return
        }
        this.metrics.collapsed++
        flight.resolve(true)
        this.#serve(request, reply, request.headers, entry, Date.now(), 'collapsed')
      }, goUpstream)
    }, goUpstream)
  }

  /** The entry another instance is fetching, once stored and usable here; null to go upstream. */
  async #awaitOther(request: FastifyRequest, key: CacheKey): Promise<CacheEntry | null> {
    const store = this.store as Required<Pick<CacheStore, 'locked' | 'get'>>
    const usable = (entry: CacheEntry | null | undefined): CacheEntry | null => {
      if (!entry) return null
      const { cc, pragmaNoCache } = requestDirectives(key.headers)
      const verdict = evaluate(entry.policy, cc, pragmaNoCache, Date.now())
      return verdict === 'fresh' || verdict === 'stale-ok' ? entry : null
    }
    const deadline = Date.now() + this.#o.collapseTimeout
    while (Date.now() < deadline && !request.raw.destroyed) {
      await sleep(LOCK_POLL_MS)
      const found = usable(await store.get(key))
      if (found !== null) return found
      // The holder may write and release between the read above and this check: read once more.
      if (!(await store.locked(key))) return usable(await store.get(key))
    }
    return null
  }

  /**
   * Varnish's hit-for-miss: once a URL answered with something not storable, concurrent misses for it stop
   * waiting for each other for a while (each would otherwise queue behind the previous one's round trip).
   * Storing a response for the URL lifts the mark.
   */
  #uncacheable(url: string, now: number): boolean {
    const until = this.#passUntil.get(url)
    if (until === undefined) return false
    if (until > now) return true
    this.#passUntil.delete(url)
    return false
  }

  #markUncacheable(url: string): void {
    if (this.#passUntil.size >= PASS_MARKS) {
      // Oldest first (insertion order): a bounded map, never a leak.
      const oldest = this.#passUntil.keys().next().value
      if (oldest !== undefined) this.#passUntil.delete(oldest)
    }
    this.#passUntil.delete(url)
    this.#passUntil.set(url, Date.now() + PASS_MS)
  }

  #lead(request: FastifyRequest, reply: FastifyReply, st: CacheRequestState, canLead: boolean): void {
    this.metrics.misses++
    const entry = st.stale
    if (entry !== null && !st.clientConditional) {
      // §4.3.1: validate the stored response with its own validators (the proxies send request.headers).
      const headers = request.headers
      if (entry.policy.etag !== null) headers['if-none-match'] = entry.policy.etag
      if (entry.policy.lastModified !== null) headers['if-modified-since'] = entry.policy.lastModified
    }
    if (canLead && this.#o.collapse && st.mayStore && !this.#flights.has(st.url)) this.#openFlight(reply, st)
    this.#forward(request, st, undefined)
  }

  #openFlight(reply: FastifyReply, st: CacheRequestState): Flight {
    let resolve!: (stored: boolean) => void
    const promise = new Promise<boolean>((r) => {
      resolve = r
    })
    const flight: Flight = {
      promise,
      resolve: (stored) => {
        clearTimeout(timer)
        if (this.#flights.get(st.url) === flight) this.#flights.delete(st.url)
        resolve(stored)
      },
    }
    const timer = setTimeout(() => flight.resolve(false), this.#o.collapseTimeout)
    timer.unref()
    this.#flights.set(st.url, flight)
    st.flight = flight
    // A leader whose response never reaches the cache (the request failed, the client left) must not
    // keep its waiters until the timeout. A listener on this response only, rather than an onResponse
    // hook on every route: that hook alone made Fastify time and watch every response it served.
    // (A response's 'close' comes when it ends, and when its connection goes first.)
    reply.raw.once('close', () => {
      if (!st.handled) flight.resolve(false)
    })
    return flight
  }

  #wait(
    request: FastifyRequest,
    reply: FastifyReply,
    route: NormalizedRoute,
    key: CacheKey,
    st: CacheRequestState,
    flight: Flight,
    done: () => void,
  ): void {
    flight.promise.then(async (stored) => {
      if (stored && !request.raw.destroyed) {
        try {
          const entry = await this.store.get(key)
          const headers = request.headers
          if (entry && (headers.authorization === undefined || entry.policy.authOk)) {
            const now = Date.now()
            const { cc, pragmaNoCache } = requestDirectives(headers)
            const verdict = evaluate(entry.policy, cc, pragmaNoCache, now)
            if (verdict === 'fresh' || verdict === 'stale-ok') {
              this.#serve(request, reply, headers, entry, now, 'collapsed')
              return
            }
          }
        } catch {
          // fall through: go upstream like any miss
        }
      }
      // Not storable, too big, or failed: this request goes upstream itself.
      void route
      this.#lead(request, reply, st, false)
      done()
    })
  }

  #forward(request: FastifyRequest, st: CacheRequestState, detail: string | undefined): void {
    if (detail !== undefined) st.detail = detail
    if (st.fwd === 'bypass') this.metrics.bypass++
    request.proxy.responseFilters.push(this.filter)
  }

  // ---- answering from the store -------------------------------------------------------------------

  #serve(
    request: FastifyRequest,
    reply: FastifyReply,
    headers: IncomingHttpHeaders,
    entry: CacheEntry,
    now: number,
    why?: string,
  ): void {
    const age = currentAge(entry.policy, now)
    const ttl = entry.policy.lifetime - age
    if (why !== undefined && why !== 'collapsed') this.metrics.stale++
    this.metrics.hits++
    const head = this.#hitHead(entry as Entry, Math.floor(age), Math.round(ttl), why)
    const member = head.member
    request.proxy.cache = member
    const conditional = headers['if-none-match'] !== undefined || headers['if-modified-since'] !== undefined
    const notModifiedHit =
      conditional &&
      entry.statusCode === 200 &&
      notModified(entry.policy, headers, headerString(entry.headers, 'date'))
    if (answersThroughFastify(reply))
      this.#serveThroughFastify(reply, entry, age, member, notModifiedHit, head)
    else this.#serveRaw(request, reply, headers, entry, age, member, notModifiedHit, head)
  }

  /**
   * The fast path: after `reply.hijack()`, one `writeHead(status, flatHeaders)` and one `end(body)`, with
   * the headers the request's own hooks set (CORS, security headers …) merged in: theirs replace the
   * stored ones of the same name, as they would on any answer (read before the reply is hijacked).
   */
  #serveRaw(
    request: FastifyRequest,
    reply: FastifyReply,
    headers: IncomingHttpHeaders,
    entry: CacheEntry,
    age: number,
    member: string,
    notModifiedHit: boolean,
    head: HitHead,
  ): void {
    const res = reply.raw
    const own = hookHeaders(reply)
    reply.hijack()
    if (notModifiedHit) {
      res.writeHead(304, withOwnHeaders(notModifiedHead(entry, age, member), own))
      res.end()
      return
    }
    const method = request.raw.method
    // Range (RFC 9110 §14) only for GET: a 206 or 416 from the stored 200 (range.ts), or the whole of it.
    const ranged =
      method === 'GET' && headers.range !== undefined ? rangeAnswer(headers, entry, head.out) : null
    if (ranged !== null) {
      res.writeHead(ranged.statusCode, withOwnHeaders(ranged.headers, own))
      if (Array.isArray(ranged.body)) for (const part of ranged.body) res.write(part)
      else res.write(ranged.body)
      res.end()
      return
    }
    res.writeHead(entry.statusCode, withOwnHeaders(head.out, own))
    if (method === 'HEAD') res.end()
    else res.end(entry.body)
  }

  /**
   * The route has `onSend` hooks of the app's (@fastify/compress …): the hit goes through `reply.send` so
   * they run on it as on any answer. The stored body is what the upstream sent (the response filter
   * stores it before `onSend`), so one entry serves every encoding the hooks produce.
   */
  #serveThroughFastify(
    reply: FastifyReply,
    entry: CacheEntry,
    age: number,
    member: string,
    notModifiedHit: boolean,
    head: HitHead,
  ): void {
    const out = notModifiedHit ? notModifiedHead(entry, age, member) : head.out
    const headers: OutgoingHttpHeaders = {}
    for (let i = 0; i < out.length; i += 2) {
      const name = out[i]!
      const prev = headers[name]
      headers[name] =
        prev === undefined ? out[i + 1]! : [...(Array.isArray(prev) ? prev : [String(prev)]), out[i + 1]!]
    }
    // A hit's own length, Age and Cache-Status are never a hook's.
    const own = hookHeaders(reply)
    for (const name of HIT_OWNED) if (own[name] !== undefined) reply.removeHeader(name)
    setResponseOnReply(reply, notModifiedHit ? 304 : entry.statusCode, headers)
    if (notModifiedHit) reply.send()
    // A Buffer payload without a type would get Fastify's application/octet-stream; a stream keeps none.
    else if (headers['content-type'] !== undefined) reply.send(entry.body)
    else reply.send(Readable.from([entry.body]))
  }

  /**
   * The member and the head fields of a hit on `entry`. Age and ttl move once a second, so a hot entry's
   * head is built once a second and reused (Node only reads the array) instead of per hit: copying the
   * stored fields, formatting Age and concatenating Cache-Status is a visible share of a small hit's cost
   * (`node bench/cache.mjs instructions`).
   */
  #hitHead(entry: Entry, age: number, ttl: number, why: string | undefined): HitHead {
    const memo = entry[kHit]
    if (memo !== undefined && memo.age === age && memo.ttl === ttl && memo.why === why) return memo
    const member = hitStatus(this.#o.name, ttl, why)
    const out = flatHeaders(entry, this.#hidden).slice()
    out.push('age', String(age), 'cache-status', joinedStatus(entry, member))
    const head: HitHead = { age, ttl, why, member, out }
    entry[kHit] = head
    return head
  }

  #revalidateInBackground(request: FastifyRequest, url: string): void {
    if (!this.#o.backgroundRevalidate || this.#revalidating.has(url)) return
    this.#revalidating.add(url)
    const headers: Record<string, string> = {}
    for (const name in request.headers) {
      const v = request.headers[name]
      if (v !== undefined && name !== 'content-length')
        headers[name] = Array.isArray(v) ? v.join(', ') : String(v)
    }
    delete headers['if-none-match']
    delete headers['if-modified-since']
    headers['x-proxykit-cache-revalidate'] = this.#token
    const raw = request.raw as typeof request.raw & { [kOriginalTarget]?: string }
    const original = raw[kOriginalTarget] ?? (request.proxy.form === 'absolute' ? raw.url : undefined)
    // light-my-request keeps only the path of `url`: a forward-proxied (absolute-form) target travels on
    // the request's prototype as core's kOriginalTarget, which classification reads first.
    class RevalidationRequest extends IncomingMessage {}
    if (original !== undefined)
      (RevalidationRequest.prototype as unknown as Record<symbol, string>)[kOriginalTarget] = original
    this.#fastify
      .inject({
        method: 'GET',
        // The forward proxy routes on FORWARD_PATH and gives `req.url` the target back afterwards.
        url:
          request.routeOptions.url === FORWARD_PATH
            ? FORWARD_PATH
            : original !== undefined && raw.url === original
              ? (request.proxy.target?.path ?? '/')
              : (raw.url ?? '/'),
        headers,
        ...(original !== undefined ? { Request: RevalidationRequest as never } : {}),
      })
      .catch((err: unknown) => request.log.warn({ err }, '@proxykit/cache: background revalidation failed'))
      .finally(() => this.#revalidating.delete(url))
  }

  // ---- the response phase ---------------------------------------------------------------------------

  /** The ResponseFilter the proxies call before writing the head (bound: pushed as is). */
  readonly filter = (request: FastifyRequest, response: UpstreamResponse): void => {
    const st = request.proxykitCacheState
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
    const st = request.proxykitCacheState
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
        this.metrics.stores++
        this.metrics.storedBytes += bytes
        this.#passUntil.delete(st.url)
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
  ): {
    headers: OutgoingHttpHeaders
    writer: import('node:stream').Writable | null
    replace: { statusCode: number; headers: OutgoingHttpHeaders; body: Buffer } | null
  } {
    const name = this.#o.name
    const none = { headers, writer: null, replace: null }
    if (st.invalidate) {
      if (statusCode >= 200 && statusCode < 400) this.#invalidate(st.url, headers)
      this.#setStatus(request, headers, this.#notStored.get('bypass', statusCode, 'method'))
      return none
    }
    const now = Date.now()
    const stale = st.stale
    if (stale !== null && statusCode === 304 && validatorsMatch(stale.policy, headers)) {
      // §4.3.3/§4.3.4: the stored response is still good; the 304's fields replace the stored ones.
      const flight = st.flight
      const refreshed = this.#refresh(request, st, stale, headers, now, (ok) => flight?.resolve(ok))
      if (refreshed === null) flight?.resolve(false)
      this.metrics.revalidated++
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
      this.metrics.hits++
      this.metrics.stale++
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
    const limit = this.store.maxEntrySize
    const tooBig = bodyLength !== null && limit !== undefined && bodyLength > limit
    if (!decision.storable || statusCode === 206 || statusCode === 304 || tooBig) {
      if (stale !== null && statusCode < 400) this.#dropVariant(st)
      const why = decision.storable && tooBig ? 'too-big' : decision.reason
      this.#setStatus(request, headers, this.#notStored.get(st.fwd, statusCode, st.detail ?? why))
      if (st.flight !== null) {
        this.#markUncacheable(st.url)
        st.flight.resolve(false)
      }
      return none
    }
    const cached = this.#cached(st, statusCode, headers, decision.policy!)
    const writer = this.store.createWriteStream(st.key, cached) ?? null
    const ttl = decision.policy!.lifetime - decision.policy!.initialAge
    this.#setStatus(
      request,
      headers,
      forwardStatus(name, st.fwd, statusCode, writer !== null, ttl, st.detail),
    )
    if (writer === null) st.flight?.resolve(false)
    else writer.on('error', (err) => this.#writeFailed(request, err))
    return { headers, writer, replace: null }
  }

  #setStatus(request: FastifyRequest, headers: OutgoingHttpHeaders, member: string): void {
    request.proxy.cache = member
    appendStatus(headers, member)
  }

  #writeFailed(request: FastifyRequest, err: unknown): void {
    this.metrics.errors++
    const now = Date.now()
    if (now - this.#lastErrorLog > 10_000) {
      this.#lastErrorLog = now
      request.log.warn({ err }, '@proxykit/cache: store write failed')
    }
  }

  #cached(st: CacheRequestState, statusCode: number, headers: OutgoingHttpHeaders, policy: EntryPolicy) {
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
    const cached: CachedResponse = {
      statusCode,
      headers: stored,
      vary: varyRecord(varyNames, st.key.headers),
      tags,
      policy,
      deleteAt: deleteAt(policy, this.#o.keep),
      size: 0,
    }
    return cached
  }

  #refresh(
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
      this.#dropVariant(st)
      return null
    }
    const cached = this.#cached(st, stale.statusCode, merged, decision.policy!)
    // The selecting headers of the stored variant stay those it was stored under.
    cached.vary = stale.vary
    const writer = this.store.createWriteStream(st.key, cached)
    if (writer === undefined) return null
    writer.on('error', (err) => this.#writeFailed(request, err))
    writeWhole(stale.body, writer, (ok, bytes) => {
      if (ok) {
        this.metrics.stores++
        this.metrics.storedBytes += bytes
      }
      onStored(ok)
    })
    return { ...cached, size: stale.body.length, body: stale.body }
  }

  #replacement(request: FastifyRequest, entry: CacheEntry, now: number, member: string) {
    const headers: OutgoingHttpHeaders = { ...entry.headers }
    delete headers['cache-status']
    headers['content-length'] = entry.body.length
    headers.age = String(Math.floor(currentAge(entry.policy, now)))
    headers['cache-status'] = joinedStatus(entry, member)
    request.proxy.cache = member
    return { statusCode: entry.statusCode, headers, body: entry.body }
  }

  /** A 2xx/3xx answer to a stale request that turned out not storable replaces nothing: drop the old copy. */
  #dropVariant(st: CacheRequestState): void {
    Promise.resolve(this.store.delete({ url: st.url })).catch(() => {})
  }

  #invalidate(url: string, headers: OutgoingHttpHeaders): void {
    const urls = new Set([url])
    for (const h of ['location', 'content-location']) {
      const k = sameOriginKey(headerString(headers, h), url)
      if (k !== null) urls.add(k)
    }
    for (const u of urls) Promise.resolve(this.store.delete({ url: u })).catch(() => {})
  }
}

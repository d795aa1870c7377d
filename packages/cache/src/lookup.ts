import { GatewayTimeoutError, type ResponseFilter, sendError } from '@proxykit/core'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Collapsing } from './collapsing.js'
import { requestDirectives } from './directives.js'
import type { HitWriter } from './hit.js'
import { requestUrl } from './key.js'
import type { CacheMetrics, StoreErrors } from './metrics.js'
import type { NormalizedRoute, ResolvedOptions } from './options.js'
import { evaluate } from './policy.js'
import type { BackgroundRevalidation } from './revalidation.js'
import { type CacheRequestState, newState, SAFE } from './state.js'
import type { Forward } from './status.js'
import type { CacheEntry, CacheKey, CacheStore } from './store.js'

/**
 * The lookup phase (`preHandler`): a request the cache may answer is looked up in the store and answered
 * from it (the hit writer), joins a miss already in flight (collapsing), or goes upstream with the state
 * its response path needs and the cache's response filter pushed.
 */
export class Lookup {
  readonly #o: ResolvedOptions
  readonly #store: CacheStore
  readonly #metrics: CacheMetrics
  readonly #errors: StoreErrors
  readonly #hits: HitWriter
  readonly #collapsing: Collapsing
  readonly #revalidation: BackgroundRevalidation
  readonly #filter: ResponseFilter

  constructor(
    options: ResolvedOptions,
    store: CacheStore,
    metrics: CacheMetrics,
    errors: StoreErrors,
    parts: {
      hits: HitWriter
      collapsing: Collapsing
      revalidation: BackgroundRevalidation
      filter: ResponseFilter
    },
  ) {
    this.#o = options
    this.#store = store
    this.#metrics = metrics
    this.#errors = errors
    this.#hits = parts.hits
    this.#collapsing = parts.collapsing
    this.#revalidation = parts.revalidation
    this.#filter = parts.filter
  }

  run(
    request: FastifyRequest,
    reply: FastifyReply,
    route: NormalizedRoute,
    done: (err?: Error) => void,
  ): void {
    const method = request.raw.method!
    if (method !== 'GET' && method !== 'HEAD') {
      if (!SAFE.has(method)) {
        const url = requestUrl(request)
        if (url !== null) this.#forward(request, newState(request, url, null, 'bypass', false), 'method')
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
      if (url !== null) this.#forward(request, newState(request, url, null, 'bypass', false), 'request-body')
      done()
      return
    }
    // An Upgrade (WebSocket) request is a tunnel being opened, never a cacheable exchange.
    const url = headers.upgrade === undefined ? requestUrl(request) : null
    if (url === null) {
      done()
      return
    }
    const background =
      headers['x-proxykit-cache-revalidate'] !== undefined && this.#revalidation.ours(headers)
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
      result = this.#store.get(key)
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
    this.#errors.failed(request, err, '@proxykit/cache: store unavailable, bypassing the cache')
    const st = newState(request, url, key, 'bypass', false)
    st.detail = 'store-error'
    this.#forward(request, st, 'store-error')
    done()
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
        this.#hits.serve(request, reply, headers, entry, now, verdict === 'fresh' ? undefined : verdict)
        if (verdict === 'stale-revalidate') this.#revalidation.start(request, key.url)
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
    const st = newState(request, key.url, key, fwd, method === 'GET' && cc['no-store'] === undefined)
    st.cc = cc
    st.ttl = route.ttl
    st.detail = detail
    st.stale = entry
    st.clientConditional =
      headers['if-none-match'] !== undefined || headers['if-modified-since'] !== undefined
    const collapse = this.#o.collapse && !auth && !background && !this.#collapsing.uncacheable(key.url, now)
    const flight = collapse ? this.#collapsing.flight(key.url) : undefined
    if (flight !== undefined) {
      this.#metrics.collapsed++
      this.#collapsing.wait(request, reply, key, flight, () => {
        // Not storable, too big, or failed: this request goes upstream itself.
        this.#lead(request, reply, st, false)
        done()
      })
      return
    }
    if (method === 'GET' && collapse && st.mayStore && this.#store.acquire !== undefined) {
      this.#collapsing.leadAcross(request, reply, key, st, () => {
        this.#lead(request, reply, st, false)
        done()
      })
      return
    }
    this.#lead(request, reply, st, method === 'GET' && collapse)
    done()
  }

  /** A miss goes upstream: validating the stale entry, if any, and leading its URL's flight when it may. */
  #lead(request: FastifyRequest, reply: FastifyReply, st: CacheRequestState, canLead: boolean): void {
    this.#metrics.misses++
    const entry = st.stale
    if (entry !== null && !st.clientConditional) {
      // §4.3.1: validate the stored response with its own validators (the proxies send request.headers).
      const headers = request.headers
      if (entry.policy.etag !== null) headers['if-none-match'] = entry.policy.etag
      if (entry.policy.lastModified !== null) headers['if-modified-since'] = entry.policy.lastModified
    }
    if (canLead && this.#o.collapse && st.mayStore) this.#collapsing.lead(reply, st)
    this.#forward(request, st, undefined)
  }

  #forward(request: FastifyRequest, st: CacheRequestState, detail: string | undefined): void {
    if (detail !== undefined) st.detail = detail
    if (st.fwd === 'bypass') this.#metrics.bypass++
    request.proxy.responseFilters.push(this.#filter)
  }
}

import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { requestDirectives } from './directives.js'
import type { HitWriter } from './hit.js'
import type { CacheMetrics } from './metrics.js'
import { evaluate } from './policy.js'
import type { CacheRequestState } from './state.js'
import type { CacheEntry, CacheKey, CacheStore } from './store.js'

/** One upstream fetch that concurrent misses for its URL wait on; resolved with whether it was stored. */
export interface Flight {
  promise: Promise<boolean>
  resolve(stored: boolean): void
}

const noop = () => {}
/** How long a not-storable answer stops collapsing for its URL, and how many such URLs are remembered. */
const PASS_MS = 120_000
/** How often an instance waiting for another one's fetch (a held store lock) looks for its entry. */
const LOCK_POLL_MS = 20
const PASS_MARKS = 10_000

/**
 * Cold-miss collapsing: the first miss for a URL leads (its flight), concurrent misses wait for it and are
 * answered from the store once it stored the response; across instances sharing a store with a lock, the
 * lock decides who leads. Hit-for-miss marks stop the waiting for URLs whose answers are not storable.
 */
export class Collapsing {
  readonly #timeout: number
  readonly #store: CacheStore
  readonly #metrics: CacheMetrics
  readonly #hits: HitWriter
  readonly #flights = new Map<string, Flight>()
  /** URLs whose last answer was not storable: no collapsing until then (ms since the epoch). */
  readonly #passUntil = new Map<string, number>()

  constructor(timeout: number, store: CacheStore, metrics: CacheMetrics, hits: HitWriter) {
    this.#timeout = timeout
    this.#store = store
    this.#metrics = metrics
    this.#hits = hits
  }

  /** The flight a miss for `url` would wait on, if one is out. */
  flight(url: string): Flight | undefined {
    return this.#flights.get(url)
  }

  /** A leading miss opens the flight for its URL, unless one is out already. */
  lead(reply: FastifyReply, st: CacheRequestState): void {
    if (!this.#flights.has(st.url)) this.#open(reply, st)
  }

  #open(reply: FastifyReply, st: CacheRequestState): Flight {
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
    const timer = setTimeout(() => flight.resolve(false), this.#timeout)
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

  /**
   * A miss waits for `flight`: answered from the store when the leader stored a response usable for it,
   * else (not storable, too big, failed) `goUpstream` sends it on like any miss.
   */
  wait(
    request: FastifyRequest,
    reply: FastifyReply,
    key: CacheKey,
    flight: Flight,
    goUpstream: () => void,
  ): void {
    flight.promise.then(async (stored) => {
      if (stored && !request.raw.destroyed) {
        try {
          const entry = await this.#store.get(key)
          const headers = request.headers
          if (entry && (headers.authorization === undefined || entry.policy.authOk)) {
            const now = Date.now()
            const { cc, pragmaNoCache } = requestDirectives(headers)
            const verdict = evaluate(entry.policy, cc, pragmaNoCache, now)
            if (verdict === 'fresh' || verdict === 'stale-ok') {
              this.#hits.serve(request, reply, headers, entry, now, 'collapsed')
              return
            }
          }
        } catch {
          // fall through: go upstream like any miss
        }
      }
      goUpstream()
    })
  }

  /**
   * A cold miss on a store shared with other instances (one that offers `acquire`): this process's
   * flight is opened at once (its own concurrent misses wait on it as usual), then the store's lock for
   * the URL decides across instances. The holder goes upstream and releases the lock when its flight
   * ends (stored, not storable or failed); an instance that finds the lock held polls the store until
   * the entry appears (a hit, `collapsed`), the lock goes, or `collapseTimeout` passes, and then goes
   * upstream itself. A store error means no collapsing, an ordinary miss.
   */
  leadAcross(
    request: FastifyRequest,
    reply: FastifyReply,
    key: CacheKey,
    st: CacheRequestState,
    goUpstream: () => void,
  ): void {
    const store = this.#store as Required<Pick<CacheStore, 'acquire' | 'release' | 'locked' | 'get'>>
    const flight = this.#open(reply, st)
    store.acquire(key, this.#timeout).then((token) => {
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
        this.#metrics.collapsed++
        flight.resolve(true)
        this.#hits.serve(request, reply, request.headers, entry, Date.now(), 'collapsed')
      }, goUpstream)
    }, goUpstream)
  }

  /** The entry another instance is fetching, once stored and usable here; null to go upstream. */
  async #awaitOther(request: FastifyRequest, key: CacheKey): Promise<CacheEntry | null> {
    const store = this.#store as Required<Pick<CacheStore, 'locked' | 'get'>>
    const usable = (entry: CacheEntry | null | undefined): CacheEntry | null => {
      if (!entry) return null
      const { cc, pragmaNoCache } = requestDirectives(key.headers)
      const verdict = evaluate(entry.policy, cc, pragmaNoCache, Date.now())
      return verdict === 'fresh' || verdict === 'stale-ok' ? entry : null
    }
    const deadline = Date.now() + this.#timeout
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
   * Storing a response for the URL lifts the mark (`stored`).
   */
  uncacheable(url: string, now: number): boolean {
    const until = this.#passUntil.get(url)
    if (until === undefined) return false
    if (until > now) return true
    this.#passUntil.delete(url)
    return false
  }

  markUncacheable(url: string): void {
    if (this.#passUntil.size >= PASS_MARKS) {
      // Oldest first (insertion order): a bounded map, never a leak.
      const oldest = this.#passUntil.keys().next().value
      if (oldest !== undefined) this.#passUntil.delete(oldest)
    }
    this.#passUntil.delete(url)
    this.#passUntil.set(url, Date.now() + PASS_MS)
  }

  /** A response for `url` was stored: its misses collapse again. */
  stored(url: string): void {
    this.#passUntil.delete(url)
  }
}

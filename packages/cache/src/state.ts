import type { FastifyRequest } from 'fastify'
import type { Flight } from './collapsing.js'
import type { Directives } from './directives.js'
import type { Forward } from './status.js'
import type { CacheEntry, CacheKey } from './store.js'

/** Per-request state of a request the cache forwards, from its lookup to its response path. */
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

/**
 * The request decorator holding the state: a symbol, so the cache takes no name in the app's requests and
 * nobody outside this package reads it (what the cache decided is `request.proxy.cache`, for everyone).
 */
export const kCacheState = Symbol('proxykit.cacheState')

type StatefulRequest = FastifyRequest & { [kCacheState]: CacheRequestState | null }

/** The request's state; null when the cache does not handle it (a hit, a route it skips). */
export function cacheState(request: FastifyRequest): CacheRequestState | null {
  return (request as StatefulRequest)[kCacheState]
}

export const SAFE: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE'])

/** Opens the state of a request the cache forwards (a miss, a bypass) and puts it on the request. */
export function newState(
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
  ;(request as StatefulRequest)[kCacheState] = st
  return st
}

import { installProxyContext, passiveOnSend, phaseHook } from '@proxykit/core'
import type { FastifyPluginAsync, onSendHookHandler, preHandlerHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import { HttpCache } from './engine.js'
import { urlKey } from './key.js'
import type { CacheMetrics } from './metrics.js'
import { type CacheOptions, normalizeRoute, type RouteCacheConfig, resolveOptions } from './options.js'
import { cacheState, kCacheState } from './state.js'
import type { CacheStore } from './store.js'
import { MemoryStore } from './stores/memory.js'

export type { CacheMetrics } from './metrics.js'
export { type CacheOptions, DEFAULTS, type RouteCacheConfig } from './options.js'
export type { EntryPolicy } from './policy.js'
export type { CachedResponse, CacheEntry, CacheKey, CacheStore } from './store.js'
export { selectingValue, varyMatches, varyRecord } from './store.js'
export { defaultMaxEntrySize, MemoryStore, type MemoryStoreOptions, SIZE_LIMITS } from './stores/memory.js'

/**
 * `fastify.proxyCache`: what the gateway's admin API and /metrics use. Not `fastify.cache`: that name is
 * @fastify/caching's (its abstract-cache store), and the two plugins are meant to sit in one app.
 */
export interface CacheDecorator {
  /**
   * Removes every variant of one URL (`http://host/path?query`), or every URL stored with a tag. Resolves
   * with the number of entries removed (0: nothing matched), or null with a store that does not count.
   */
  purge(target: { url: string } | { tag: string }): Promise<number | null>
  /** A snapshot of the counters. */
  metrics(): CacheMetrics
  readonly store: CacheStore
}

declare module 'fastify' {
  interface FastifyInstance {
    proxyCache: CacheDecorator
  }
  interface FastifyContextConfig {
    /** @proxykit/cache per-route settings: `false` bypasses the cache; `{ ttl, key }` tunes it. */
    cache?: RouteCacheConfig
  }
}

function appendHook<T>(existing: T | T[] | undefined, hook: T): T[] {
  if (existing === undefined) return [hook]
  return Array.isArray(existing) ? [...existing, hook] : [existing, hook]
}

// The route hooks of the cache's two phases (core's phase table): the lookup, and storing a plain route's answer.
const LOOKUP = phaseHook('lookup', 'cache')
const STORE_PLAIN = phaseHook('store-plain', 'cache')

const plugin: FastifyPluginAsync<CacheOptions> = async (fastify, opts) => {
  installProxyContext(fastify)
  if (fastify.hasDecorator('proxyCache'))
    throw new Error('@proxykit/cache is already registered on this instance (fastify.proxyCache exists)')
  const options = resolveOptions(opts)
  const ownStore = options.store === undefined
  const store: CacheStore =
    options.store ?? new MemoryStore({ maxSize: options.maxSize, maxEntrySize: options.maxEntrySize })
  const cache = new HttpCache(fastify, options, store)

  fastify.decorateRequest(kCacheState, null)
  fastify.decorate('proxyCache', {
    async purge(target: { url: string } | { tag: string }) {
      let removed: unknown
      if (target !== null && typeof target === 'object' && 'url' in target && typeof target.url === 'string')
        removed = await store.delete({ url: urlKey(target.url) })
      else if (
        target !== null &&
        typeof target === 'object' &&
        'tag' in target &&
        typeof target.tag === 'string'
      )
        removed = await store.deleteTag(target.tag)
      else throw new TypeError('@proxykit/cache: purge takes { url } or { tag }')
      return typeof removed === 'number' ? removed : null
    },
    metrics: () => ({ ...cache.metrics }),
    store,
  } satisfies CacheDecorator)

  // The hooks are added to each route as it is declared (as @fastify/rate-limit does): its `config.cache`
  // is validated once and closed over, so a request pays no per-request config lookup, and a route with
  // `cache: false` pays nothing at all. Routes declared before the plugin are not cached: register it first.
  fastify.addHook('onRoute', (route) => {
    const config = normalizeRoute((route.config as { cache?: unknown } | undefined)?.cache, route.url)
    if (config === false) return
    const lookup: preHandlerHookHandler = (request, reply, done) => cache.lookup(request, reply, config, done)
    route[LOOKUP] = appendHook(route[LOOKUP], lookup)
    route[STORE_PLAIN] = appendHook(route[STORE_PLAIN], onSend)
  })
  // Passive for core's choice of answer path: on a proxy's route it leaves the answer alone (the response
  // filter did the work), so it is no reason to leave the raw fast path.
  const onSend = passiveOnSend<onSendHookHandler>(function cacheOnSend(request, reply, payload, done) {
    if (cacheState(request) === null) return done(null, payload)
    done(null, cache.onSend(request, reply, payload))
  })
  if (ownStore)
    fastify.addHook('onClose', async () => {
      await store.close?.()
    })
}

export const cache = fp(plugin, { name: '@proxykit/cache', fastify: '5.x' })
export default cache

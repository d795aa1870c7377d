import { installProxyContext } from '@proxykit/core'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { type CacheMetrics, HttpCache } from './engine.js'
import { urlKey } from './key.js'
import {
  type CacheOptions,
  type NormalizedRoute,
  normalizeRoute,
  type RouteCacheConfig,
  resolveOptions,
} from './options.js'
import type { CacheStore } from './store.js'
import { MemoryStore } from './stores/memory.js'

export type { CacheMetrics } from './engine.js'
export { type CacheOptions, DEFAULTS, type RouteCacheConfig } from './options.js'
export type { EntryPolicy } from './policy.js'
export type { CachedResponse, CacheEntry, CacheKey, CacheStore } from './store.js'
export { selectingValue, varyMatches, varyRecord } from './store.js'
export { MemoryStore, type MemoryStoreOptions } from './stores/memory.js'

/** `fastify.cache`: what the gateway's admin API and /metrics use. */
export interface CacheDecorator {
  /** Removes every variant of one URL (`http://host/path?query`), or every URL stored with a tag. */
  purge(target: { url: string } | { tag: string }): Promise<void>
  /** A snapshot of the counters. */
  metrics(): CacheMetrics
  readonly store: CacheStore
}

declare module 'fastify' {
  interface FastifyInstance {
    cache: CacheDecorator
  }
  interface FastifyContextConfig {
    /** @proxykit/cache per-route settings: `false` bypasses the cache; `{ ttl, key }` tunes it. */
    cache?: RouteCacheConfig
  }
}

const kRoute = Symbol('proxykit.cache.route')
const DEFAULT_ROUTE: NormalizedRoute = { ttl: null, key: null }

function routeOf(request: FastifyRequest): NormalizedRoute | false {
  const config = request.routeOptions.config as { cache?: unknown; [kRoute]?: NormalizedRoute | false }
  const compiled = config[kRoute]
  if (compiled !== undefined) return compiled
  // A route registered before the plugin (onRoute did not see it): validate it now.
  return config.cache === undefined
    ? DEFAULT_ROUTE
    : normalizeRoute(config.cache, request.routeOptions.url ?? '')
}

const plugin: FastifyPluginAsync<CacheOptions> = async (fastify, opts) => {
  installProxyContext(fastify)
  if (fastify.hasDecorator('cache'))
    throw new Error('@proxykit/cache is already registered on this instance (fastify.cache exists)')
  const options = resolveOptions(opts)
  const ownStore = options.store === undefined
  const store: CacheStore =
    options.store ?? new MemoryStore({ maxSize: options.maxSize, maxEntrySize: options.maxEntrySize })
  const cache = new HttpCache(fastify, options, store)

  fastify.decorateRequest('proxykitCacheState', null)
  fastify.decorate('cache', {
    async purge(target: { url: string } | { tag: string }) {
      if (target !== null && typeof target === 'object' && 'url' in target && typeof target.url === 'string')
        await store.delete({ url: urlKey(target.url) })
      else if (
        target !== null &&
        typeof target === 'object' &&
        'tag' in target &&
        typeof target.tag === 'string'
      )
        await store.deleteTag(target.tag)
      else throw new TypeError('@proxykit/cache: purge takes { url } or { tag }')
    },
    metrics: () => ({ ...cache.metrics }),
    store,
  } satisfies CacheDecorator)

  fastify.addHook('onRoute', (route) => {
    const config = (route.config ?? {}) as Record<string | symbol, unknown>
    config[kRoute] = normalizeRoute(config.cache, route.url)
    route.config = config as typeof route.config
  })

  fastify.addHook('preHandler', (request: FastifyRequest, reply: FastifyReply, done) => {
    const route = routeOf(request)
    if (route === false) return done()
    cache.lookup(request, reply, route, done)
  })
  fastify.addHook('onSend', (request, reply, payload, done) => {
    if (request.proxykitCacheState === null) return done(null, payload)
    done(null, cache.onSend(request, reply, payload))
  })
  fastify.addHook('onResponse', (request, _reply, done) => {
    if (request.proxykitCacheState !== null) cache.onResponse(request)
    done()
  })
  if (ownStore)
    fastify.addHook('onClose', async () => {
      await store.close?.()
    })
}

export const cache = fp(plugin, { name: '@proxykit/cache', fastify: '5.x' })
export default cache

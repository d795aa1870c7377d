// The types @proxykit/cache publishes, as a user's app sees them through the package's exports.
import cache, {
  type CacheDecorator,
  type CacheMetrics,
  type CacheStore,
  MemoryStore,
  type RouteCacheConfig,
} from '@proxykit/cache'
import type { RedisStore } from '@proxykit/cache/redis'
import Fastify, { type FastifyContextConfig } from 'fastify'
import { describe, expect, test } from 'tstyche'

describe('@proxykit/cache', () => {
  test('registers with no options, a store, or its documented ones', () => {
    expect(Fastify().register(cache)).type.not.toRaiseError()
    expect(
      Fastify().register(cache, { store: new MemoryStore({ maxSize: 1 << 20 }) }),
    ).type.not.toRaiseError()
    expect(
      Fastify().register(cache, { targetedCacheControl: ['CDN-Cache-Control'], tagHeader: false }),
    ).type.not.toRaiseError()
    expect(Fastify().register(cache, { maxSize: '64 MiB' })).type.toRaiseError()
    expect(Fastify().register(cache, { store: {} })).type.toRaiseError()
  })

  test('both stores are CacheStores', () => {
    expect<MemoryStore>().type.toBeAssignableTo<CacheStore>()
    expect<RedisStore>().type.toBeAssignableTo<CacheStore>()
  })

  test('fastify.proxyCache purges by URL or tag and reports metrics', () => {
    const app = Fastify()
    expect(app.proxyCache).type.toBe<CacheDecorator>()
    expect(app.proxyCache.purge({ url: 'http://example.test/a' })).type.toBe<Promise<number | null>>()
    expect(app.proxyCache.purge({ tag: 'products' })).type.toBe<Promise<number | null>>()
    expect(app.proxyCache.purge).type.not.toBeCallableWith('http://example.test/a')
    expect(app.proxyCache.metrics()).type.toBe<CacheMetrics>()
  })

  test('a route sets config.cache: false or { ttl, key }', () => {
    expect<FastifyContextConfig['cache']>().type.toBe<RouteCacheConfig | undefined>()
    const app = Fastify()
    expect(app.get('/a', { config: { cache: false } }, async () => 'a')).type.not.toRaiseError()
    expect(
      app.get('/b', { config: { cache: { ttl: 60, key: (request) => request.hostname } } }, async () => 'b'),
    ).type.not.toRaiseError()
    expect(app.get('/c', { config: { cache: { ttl: '60' } } }, async () => 'c')).type.toRaiseError()
  })
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import fastifyCaching from '@fastify/caching'
import Fastify from 'fastify'
import { cache } from '../src/index.js'

// @fastify/caching decorates `fastify.cache` (its abstract-cache store) and `reply.etag`: ours is
// `fastify.proxyCache`, so the two register in one app, whichever comes first, and each keeps its own.
for (const order of ['@fastify/caching first', '@proxykit/cache first'] as const) {
  test(`@fastify/caching and @proxykit/cache register in one app (${order})`, async (t) => {
    const app = Fastify()
    t.after(() => app.close())
    if (order === '@fastify/caching first') {
      await app.register(fastifyCaching)
      await app.register(cache)
    } else {
      await app.register(cache)
      await app.register(fastifyCaching)
    }
    await app.ready()
    assert.equal(typeof app.proxyCache.purge, 'function', 'ours')
    assert.equal(typeof app.proxyCache.metrics, 'function')
    assert.equal(typeof (app as unknown as { cache: { get: unknown } }).cache.get, 'function', 'theirs')
  })
}

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { installProxyContext } from '@proxykit/core'
import Fastify, { type FastifyInstance } from 'fastify'
import cache from '../src/index.js'

// Issue 25: the cache's per-request state sits behind a symbol-keyed request decorator. It used to be the
// public `request.proxykitCacheState`: a name in every app's requests, which an app (or another plugin)
// could not take for itself, and which looked like an API.

/** The string-named properties of a request that a cached miss ran through, and what the miss answered. */
async function requestNames(app: FastifyInstance): Promise<{ names: string[]; cacheStatus: unknown }> {
  let names: string[] = []
  app.get('/x', async (request, reply) => {
    names = Object.keys(request).sort()
    reply.header('cache-control', 'max-age=60')
    return 'x'
  })
  const res = await app.inject({ url: '/x', headers: { host: 'example.test' } })
  assert.equal(res.statusCode, 200)
  assert.equal(res.body, 'x')
  return { names, cacheStatus: res.headers['cache-status'] }
}

test('the cache adds no named property to requests', async (t) => {
  const bare = Fastify()
  t.after(() => bare.close())
  installProxyContext(bare)
  const withCache = Fastify()
  t.after(() => withCache.close())
  await withCache.register(cache)

  const without = await requestNames(bare)
  const cached = await requestNames(withCache)
  // The cache did handle the request (its state was set and read: the miss was stored)...
  assert.match(String(cached.cacheStatus), /fwd=uri-miss; fwd-status=200; stored/)
  // ...and the request has exactly the names core's context gives it, none of the cache's.
  assert.deepEqual(cached.names, without.names)
  assert.equal(withCache.hasRequestDecorator('proxykitCacheState'), false)
})

test('an app may decorate requests with the name the cache used to take', async (t) => {
  let calls = 0
  const a = Fastify()
  t.after(() => a.close())
  a.decorateRequest('proxykitCacheState', "the app's own")
  await a.register(cache)
  a.get('/y', async (request, reply) => {
    calls++
    assert.equal((request as unknown as { proxykitCacheState: string }).proxykitCacheState, "the app's own")
    reply.header('cache-control', 'max-age=60')
    return 'y'
  })
  const miss = await a.inject({ url: '/y', headers: { host: 'example.test' } })
  const hit = await a.inject({ url: '/y', headers: { host: 'example.test' } })
  assert.match(String(miss.headers['cache-status']), /stored/)
  assert.match(String(hit.headers['cache-status']), /hit/)
  assert.equal(hit.body, 'y')
  assert.equal(calls, 1)
})

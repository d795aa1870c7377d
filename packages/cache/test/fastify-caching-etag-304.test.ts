import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import fastifyCaching from '@fastify/caching'
import Fastify from 'fastify'
import { Agent } from 'undici'
import { cache } from '../src/index.js'
import { fetchOnce } from './helpers.js'

// An ETag set with @fastify/caching's `reply.etag()` is stored with the entry, and a conditional request
// naming it is answered 304 from the hit. @fastify/caching's own If-None-Match check (an onRequest hook
// that answers 304 from its ETag table) is given no table entry here (lifetime 0: nothing remembered),
// so the 304 can only come from the cache's hit.
for (const cachingFirst of [true, false]) {
  const order = cachingFirst ? '@fastify/caching first' : '@proxykit/cache first'
  test(`If-None-Match with reply.etag()'s value is answered 304 from a hit (${order})`, async (t) => {
    const app = Fastify()
    const caching = [fastifyCaching, { privacy: fastifyCaching.privacy.PUBLIC, expiresIn: 60 }] as const
    if (cachingFirst) await app.register(...caching)
    await app.register(cache)
    if (!cachingFirst) await app.register(...caching)
    let runs = 0
    app.get('/doc', (_request, reply) => {
      runs++
      reply.etag('"v1"', 0).send('the document')
    })
    await app.listen({ port: 0, host: '127.0.0.1' })
    t.after(() => app.close())
    const client = new Agent()
    t.after(() => client.close())
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/doc`

    const first = await fetchOnce(client, url)
    assert.equal(first.headers.etag, '"v1"')
    assert.match(first.headers['cache-status']!, /stored/)
    const conditional = await fetchOnce(client, url, { 'if-none-match': '"v1"' })
    assert.equal(conditional.status, 304)
    assert.match(conditional.headers['cache-status']!, /; hit;/)
    assert.equal(conditional.headers.etag, '"v1"')
    assert.equal(conditional.body, '')
    const other = await fetchOnce(client, url, { 'if-none-match': '"v0"' })
    assert.equal(other.status, 200)
    assert.equal(other.body, 'the document')
    assert.equal(runs, 1)
  })
}

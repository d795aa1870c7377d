import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import fastifyCaching from '@fastify/caching'
import Fastify from 'fastify'
import { Agent } from 'undici'
import { cache } from '../src/index.js'
import { fetchOnce } from './helpers.js'

// @fastify/caching writes Cache-Control in an onSend hook of its own; the cache decides on storing in
// the route's onSend, which must run after it (it does for either registration order: instance hooks
// run before route-level ones) so that `privacy` and `expiresIn` are what it obeys.
async function start(t: import('node:test').TestContext, privacy: string, cachingFirst: boolean) {
  const app = Fastify()
  const caching = [fastifyCaching, { privacy, expiresIn: 60 }] as const
  if (cachingFirst) await app.register(...caching)
  await app.register(cache)
  if (!cachingFirst) await app.register(...caching)
  let runs = 0
  app.get('/report', async () => `report ${++runs}`)
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(() => app.close())
  const client = new Agent()
  t.after(() => client.close())
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/report`
  return { get: () => fetchOnce(client, url), runs: () => runs }
}

for (const cachingFirst of [true, false]) {
  const order = cachingFirst ? '@fastify/caching first' : '@proxykit/cache first'
  test(`privacy public + expiresIn from @fastify/caching: the app route is stored (${order})`, async (t) => {
    const s = await start(t, fastifyCaching.privacy.PUBLIC, cachingFirst)
    const first = await s.get()
    assert.equal(first.headers['cache-control'], 'public, max-age=60')
    assert.match(first.headers['cache-status']!, /stored; ttl=60/)
    const second = await s.get()
    assert.match(second.headers['cache-status']!, /; hit;/)
    assert.equal(second.body, 'report 1')
    assert.equal(s.runs(), 1)
  })

  test(`privacy private from @fastify/caching: the app route is not stored (${order})`, async (t) => {
    const s = await start(t, fastifyCaching.privacy.PRIVATE, cachingFirst)
    const first = await s.get()
    assert.equal(first.headers['cache-control'], 'private, max-age=60')
    assert.doesNotMatch(first.headers['cache-status']!, /stored/)
    const second = await s.get()
    assert.equal(second.body, 'report 2')
    assert.equal(s.runs(), 2)
  })
}

// Issue 24 item 4: collapsing cold misses across instances is part of the store contract. Two cache
// instances (two Fastify apps, each with its own RedisStore client on one prefix) get concurrent misses
// for one URL: one upstream request in all, through the store's lock, with no help from the app around
// the cache. A leader whose answer cannot be stored releases the lock as its flight ends, so the others
// do not wait out collapseTimeout.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { redisForTests, startOrigin } from '@proxykit/core/testing'
import Fastify from 'fastify'
import { Agent } from 'undici'
import cache from '../src/index.js'
import { RedisStore } from '../src/stores/redis.js'
import { addTestProxy, fetchOnce } from './helpers.js'

const redis = await redisForTests()
test.after(async () => redis?.stop())

test('concurrent misses on two instances sharing a RedisStore go upstream once', {
  skip: redis === null,
}, async (t) => {
  const byPath = new Map<string, number>()
  const origin = await startOrigin({
    handler: (req, res) => {
      const path = req.url ?? '/'
      byPath.set(path, (byPath.get(path) ?? 0) + 1)
      // Long enough that every request of a burst arrives while the first is in flight.
      setTimeout(() => {
        res.writeHead(200, { 'cache-control': path.startsWith('/private') ? 'no-store' : 'max-age=60' })
        res.end(`body of ${path}`)
      }, 500)
    },
  })
  t.after(() => origin.close())
  const prefix = `test:${randomUUID()}:`
  const client = new Agent({ connections: 32 })
  t.after(() => client.close())
  const urls: string[] = []
  for (let i = 0; i < 2; i++) {
    const store = new RedisStore({ url: redis!.url, prefix })
    await store.ready()
    // A long collapseTimeout: a waiter held until it ran out would show in the elapsed time below.
    const app = Fastify()
    await app.register(cache, { store, collapseTimeout: 20_000 })
    addTestProxy(app, origin.url)
    await app.listen({ port: 0, host: '127.0.0.1' })
    t.after(async () => {
      await app.close()
      await store.close()
    })
    urls.push(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`)
  }
  const host = { host: 'gateway.test' }
  const burst = await Promise.all(
    Array.from({ length: 10 }, (_, i) => fetchOnce(client, `${urls[i % 2]}/slow`, host)),
  )
  for (const r of burst) {
    assert.equal(r.status, 200)
    assert.equal(r.body, 'body of /slow')
  }
  assert.equal(byPath.get('/slow'), 1, 'one upstream request for both instances')
  const collapsed = burst.filter((r) => /detail=collapsed/.test(r.headers['cache-status']!)).length
  assert.ok(collapsed >= 1, `${collapsed} answers from the leader's entry`)

  // Not storable: the lock goes when the leader's answer is over, so the other instance's request,
  // sent while the first is in flight, goes upstream after it rather than after collapseTimeout (20 s).
  const started = Date.now()
  const [first, second] = await Promise.all([
    fetchOnce(client, `${urls[0]}/private`, host),
    new Promise((r) => setTimeout(r, 100)).then(() => fetchOnce(client, `${urls[1]}/private`, host)),
  ])
  assert.equal(first.status, 200)
  assert.equal(second.status, 200)
  assert.equal(byPath.get('/private'), 2)
  assert.ok(Date.now() - started < 15_000, `took ${Date.now() - started} ms`)
})

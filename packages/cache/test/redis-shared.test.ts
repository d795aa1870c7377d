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

test('two instances on one Redis: stored through one, a hit through the other', {
  skip: redis === null,
}, async (t) => {
  const origin = await startOrigin({
    handler: (req, res) => {
      const body = Buffer.from([0, 255, 1, 254, ...Buffer.from(String(req.url))])
      res.writeHead(200, {
        'cache-control': 'max-age=60',
        'content-length': body.length,
        'cache-tag': 'shared',
      })
      res.end(body)
    },
  })
  t.after(() => origin.close())
  const prefix = `test:${randomUUID()}:`
  const client = new Agent()
  t.after(() => client.close())
  const urls: string[] = []
  const apps = []
  for (let i = 0; i < 2; i++) {
    const store = new RedisStore({ url: redis!.url, prefix })
    await store.ready()
    const app = Fastify()
    await app.register(cache, { store })
    addTestProxy(app, origin.url)
    await app.listen({ port: 0, host: '127.0.0.1' })
    t.after(async () => {
      await app.close()
      await store.close()
    })
    apps.push(app)
    urls.push(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`)
  }
  // Both instances must key alike: the client sends the same Host to both (as behind one load balancer).
  const host = { host: 'gateway.test' }
  const a = await fetchOnce(client, `${urls[0]}/shared?x=1`, host)
  assert.match(a.headers['cache-status']!, /stored/)
  // The write is asynchronous: give it a moment to land.
  let b = await fetchOnce(client, `${urls[1]}/shared?x=1`, host)
  for (let i = 0; i < 20 && !/hit/.test(b.headers['cache-status']!); i++) {
    await new Promise((r) => setTimeout(r, 50))
    b = await fetchOnce(client, `${urls[1]}/shared?x=1`, host)
  }
  assert.match(b.headers['cache-status']!, /hit/)
  assert.equal(b.body, a.body)
  assert.equal(origin.hits, 1)
  // A purge through one is seen by the other.
  await apps[0]!.proxyCache.purge({ tag: 'shared' })
  await fetchOnce(client, `${urls[1]}/shared?x=1`, host)
  assert.equal(origin.hits, 2)
})

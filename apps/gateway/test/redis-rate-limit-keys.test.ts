// Issue 26.11: the rate-limit counters in Redis were keyed
// `proxykit:gateway:ratelimit:reverse:undefinedundefined-/|ip:…` (@fastify/rate-limit's store prefixes a
// route method and URL that createRateLimit never has). Read from a real redis-server, every key is the
// listener's namespace, the limit's label (the route name, or `global`) and the client key.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { redisForTests, startOrigin } from '@proxykit/core/testing'
import { Redis } from 'ioredis'
import { request } from 'undici'
import { curlStatus, startCli, writeConfig } from './helpers/cli.js'

test('rate-limit keys in Redis name the listener, the route and the client, nothing undefined', async (t) => {
  const redis = await redisForTests()
  if (redis === null) return t.skip('no redis-server here')
  t.after(() => redis.stop())
  const origin = await startOrigin()
  t.after(() => origin.close())
  const prefix = `rl-keys-${randomBytes(4).toString('hex')}:`
  const file = await writeConfig(
    t,
    {
      forward: { listen: '127.0.0.1:0', allow: ['127.0.0.1'], rateLimit: { max: 5, timeWindow: '1m' } },
      reverse: {
        listen: '127.0.0.1:0',
        routes: [
          // The first rule whose prefix matches counts a request: /api before /.
          { prefix: '/api', upstreams: [origin.url], rateLimit: { max: 5, timeWindow: '1m' } },
          { name: 'web', prefix: '/', upstreams: [origin.url], rateLimit: { max: 5, timeWindow: '1m' } },
        ],
      },
      redis: { url: redis.url, prefix },
      admin: { listen: '127.0.0.1:0' },
    },
    'gateway.json',
  )
  const gw = await startCli(t, ['--config', file], ['forward', 'reverse', 'admin'])
  for (const path of ['/x', '/api/y']) {
    const res = await request(`${gw.urls.reverse}${path}`)
    await res.body.dump()
    assert.equal(res.statusCode, 200, path)
  }
  assert.equal(await curlStatus(['-x', gw.urls.forward!, `${origin.url}/z`]), 200)

  const client = new Redis(redis.url, { lazyConnect: true })
  t.after(() => client.disconnect())
  await client.connect()
  const keys = (await client.keys(`${prefix}*`)).filter((k) => k.includes('ratelimit')).sort()
  assert.deepEqual(keys, [
    `${prefix}ratelimit:forward:global|ip:127.0.0.1`,
    `${prefix}ratelimit:reverse:/api|ip:127.0.0.1`,
    `${prefix}ratelimit:reverse:web|ip:127.0.0.1`,
  ])
  for (const key of keys) assert.equal(await client.get(key), '1', key)
  assert.equal(await gw.stop(), 0)
})

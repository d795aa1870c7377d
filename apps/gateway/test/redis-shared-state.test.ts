import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { redisForTests, startOrigin } from '@proxykit/core/testing'
import { request } from 'undici'
import { untilCached } from './helpers/cache.js'
import { startCli, writeConfig } from './helpers/cli.js'

test('two gateways on one Redis share cache entries and rate-limit counters', async (t) => {
  const redis = await redisForTests()
  if (redis === null) return t.skip('no redis-server here')
  t.after(() => redis.stop())
  const origin = await startOrigin({
    handler: (_req, res) => {
      res.writeHead(200, { 'cache-control': 'public, max-age=60' })
      res.end('shared')
    },
  })
  t.after(() => origin.close())
  const prefix = `gw-test-${randomBytes(6).toString('hex')}:`
  const config = {
    reverse: {
      listen: '127.0.0.1:0',
      routes: [
        { name: 'c', prefix: '/c', upstreams: [origin.url], cache: true },
        { name: 'l', prefix: '/l', upstreams: [origin.url], rateLimit: { max: 3, timeWindow: '1m' } },
      ],
    },
    cache: { store: 'redis' },
    redis: { url: redis.url, prefix },
    admin: { listen: '127.0.0.1:0' },
  }
  const one = await startCli(t, ['--config', await writeConfig(t, config, 'one.json')], ['reverse', 'admin'])
  const two = await startCli(t, ['--config', await writeConfig(t, config, 'two.json')], ['reverse'])

  const ready = (await (await fetch(`${one.urls.admin}/readyz`)).json()) as {
    checks: Record<string, boolean>
  }
  assert.equal(ready.checks.redis, true)

  // The same host:port for both, as behind a load balancer: the cache key is the same.
  const host = 'shared.test'
  const get = async (base: string, path: string) => {
    const res = await request(`${base}${path}`, { headers: { host } })
    return { status: res.statusCode, cache: String(res.headers['cache-status']), body: await res.body.text() }
  }
  assert.equal((await get(one.urls.reverse!, '/c/x')).body, 'shared')
  await untilCached(two.urls.reverse!, '/c/x', host)
  const fromTwo = await get(two.urls.reverse!, '/c/x')
  assert.equal(fromTwo.body, 'shared')
  assert.match(fromTwo.cache ?? '', /hit/, 'stored by one, served by two')
  assert.equal(origin.hits, 1)

  const statuses = [
    (await get(one.urls.reverse!, '/l/1')).status,
    (await get(two.urls.reverse!, '/l/2')).status,
    (await get(one.urls.reverse!, '/l/3')).status,
    (await get(two.urls.reverse!, '/l/4')).status,
  ]
  assert.deepEqual(statuses, [200, 200, 200, 429], 'one counter across both gateways')
  assert.equal(await one.stop(), 0)
  assert.equal(await two.stop(), 0)
})

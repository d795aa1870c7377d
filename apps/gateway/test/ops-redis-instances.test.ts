import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { startOrigin, startRedisServer } from '@proxykit/core/testing'
import { request } from 'undici'
import { untilCached } from './helpers/cache.js'
import { startCli, writeConfig } from './helpers/cli.js'

const TOKEN = 'redis-instances-token'

test('two instances on one Redis: shared hits, purges, collapsed misses, one rate limit; Redis down and back', async (t) => {
  let redis: Awaited<ReturnType<typeof startRedisServer>>
  try {
    redis = await startRedisServer()
  } catch {
    return t.skip('no redis-server here')
  }
  t.after(() => redis.stop())
  const byPath = new Map<string, number>()
  const origin = await startOrigin({
    handler: (req, res) => {
      const path = req.url ?? '/'
      byPath.set(path, (byPath.get(path) ?? 0) + 1)
      // /c/slow takes a while, so that concurrent misses overlap.
      const delay = path.startsWith('/c/slow') ? 600 : 0
      const cacheControl = path.startsWith('/c/private') ? 'no-store' : 'public, max-age=60'
      setTimeout(() => {
        res.writeHead(200, { 'cache-control': cacheControl, 'content-type': 'text/plain' })
        res.end(`body of ${path}`)
      }, delay)
    },
  })
  t.after(() => origin.close())
  const prefix = `gw-ops-${randomBytes(6).toString('hex')}:`
  const config = (rateLimits: 'fail-open' | 'fail-closed') => ({
    reverse: {
      listen: '127.0.0.1:0',
      routes: [
        { name: 'c', prefix: '/c', upstreams: [origin.url], cache: true },
        { name: 'l', prefix: '/l', upstreams: [origin.url], rateLimit: { max: 4, timeWindow: '1m' } },
      ],
    },
    cache: { store: 'redis' },
    redis: { url: redis.url, prefix, rateLimits },
    admin: { listen: '127.0.0.1:0', token: TOKEN },
    log: { access: false },
  })
  const one = await startCli(
    t,
    ['--config', await writeConfig(t, config('fail-open'), 'one.json')],
    ['reverse', 'admin'],
  )
  const two = await startCli(
    t,
    ['--config', await writeConfig(t, config('fail-closed'), 'two.json')],
    ['reverse', 'admin'],
  )

  // Behind an L4 balancer both instances see the same Host, so the cache key is the same.
  const get = async (base: string, path: string) => {
    const res = await request(`${base}${path}`, { headers: { host: 'shared.test' } })
    return {
      status: res.statusCode,
      cache: String(res.headers['cache-status'] ?? ''),
      body: await res.body.text(),
    }
  }
  const r1 = one.urls.reverse!
  const r2 = two.urls.reverse!

  // A hit through either.
  assert.equal((await get(r1, '/c/a')).body, 'body of /c/a')
  await untilCached(r2, '/c/a', 'shared.test')
  const hit = await get(r2, '/c/a')
  assert.match(hit.cache, /hit/, 'stored through one, served by two')
  assert.equal(byPath.get('/c/a'), 1)

  // A purge through one instance's admin API is seen by the other.
  const purge = await request(`${one.urls.admin}/purge`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ url: 'http://shared.test/c/a' }),
  })
  assert.equal(purge.statusCode, 200, await purge.body.text())
  const afterPurge = await get(r2, '/c/a')
  assert.doesNotMatch(afterPurge.cache, /hit/)
  assert.equal(byPath.get('/c/a'), 2, 'went upstream again after the purge')

  // Concurrent misses on both instances: one upstream request in all.
  const burst = await Promise.all(Array.from({ length: 8 }, (_, i) => get(i % 2 === 0 ? r1 : r2, '/c/slow')))
  assert.ok(burst.every((r) => r.status === 200 && r.body === 'body of /c/slow'))
  assert.equal(byPath.get('/c/slow'), 1, 'collapsed across instances')

  // A response that cannot be stored releases its lock when it ends: the next request (through either
  // instance) does not wait for the lock to expire (2 s each).
  const started = Date.now()
  for (let i = 0; i < 8; i++) assert.equal((await get(i % 2 === 0 ? r1 : r2, '/c/private')).status, 200)
  assert.equal(byPath.get('/c/private'), 8)
  assert.ok(Date.now() - started < 5000, `eight uncacheable requests took ${Date.now() - started} ms`)

  // One rate limit across both: 4 allowed, wherever they land.
  const limited = []
  for (let i = 0; i < 6; i++) limited.push((await get(i % 2 === 0 ? r1 : r2, `/l/${i}`)).status)
  assert.deepEqual(limited, [200, 200, 200, 200, 429, 429])

  // Redis goes away: requests are still served; the cache is bypassed; one fails open, two closed.
  await redis.stop()
  const down1 = await get(r1, '/c/while-down')
  assert.equal(down1.status, 200)
  assert.equal(down1.body, 'body of /c/while-down')
  const down2 = await get(r2, '/c/while-down')
  assert.equal(down2.status, 200, 'cache bypassed, not failed')
  assert.equal(byPath.get('/c/while-down'), 2, 'no store: both went upstream')
  assert.equal((await get(r1, '/l/open')).status, 200, 'fail-open: limit not enforced while Redis is down')
  const closed = await get(r2, '/l/closed')
  assert.ok(closed.status >= 500, `fail-closed: refused (${closed.status})`)
  const ready = (await (await fetch(`${one.urls.admin}/readyz`)).json()) as {
    checks: Record<string, boolean>
  }
  assert.equal(ready.checks.redis, false)

  // Redis returns: caching and limits work again (bounded wait for the reconnect).
  await redis.restart()
  const deadline = Date.now() + 30_000
  let recovered = false
  while (Date.now() < deadline && !recovered) {
    const r = (await (await fetch(`${one.urls.admin}/readyz`)).json()) as { checks: Record<string, boolean> }
    const r2ready = (await (await fetch(`${two.urls.admin}/readyz`)).json()) as {
      checks: Record<string, boolean>
    }
    recovered = r.checks.redis === true && r2ready.checks.redis === true
    if (!recovered) await new Promise((res) => setTimeout(res, 200))
  }
  assert.ok(recovered, 'both instances reconnected')
  await get(r1, '/c/after')
  await untilCached(r2, '/c/after', 'shared.test')
  const again = await get(r2, '/c/after')
  assert.match(again.cache, /hit/, 'shared cache works again')
  assert.equal(byPath.get('/c/after'), 1, 'stored through one, served by two')
  assert.equal((await get(r2, '/l/after')).status, 200, 'fail-closed instance serves again')

  assert.equal(await one.stop(), 0)
  assert.equal(await two.stop(), 0)
})

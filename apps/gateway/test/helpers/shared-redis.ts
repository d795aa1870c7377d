import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import type { TestContext } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { request } from 'undici'
import { untilCached } from './cache.js'
import { startCli, writeConfig } from './cli.js'

const TOKEN = 'shared-redis-token'

/**
 * Two gateway instances on the Redis that `redis` (the config's connection keys) names: an entry stored
 * through one is a hit through the other, a tag purge through one reaches entries stored through both,
 * concurrent misses on both go upstream once, and one rate limit counts requests through both.
 */
export async function twoInstancesShareRedis(t: TestContext, redis: Record<string, unknown>): Promise<void> {
  const byPath = new Map<string, number>()
  const origin = await startOrigin({
    handler: (req, res) => {
      const path = req.url ?? '/'
      byPath.set(path, (byPath.get(path) ?? 0) + 1)
      setTimeout(
        () => {
          res.writeHead(200, {
            'cache-control': 'public, max-age=60',
            'cache-tag': 'group',
            'content-type': 'text/plain',
          })
          res.end(`body of ${path}`)
        },
        path.startsWith('/c/slow') ? 600 : 0,
      )
    },
  })
  t.after(() => origin.close())
  const config = {
    reverse: {
      listen: '127.0.0.1:0',
      routes: [
        { name: 'c', prefix: '/c', upstreams: [origin.url], cache: true },
        { name: 'l', prefix: '/l', upstreams: [origin.url], rateLimit: { max: 4, timeWindow: '1m' } },
      ],
    },
    cache: { store: 'redis' },
    redis: { ...redis, prefix: `gw-${randomBytes(6).toString('hex')}:` },
    admin: { listen: '127.0.0.1:0', token: TOKEN },
    log: { access: false },
  }
  const one = await startCli(t, ['--config', await writeConfig(t, config, 'one.json')], ['reverse', 'admin'])
  const two = await startCli(t, ['--config', await writeConfig(t, config, 'two.json')], ['reverse', 'admin'])
  for (const g of [one, two]) {
    const ready = (await (await fetch(`${g.urls.admin}/readyz`)).json()) as {
      checks: Record<string, boolean>
    }
    assert.equal(ready.checks.redis, true)
  }
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

  // Stored through one, a hit through two; and the other way round.
  for (const [writer, reader, path] of [
    [r1, r2, '/c/a'],
    [r2, r1, '/c/b'],
  ] as const) {
    assert.equal((await get(writer, path)).body, `body of ${path}`)
    assert.ok(await untilCached(reader, path, 'shared.test'), `${path} visible to the other instance`)
    assert.match((await get(reader, path)).cache, /hit/)
    assert.equal(byPath.get(path), 1)
  }

  // A tag purge through one instance removes the entries written through both.
  const purge = await request(`${one.urls.admin}/purge`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ tag: 'group' }),
  })
  assert.equal(purge.statusCode, 200, await purge.body.text())
  assert.doesNotMatch((await get(r2, '/c/a')).cache, /hit/)
  assert.doesNotMatch((await get(r1, '/c/b')).cache, /hit/)
  assert.equal(byPath.get('/c/a'), 2)
  assert.equal(byPath.get('/c/b'), 2)

  // Concurrent misses on both instances: one upstream request in all.
  const burst = await Promise.all(Array.from({ length: 8 }, (_, i) => get(i % 2 === 0 ? r1 : r2, '/c/slow')))
  assert.ok(burst.every((r) => r.status === 200 && r.body === 'body of /c/slow'))
  assert.equal(byPath.get('/c/slow'), 1, 'collapsed across instances')

  // One rate limit across both.
  const limited = []
  for (let i = 0; i < 6; i++) limited.push((await get(i % 2 === 0 ? r1 : r2, `/l/${i}`)).status)
  assert.deepEqual(limited, [200, 200, 200, 200, 429, 429])

  assert.equal(await one.stop(), 0)
  assert.equal(await two.stop(), 0)
}

// Issue 24 item 3: `cache: { store: redis, local: 1MiB }` on two instances. Each serves a hot entry from
// its own local tier; a purge through one instance's admin API reaches the other's local tier (through
// Redis pub/sub), so the other does not answer from a copy it still holds.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { redisForTests, startOrigin } from '@proxykit/core/testing'
import { request } from 'undici'
import { ConfigError, resolveConfig } from '../src/config/parse.js'
import { untilCached } from './helpers/cache.js'
import { startCli, writeConfig } from './helpers/cli.js'

const TOKEN = 'local-tier-token'

test('cache.local needs the Redis store', () => {
  assert.throws(
    () => resolveConfig({ cache: { local: '16MiB' } }),
    (err: unknown) =>
      err instanceof ConfigError &&
      err.problems.includes('cache.local: is a tier in front of Redis; it needs cache.store: redis'),
  )
  const config = resolveConfig({ cache: { store: 'redis', local: '16MiB' }, redis: 'redis://127.0.0.1:6379' })
  assert.equal(config.cache.local, 16 * 1024 * 1024)
})

test('a purge through one instance reaches the other instance’s local tier', async (t) => {
  const redis = await redisForTests()
  if (redis === null) return t.skip('no redis-server here')
  t.after(() => redis.stop())
  let served = 0
  const origin = await startOrigin({
    handler: (_req, res) => {
      served++
      res.writeHead(200, { 'cache-control': 'public, max-age=60', 'content-type': 'text/plain' })
      res.end(`version ${served}`)
    },
  })
  t.after(() => origin.close())
  const config = {
    reverse: {
      listen: '127.0.0.1:0',
      routes: [{ name: 'c', prefix: '/c', upstreams: [origin.url], cache: true }],
    },
    cache: { store: 'redis', local: '1MiB' },
    redis: { url: redis.url, prefix: `gw-${randomBytes(6).toString('hex')}:` },
    admin: { listen: '127.0.0.1:0', token: TOKEN },
    log: { access: false },
  }
  const one = await startCli(t, ['--config', await writeConfig(t, config, 'one.json')], ['reverse', 'admin'])
  const two = await startCli(t, ['--config', await writeConfig(t, config, 'two.json')], ['reverse', 'admin'])
  const get = async (base: string) => {
    const res = await request(`${base}/c/page`, { headers: { host: 'shared.test' } })
    return { cache: String(res.headers['cache-status'] ?? ''), body: await res.body.text() }
  }
  assert.equal((await get(one.urls.reverse!)).body, 'version 1')
  assert.ok(await untilCached(two.urls.reverse!, '/c/page', 'shared.test'))
  // Several hits through two: the later ones from its local tier.
  for (let i = 0; i < 5; i++) {
    const hit = await get(two.urls.reverse!)
    assert.match(hit.cache, /hit/)
    assert.equal(hit.body, 'version 1')
  }
  const purge = await request(`${one.urls.admin}/purge`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ url: 'http://shared.test/c/page' }),
  })
  assert.equal(purge.statusCode, 200, await purge.body.text())
  // Pub/sub is asynchronous: within a bounded wait, two stops answering version 1.
  const deadline = Date.now() + 10_000
  let after = await get(two.urls.reverse!)
  while (after.body === 'version 1' && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20))
    after = await get(two.urls.reverse!)
  }
  assert.equal(after.body, 'version 2', 'two went upstream after the purge')
  assert.equal(served, 2)
  assert.equal(await one.stop(), 0)
  assert.equal(await two.stop(), 0)
})

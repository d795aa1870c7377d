import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type RedisServer, startRedisServer } from '@proxykit/core/testing'
import { startCli, writeConfig } from './helpers/cli.js'

test('/readyz is 503 while the configured Redis is unreachable, 200 again once it is back', async (t) => {
  let server: RedisServer
  try {
    server = await startRedisServer()
  } catch (err) {
    if (process.env.CI) throw err
    return t.skip('no redis-server here')
  }
  t.after(() => server.stop())
  const file = await writeConfig(t, { redis: server.url, admin: { listen: '127.0.0.1:0' } })
  const gw = await startCli(t, ['--config', file], ['admin'])
  const readyz = async () => {
    const res = await fetch(`${gw.urls.admin}/readyz`)
    return { status: res.status, body: (await res.json()) as { checks: Record<string, boolean> } }
  }
  assert.equal((await readyz()).status, 200)
  await server.stop()
  const down = await readyz()
  assert.equal(down.status, 503)
  assert.equal(down.body.checks.redis, false)
  await server.restart()
  let up = await readyz()
  for (let i = 0; i < 150 && up.status !== 200; i++) {
    await new Promise((r) => setTimeout(r, 200))
    up = await readyz()
  }
  assert.equal(up.status, 200)
  assert.equal(await gw.stop(), 0)
})

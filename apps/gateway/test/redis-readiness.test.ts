import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type RedisServer, startRedisServer } from '@proxykit/core/testing'
import { startCli, writeConfig } from './helpers/cli.js'

// Redis is shared by every instance: its outage degrades them all alike (cache bypassed, limits failing
// open or closed), so /readyz stays 200 and names it rather than taking every instance out of the balancer.
test('/readyz names redis as degraded while it is unreachable (still 200), and the dashboard data says so', async (t) => {
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
    const body = (await res.json()) as { ready: boolean; degraded: string[]; checks: Record<string, boolean> }
    return { status: res.status, body }
  }
  /** The dashboard's latest point says redis is `up` (sampled once a second: waits, bounded). */
  const dashboard = async (up: boolean) => {
    for (let i = 0; i < 150; i++) {
      const live = (await (await fetch(`${gw.urls.admin}/live`)).json()) as { now: { redis: boolean } | null }
      if (live.now?.redis === up) return
      await new Promise((r) => setTimeout(r, 200))
    }
    assert.fail(`the dashboard's data did not say redis ${up ? 'ok' : 'degraded'} within 30 s`)
  }
  const before = await readyz()
  assert.equal(before.status, 200)
  assert.deepEqual(before.body.degraded, [])
  await dashboard(true)
  await server.stop()
  const down = await readyz()
  assert.equal(down.status, 200, 'degraded, not unready')
  assert.equal(down.body.ready, true)
  assert.deepEqual(down.body.degraded, ['redis'])
  assert.equal(down.body.checks.redis, false)
  await dashboard(false)
  await gw.waitForLog((l) => l.msg === 'redis degraded (serving without it where it fails)', 30_000)
  await server.restart()
  let up = await readyz()
  for (let i = 0; i < 150 && up.body.checks.redis !== true; i++) {
    await new Promise((r) => setTimeout(r, 200))
    up = await readyz()
  }
  assert.equal(up.status, 200)
  assert.deepEqual(up.body.degraded, [])
  await dashboard(true)
  assert.equal(await gw.stop(), 0)
})

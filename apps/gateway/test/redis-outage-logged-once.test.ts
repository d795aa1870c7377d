import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type RedisServer, startOrigin, startRedisServer } from '@proxykit/core/testing'
import { startCli, writeConfig } from './helpers/cli.js'

test('rateLimits: fail-closed logs a Redis outage once when it starts and once when it ends, with the count', async (t) => {
  let redis: RedisServer
  try {
    redis = await startRedisServer()
  } catch (err) {
    if (process.env.CI) throw err
    return t.skip('no redis-server here')
  }
  t.after(() => redis.stop())
  const origin = await startOrigin({ handler: (_req, res) => void res.end('ok') })
  t.after(() => origin.close())
  const file = await writeConfig(t, {
    redis: { url: redis.url, rateLimits: 'fail-closed' },
    reverse: {
      listen: '127.0.0.1:0',
      routes: [{ upstreams: [origin.url], rateLimit: { max: 100_000, timeWindow: '1m' } }],
    },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', file], ['reverse', 'admin'])
  assert.equal((await fetch(`${gw.urls.reverse}/before`)).status, 200)

  await redis.stop()
  const refused = 60
  const statuses: number[] = []
  for (let i = 0; i < refused; i++) statuses.push((await fetch(`${gw.urls.reverse}/down-${i}`)).status)
  assert.deepEqual(statuses, Array(refused).fill(503), 'fail-closed: every limited request refused')

  await redis.restart()
  // Bounded wait for the reconnect, then one request through the store again.
  let ready = false
  for (let i = 0; i < 150 && !ready; i++) {
    const body = (await (await fetch(`${gw.urls.admin}/readyz`)).json()) as { checks: { redis: boolean } }
    ready = body.checks.redis
    if (!ready) await new Promise((r) => setTimeout(r, 200))
  }
  assert.ok(ready, 'the gateway reconnected')
  assert.equal((await fetch(`${gw.urls.reverse}/after`)).status, 200)
  const back = await gw.waitForLog((l) => l.msg === 'access-control: rate-limit store answers again', 10_000)
  assert.equal(await gw.stop(), 0)

  const errors = gw.logs.filter((l) => l.level === 50)
  assert.equal(errors.length <= 2, true, `error lines: ${errors.map((l) => l.msg).join(' | ')}`)
  const failed = gw.logs.filter((l) => String(l.msg).startsWith('access-control: rate-limit store failed'))
  assert.equal(failed.length, 1, 'the outage start is logged once')
  assert.equal(back.refused, refused, 'the end carries the number of refused requests')
  assert.equal(
    gw.logs.filter((l) => l.msg === 'access' && l.listener === 'reverse').length,
    refused + 2,
    'one access line per request',
  )
})

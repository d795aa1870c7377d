import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { startOrigin } from '@proxykit/core/testing'
import { client, startProxy, tally } from './helpers.js'

test('expectedStatus: [204] — a health check answered 200 counts as down, 204 as up', async (t) => {
  const checks = { a: 0, b: 0 }
  const origin = (name: 'a' | 'b', status: number) =>
    startOrigin({
      handler: (req, res) => {
        if (req.url !== '/healthz') return void res.end(name)
        checks[name]++
        res.writeHead(status).end()
      },
    })
  const a = await origin('a', 200)
  const b = await origin('b', 204)
  t.after(() => Promise.all([a.close(), b.close()]))
  const proxy = await startProxy(t, {
    routes: [
      {
        name: 'app',
        upstreams: [a.url, b.url],
        healthCheck: {
          path: '/healthz',
          intervalMs: 20,
          timeoutMs: 5000,
          rise: 1,
          fall: 1,
          expectedStatus: [204],
        },
      },
    ],
  })
  const state = (i: number) => proxy.app.reverseProxy.upstreams('app')[i]!.state
  // Liveness bound only: wait until each upstream has answered several checks.
  for (let i = 0; i < 500 && (checks.a < 5 || checks.b < 5); i++) await sleep(20)
  assert.ok(checks.a >= 5 && checks.b >= 5, `checks ran (a ${checks.a}, b ${checks.b})`)
  assert.equal(state(0), 'unhealthy', 'a 200 is not in [204]')
  assert.equal(state(1), 'healthy', 'a 204 is')
  assert.deepEqual([...(await tally(client(t), `${proxy.url}/`, 6))], [['b', 6]])
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { client, startProxy, tally, waitUntil } from './helpers.js'

test('a health check that hangs past timeoutMs counts as a failure, even if a pass arrives later', async (t) => {
  let checks = 0
  const late: NodeJS.Timeout[] = []
  // The slow upstream answers its checks with a passing 204, but only after 1.5 s: past the 400 ms
  // timeout, so each check must count as failed. Were the timeout ignored (or the default 2 s), every
  // check would pass and the upstream would never leave. (400 ms and fall: 2, so that the fast upstream's
  // own checks never fail on a loaded machine.)
  const slow = await startOrigin({
    handler: (req, res) => {
      if (req.url !== '/healthz') return void res.end('slow')
      checks++
      late.push(setTimeout(() => res.writeHead(204).end(), 1500))
    },
  })
  const fast = await startOrigin({ handler: (_req, res) => void res.end('fast') })
  t.after(() => {
    for (const x of late) clearTimeout(x)
    return Promise.all([slow.close(), fast.close()])
  })
  const proxy = await startProxy(t, {
    routes: [
      {
        name: 'app',
        upstreams: [slow.url, fast.url],
        healthCheck: { path: '/healthz', intervalMs: 50, timeoutMs: 400, rise: 1, fall: 2 },
      },
    ],
  })
  const state = () => proxy.app.reverseProxy.upstreams('app')[0]!.state
  // Generous liveness bound, not a speed measurement.
  await waitUntil(() => state() === 'unhealthy', 400, 25)
  assert.equal(state(), 'unhealthy', `after ${checks} checks`)
  assert.deepEqual([...(await tally(client(t), `${proxy.url}/`, 6))], [['fast', 6]])
})

import assert from 'node:assert/strict'
import type { ServerResponse } from 'node:http'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { client, startProxy, tally, waitUntil } from './helpers.js'

test('a health check whose passing head arrives but whose body stalls counts as a failure', async (t) => {
  let checks = 0
  const open: ServerResponse[] = []
  // The stalling upstream answers its checks at once with 200 and a Content-Length of 100, then sends 10
  // bytes and nothing more. Judged by its status alone, every check would pass and it would never leave.
  const stalling = await startOrigin({
    handler: (req, res) => {
      if (req.url !== '/healthz') return void res.end('stalling')
      checks++
      res.writeHead(200, { 'content-length': '100' })
      res.write('0123456789')
      open.push(res)
    },
  })
  const fine = await startOrigin({ handler: (_req, res) => void res.end('fine') })
  t.after(() => {
    for (const res of open) res.destroy()
    return Promise.all([stalling.close(), fine.close()])
  })
  const proxy = await startProxy(t, {
    routes: [
      {
        name: 'app',
        upstreams: [stalling.url, fine.url],
        // timeoutMs is what a loaded CI machine needs for the fine upstream's checks to pass (at 400 ms it
        // was seen failing two in a row under a load average of 46); the stalling one fails them all the same.
        healthCheck: { path: '/healthz', intervalMs: 50, timeoutMs: 1500, rise: 1, fall: 2 },
      },
    ],
  })
  const state = () => proxy.app.reverseProxy.upstreams('app')[0]!.state
  // Generous liveness bound, not a speed measurement.
  await waitUntil(() => state() === 'unhealthy', 400, 25)
  assert.equal(state(), 'unhealthy', `after ${checks} checks`)
  assert.equal(proxy.app.reverseProxy.upstreams('app')[1]!.state, 'healthy', 'a complete body passes')
  assert.deepEqual([...(await tally(client(t), `${proxy.url}/`, 6))], [['fine', 6]])
})

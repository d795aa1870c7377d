import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { client, get, startProxy, tally, waitUntil } from './helpers.js'

test('active checks take a failing upstream out after `fall` and bring it back after `rise`', async (t) => {
  let sick = false
  const a = await startOrigin({
    handler: (req, res) => {
      if (req.url === '/healthz') res.writeHead(sick ? 503 : 204).end()
      else res.end('a')
    },
  })
  const b = await startOrigin({
    handler: (req, res) => {
      if (req.url === '/healthz') res.writeHead(204).end()
      else res.end('b')
    },
  })
  t.after(() => Promise.all([a.close(), b.close()]))
  const proxy = await startProxy(t, {
    routes: [
      {
        name: 'app',
        upstreams: [a.url, b.url],
        healthCheck: {
          path: '/healthz',
          intervalMs: 40,
          timeoutMs: 1000,
          rise: 2,
          fall: 2,
          expectedStatus: [200, 204],
        },
      },
    ],
  })
  const agent = client(t)
  const waitFor = (state: string) =>
    waitUntil(() => proxy.app.reverseProxy.upstreams('app')[0]!.state === state, 200, 20)
  assert.deepEqual([...(await tally(agent, `${proxy.url}/`, 10))].sort(), [
    ['a', 5],
    ['b', 5],
  ])
  sick = true
  assert.ok(await waitFor('unhealthy'), 'marked unhealthy')
  assert.ok(a.requests.filter((r) => r.url === '/healthz').length >= 2)
  assert.deepEqual([...(await tally(agent, `${proxy.url}/`, 10))], [['b', 10]])
  sick = false
  assert.ok(await waitFor('healthy'), 'healthy again')
  const c = await tally(agent, `${proxy.url}/`, 10)
  assert.equal(c.get('a'), 5)
  assert.equal((await get(agent, `${proxy.url}/`)).status, 200)
  const status = proxy.app.reverseProxy.upstreams('app')[0]!
  assert.equal(status.healthy, true)
  assert.equal(typeof status.inFlight, 'number')
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { client, get, namedOrigins, startProxy, waitUntil } from './helpers.js'

test('with every upstream down the client gets 503, Retry-After and a clear body', async (t) => {
  const origins = await namedOrigins(t, 2)
  const urls = origins.map((o) => o.url)
  await Promise.all(origins.map((o) => o.close()))
  const proxy = await startProxy(t, {
    routes: [
      {
        name: 'app',
        upstreams: urls,
        healthCheck: { intervalMs: 20, timeoutMs: 500, fall: 1, rise: 1 },
      },
    ],
  })
  const agent = client(t)
  const states = () => proxy.app.reverseProxy.upstreams('app').map((u) => u.state)
  // Liveness bound only: the checks run in the background.
  await waitUntil(() => states().every((s) => s === 'unhealthy'), 250, 20)
  assert.deepEqual(states(), ['unhealthy', 'unhealthy'])
  const r = await get(agent, `${proxy.url}/`)
  assert.equal(r.status, 503)
  assert.match(r.text, /no healthy upstream for route 'app'/)
  const after = Number(r.headers['retry-after'])
  assert.ok(after >= 1 && after <= 3, `Retry-After ${after}`)
})

test('with every upstream refusing and no active checks, each request reports the refusal (502)', async (t) => {
  const origins = await namedOrigins(t, 2)
  const urls = origins.map((o) => o.url)
  await Promise.all(origins.map((o) => o.close()))
  const proxy = await startProxy(t, {
    routes: [{ name: 'app', upstreams: urls, passiveHealth: { failures: 1, ejectMs: 3000 } }],
  })
  const agent = client(t)
  for (let i = 0; i < 3; i++) {
    const r = await get(agent, `${proxy.url}/`)
    assert.equal(r.status, 502)
    assert.match(r.text, /refused the connection/)
  }
})

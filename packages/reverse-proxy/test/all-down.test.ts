import assert from 'node:assert/strict'
import { test } from 'node:test'
import { client, get, namedOrigins, startProxy } from './helpers.js'

test('with every upstream down the client gets 503, Retry-After and a clear body', async (t) => {
  const origins = await namedOrigins(t, 2)
  const urls = origins.map((o) => o.url)
  await Promise.all(origins.map((o) => o.close()))
  const proxy = await startProxy(t, {
    routes: [{ name: 'app', upstreams: urls, passive: { failures: 1, ejectMs: 3000, maxEjectMs: 10000 } }],
  })
  const agent = client(t)
  const first = await get(agent, `${proxy.url}/`)
  assert.equal(first.status, 502, 'both refused: the first request reports the refusal')
  assert.match(first.text, /refused the connection/)
  const r = await get(agent, `${proxy.url}/`)
  assert.equal(r.status, 503)
  assert.match(r.text, /no healthy upstream for route 'app'/)
  const after = Number(r.headers['retry-after'])
  assert.ok(after >= 1 && after <= 3, `Retry-After ${after}`)
  const state = proxy.app.reverseProxy.upstreams('app').map((u) => u.state)
  assert.deepEqual(state, ['ejected', 'ejected'])
})

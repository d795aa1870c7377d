import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { client, get, startProxy } from './helpers.js'

// nginx ignores max_fails for a group of one server: ejecting a route's only (or last) upstream turns a
// few failed requests into a site answering 503 to everything for seconds.

test("a route's only upstream failing again and again is still tried: its answers reach the client, never 503", async (t) => {
  const failing = await startOrigin({
    handler: (_req, res) => {
      res.writeHead(500, { 'content-length': '4' })
      res.end('oops')
    },
  })
  t.after(() => failing.close())
  const proxy = await startProxy(t, {
    routes: [
      // Even when the route counts 500s and one failure is enough to eject.
      { name: 'app', upstreams: [failing.url], passiveHealth: { failures: 1, statuses: [500] } },
    ],
  })
  const agent = client(t)
  const statuses: number[] = []
  for (let i = 0; i < 12; i++) statuses.push((await get(agent, `${proxy.url}/x`)).status)
  assert.deepEqual(statuses, Array(12).fill(500), "every request got the application's own answer")
  assert.equal(failing.hits, 12)
  assert.equal(proxy.app.reverseProxy.upstreams('app')[0]!.state, 'healthy')
})

test('an only upstream that refuses connections answers 502 each time (it is tried), not 503', async (t) => {
  const gone = await startOrigin()
  const url = gone.url
  await gone.close()
  const proxy = await startProxy(t, {
    routes: [{ name: 'app', upstreams: [url], passiveHealth: { failures: 1 }, retries: false }],
  })
  const agent = client(t)
  const statuses: number[] = []
  for (let i = 0; i < 6; i++) statuses.push((await get(agent, `${proxy.url}/x`)).status)
  assert.deepEqual(statuses, Array(6).fill(502))
})

test('of two upstreams, the second to fail is the last available one and stays in', async (t) => {
  const a = await startOrigin()
  const b = await startOrigin()
  const urls = [a.url, b.url]
  await Promise.all([a.close(), b.close()])
  const proxy = await startProxy(t, {
    routes: [{ name: 'app', balancer: 'round-robin', upstreams: urls, passiveHealth: { failures: 1 } }],
  })
  const agent = client(t)
  for (let i = 0; i < 4; i++) assert.equal((await get(agent, `${proxy.url}/x`)).status, 502)
  const states = proxy.app.reverseProxy.upstreams('app').map((u) => u.state)
  assert.equal(states.filter((s) => s === 'ejected').length, 1, `states ${states.join(', ')}`)
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { client, get, startProxy } from './helpers.js'

test('a POST whose upstream fails is never sent a second time; an idempotent GET is retried elsewhere', async (t) => {
  // The first upstream reads the request, then drops the connection without answering.
  const dropping = await startOrigin({
    handler: (req) => {
      req.socket.destroy()
    },
  })
  const healthy = await startOrigin()
  t.after(() => Promise.all([dropping.close(), healthy.close()]))
  const proxy = await startProxy(t, {
    routes: [
      { name: 'app', balancer: 'round-robin', upstreams: [dropping.url, healthy.url], passiveHealth: false },
    ],
  })
  const agent = client(t)
  const post = await get(agent, `${proxy.url}/orders`, {
    method: 'POST',
    body: 'buy 1',
    headers: { 'content-type': 'text/plain' },
  })
  assert.equal(post.status, 502)
  assert.match(post.text, /closed the connection before answering/)
  assert.equal(dropping.requests.filter((r) => r.method === 'POST').length, 1)
  assert.equal(healthy.requests.filter((r) => r.method === 'POST').length, 0, 'never replayed elsewhere')

  assert.equal((await get(agent, `${proxy.url}/turn`)).status, 200) // round robin: the healthy one's turn
  const before = dropping.hits
  const getR = await get(agent, `${proxy.url}/orders`)
  assert.equal(getR.status, 200, 'the idempotent GET went on to the other upstream')
  assert.equal(dropping.hits, before + 1, 'it was tried once on the dropping upstream')
  assert.equal(healthy.requests.filter((r) => r.url === '/orders').length, 1)

  // A PUT carries a body (a consumed stream): idempotent or not, it cannot be replayed.
  assert.equal((await get(agent, `${proxy.url}/turn`)).status, 200)
  const put = await get(agent, `${proxy.url}/orders/1`, {
    method: 'PUT',
    body: 'x',
    headers: { 'content-type': 'text/plain' },
  })
  assert.equal(put.status, 502)
  assert.equal(healthy.requests.filter((r) => r.method === 'PUT').length, 0)
})

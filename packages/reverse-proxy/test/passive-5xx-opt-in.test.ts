import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { client, get, namedOrigins, startProxy } from './helpers.js'

// A 5xx is the application's answer: by default passive health counts only what nginx's max_fails counts
// (connection errors, resets, timeouts); a route that wants 5xx counted lists the statuses.

async function setup(t: Parameters<typeof startProxy>[0], passiveHealth: object | undefined) {
  const failing = await startOrigin({
    handler: (_req, res) => {
      res.writeHead(500, { 'content-length': '4' })
      res.end('oops')
    },
  })
  t.after(() => failing.close())
  const [healthy] = await namedOrigins(t, 1)
  const proxy = await startProxy(t, {
    routes: [
      {
        name: 'app',
        balancer: 'round-robin',
        upstreams: [failing.url, healthy!.url],
        ...(passiveHealth === undefined ? {} : { passiveHealth }),
      },
    ],
  })
  const agent = client(t)
  for (let i = 0; i < 20; i++) await get(agent, `${proxy.url}/x`)
  return { failing, state: proxy.app.reverseProxy.upstreams('app')[0]!.state }
}

test('by default, 500 answers do not eject an upstream', async (t) => {
  const { failing, state } = await setup(t, undefined)
  assert.equal(state, 'healthy')
  assert.equal(failing.hits, 10, 'it kept its half of the requests')
})

test('with passiveHealth.statuses, the listed answers count and eject it', async (t) => {
  const { failing, state } = await setup(t, { failures: 3, statuses: [500, 502, 503, 504] })
  assert.equal(state, 'ejected')
  assert.equal(failing.hits, 3)
})

test('connection errors count by default', async (t) => {
  const gone = await startOrigin()
  const url = gone.url
  await gone.close()
  const [healthy] = await namedOrigins(t, 1)
  const proxy = await startProxy(t, {
    routes: [{ name: 'app', balancer: 'round-robin', upstreams: [url, healthy!.url] }],
  })
  const agent = client(t)
  for (let i = 0; i < 10; i++) assert.equal((await get(agent, `${proxy.url}/x`)).status, 200)
  assert.equal(proxy.app.reverseProxy.upstreams('app')[0]!.state, 'ejected')
})

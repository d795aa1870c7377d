// @fastify/cors with its defaults registers a preflight route, `OPTIONS *`. A reverse-proxy route at prefix
// '/' takes every method on '/*' too, and Fastify cannot hold both. In either order of registration the app
// starts, and OPTIONS there is cors's (its hook answers preflights and refuses other OPTIONS, its route
// handler takes what the hook lets through), every other method the proxy's: registered first, cors keeps
// its route and ours leaves OPTIONS; registered after, cors's route is not added and ours hands OPTIONS to
// its handler (that order failed with FST_ERR_DUPLICATED_ROUTE).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import cors from '@fastify/cors'
import { startOrigin } from '@proxykit/core/testing'
import type { FastifyInstance } from 'fastify'
import { client, get, startProxy } from './helpers.js'

for (const order of ['before', 'after'] as const) {
  test(`@fastify/cors registered ${order} the proxy at prefix / answers OPTIONS, the proxy everything else`, async (t) => {
    const seen: string[] = []
    const origin = await startOrigin({
      handler: (req, res) => {
        seen.push(`${req.method} ${req.url}`)
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '5' })
        res.end('hello')
      },
    })
    t.after(() => origin.close())
    const withCors = (app: FastifyInstance) => app.register(cors, { origin: 'https://front.test' })
    const proxy = await startProxy(t, { routes: [{ upstreams: [origin.url] }] }, { [order]: withCors })
    const agent = client(t)
    const preflight = await get(agent, `${proxy.url}/api/x`, {
      method: 'OPTIONS',
      headers: { origin: 'https://front.test', 'access-control-request-method': 'PUT' },
    })
    assert.equal(preflight.status, 204)
    assert.equal(preflight.headers['access-control-allow-origin'], 'https://front.test')
    assert.equal(preflight.headers['access-control-allow-methods'], 'GET,HEAD,POST')
    // Not a preflight (no Origin): cors's strict preflight check answers 400, as on any app with cors.
    const other = await get(agent, `${proxy.url}/api/x`, { method: 'OPTIONS' })
    assert.equal(other.status, 400)
    const ok = await get(agent, `${proxy.url}/api/x`, { headers: { origin: 'https://front.test' } })
    assert.equal(ok.status, 200)
    assert.equal(ok.text, 'hello')
    assert.equal(ok.headers['access-control-allow-origin'], 'https://front.test')
    const put = await get(agent, `${proxy.url}/api/y`, {
      method: 'PUT',
      headers: { origin: 'https://front.test' },
    })
    assert.equal(put.status, 200)
    assert.deepEqual(seen, ['GET /api/x', 'PUT /api/y'])
  })
}

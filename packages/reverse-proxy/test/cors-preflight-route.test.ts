// @fastify/cors with its defaults registers a preflight route, `OPTIONS *`. A reverse-proxy route at prefix
// '/' takes every method on '/*' too; registered after cors it leaves OPTIONS to cors's route instead of
// failing with FST_ERR_DUPLICATED_ROUTE. Registered before cors, the collision stays (cors adds its route
// after ours): the README's known limits.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import cors from '@fastify/cors'
import { startOrigin } from '@proxykit/core/testing'
import { client, get, startProxy } from './helpers.js'

test('@fastify/cors registered first answers preflights, the proxy at prefix / everything else', async (t) => {
  const seen: string[] = []
  const origin = await startOrigin({
    handler: (req, res) => {
      seen.push(`${req.method} ${req.url}`)
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '5' })
      res.end('hello')
    },
  })
  t.after(() => origin.close())
  const proxy = await startProxy(
    t,
    { routes: [{ upstreams: [origin.url] }] },
    { before: (app) => app.register(cors, { origin: 'https://front.test' }) },
  )
  const agent = client(t)
  const preflight = await get(agent, `${proxy.url}/api/x`, {
    method: 'OPTIONS',
    headers: { origin: 'https://front.test', 'access-control-request-method': 'PUT' },
  })
  assert.equal(preflight.status, 204)
  assert.equal(preflight.headers['access-control-allow-origin'], 'https://front.test')
  assert.equal(preflight.headers['access-control-allow-methods'], 'GET,HEAD,POST')
  const ok = await get(agent, `${proxy.url}/api/x`, { headers: { origin: 'https://front.test' } })
  assert.equal(ok.status, 200)
  assert.equal(ok.text, 'hello')
  assert.equal(ok.headers['access-control-allow-origin'], 'https://front.test')
  assert.deepEqual(seen, ['GET /api/x'])
})

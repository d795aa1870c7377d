// A route's `register` plugins (here @fastify/cors and @fastify/helmet) run on that route alone: a sibling
// route gets none of their headers, and its OPTIONS requests still go upstream rather than to cors's
// preflight route, which is narrowed to the paths of the route that registered it.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import cors from '@fastify/cors'
import helmet from '@fastify/helmet'
import { startOrigin } from '@proxykit/core/testing'
import { client, get, startProxy } from './helpers.js'

test('plugins registered for one route reach that route only', async (t) => {
  const origin = await startOrigin({
    handler: (req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'x-method': req.method ?? '' })
      res.end('hello')
    },
  })
  t.after(() => origin.close())
  const proxy = await startProxy(t, {
    routes: [
      {
        name: 'api',
        prefix: '/api',
        upstreams: [origin.url],
        register: async (instance) => {
          await instance.register(cors, { origin: ['https://front.test'], credentials: true })
          await instance.register(helmet)
        },
      },
      // A second route with its own cors at prefix '/': two `OPTIONS *` would collide if not narrowed.
      {
        name: 'root',
        prefix: '/',
        upstreams: [origin.url],
        register: (instance) => instance.register(cors, { origin: 'https://other.test' }),
      },
      { name: 'plain', prefix: '/plain', upstreams: [origin.url] },
    ],
  })
  const agent = client(t)
  const headers = { origin: 'https://front.test' }

  const api = await get(agent, `${proxy.url}/api/x`, { headers })
  assert.equal(api.status, 200)
  assert.equal(api.headers['access-control-allow-origin'], 'https://front.test')
  assert.equal(api.headers['access-control-allow-credentials'], 'true')
  assert.equal(api.headers['x-content-type-options'], 'nosniff')

  const plain = await get(agent, `${proxy.url}/plain/x`, { headers })
  assert.equal(plain.status, 200)
  assert.equal(plain.headers['access-control-allow-origin'], undefined)
  assert.equal(plain.headers['x-content-type-options'], undefined)

  const root = await get(agent, `${proxy.url}/other`, { headers })
  assert.equal(root.headers['access-control-allow-origin'], 'https://other.test')
  assert.equal(root.headers['x-content-type-options'], undefined)

  const preflight = await get(agent, `${proxy.url}/api/x`, {
    method: 'OPTIONS',
    headers: { ...headers, 'access-control-request-method': 'PUT' },
  })
  assert.equal(preflight.status, 204)
  assert.equal(preflight.headers['access-control-allow-origin'], 'https://front.test')
  assert.equal(preflight.headers['x-method'], undefined, 'the preflight is answered, not proxied')

  const options = await get(agent, `${proxy.url}/plain/x`, { method: 'OPTIONS' })
  assert.equal(options.status, 200)
  assert.equal(options.headers['x-method'], 'OPTIONS', 'OPTIONS on the plain route is proxied')
})

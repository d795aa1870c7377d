import assert from 'node:assert/strict'
import { test } from 'node:test'
import { rawRequest, startOrigin } from '@proxykit/core/testing'
import { client, get, startProxy } from './helpers.js'

test('routes by prefix with rewriting, by host, beside the app’s own routes, and streams bodies', async (t) => {
  const api = await startOrigin()
  const web = await startOrigin()
  const admin = await startOrigin()
  t.after(() => Promise.all([api.close(), web.close(), admin.close()]))
  let seen: unknown = null
  const proxy = await startProxy(
    t,
    {
      routes: [
        { name: 'api', prefix: '/api', rewritePrefix: '/v1', upstreams: [api.url] },
        { name: 'admin', prefix: '/', host: 'admin.test', upstreams: [admin.url] },
        { name: 'web', prefix: '/', upstreams: [web.url] },
      ],
    },
    {
      after: (app) => {
        app.get('/health', async () => 'app-own')
        app.addHook('onResponse', async (request) => {
          seen = { direction: request.proxy?.direction, upstream: request.proxy?.upstream }
        })
      },
    },
  )
  const agent = client(t)

  const r1 = await rawRequest(
    proxy.port,
    'GET /api/users?id=7 HTTP/1.1\r\nHost: public.test\r\nConnection: close, X-Secret\r\nX-Secret: hop\r\nKeep-Alive: timeout=5\r\n\r\n',
    { idleMs: 3000 },
  )
  assert.equal(r1.statusCode, 200)
  const body1 = JSON.parse(r1.body.toString())
  assert.equal(body1.url, '/v1/users?id=7')
  assert.equal(body1.headers.host, `127.0.0.1:${api.port}`)
  assert.equal(body1.headers['x-secret'], undefined, 'a header named in Connection is hop-by-hop')
  assert.equal(body1.headers['keep-alive'], undefined)
  assert.equal(body1.headers['x-forwarded-host'], 'public.test')
  assert.equal(api.hits, 1)

  const r2 = await get(agent, `${proxy.url}/api`)
  assert.equal(JSON.parse(r2.text).url, '/v1')

  const r3 = await get(agent, `${proxy.url}/page`, { headers: { host: 'ADMIN.test:8080' } })
  assert.equal(JSON.parse(r3.text).url, '/page')
  assert.equal(admin.hits, 1)

  const r4 = await get(agent, `${proxy.url}/page`)
  assert.equal(JSON.parse(r4.text).url, '/page')
  assert.equal(web.hits, 1)

  const own = await get(agent, `${proxy.url}/health`)
  assert.equal(own.text, 'app-own')
  assert.equal(web.hits, 1)

  const post = await get(agent, `${proxy.url}/api/echo`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"a":1}',
  })
  const echoed = JSON.parse(post.text)
  assert.equal(echoed.method, 'POST')
  assert.equal(echoed.body, '{"a":1}')
  assert.deepEqual(seen, { direction: 'reverse', upstream: { url: api.url, attempts: 1 } })

  const head = await get(agent, `${proxy.url}/api/x`, { method: 'HEAD' })
  assert.equal(head.status, 200)
  assert.equal(head.text, '')
})

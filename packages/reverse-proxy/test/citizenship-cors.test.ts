// Issue 21: the headers an app's hooks set (@fastify/cors, @fastify/helmet, its own onRequest hooks) are on
// every answer of the reverse proxy: proxied ones on the raw fast path and its own errors. On a conflict the
// hook's value wins (it was made for this request), except for the headers that frame the upstream's bytes
// (Content-Length, Content-Encoding, Transfer-Encoding …), which stay the upstream's.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import cors from '@fastify/cors'
import helmet from '@fastify/helmet'
import { startOrigin } from '@proxykit/core/testing'
import { client, get, startProxy } from './helpers.js'

test('@fastify/cors and @fastify/helmet headers are on proxied answers and on the proxy’s own errors', async (t) => {
  const origin = await startOrigin({
    handler: (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '5' })
      res.end('hello')
    },
  })
  t.after(() => origin.close())
  const proxy = await startProxy(
    t,
    {
      routes: [
        { name: 'app', prefix: '/app', upstreams: [origin.url] },
        { name: 'down', prefix: '/down', upstreams: ['http://127.0.0.1:1'], retries: false },
      ],
    },
    {
      before: async (app) => {
        await app.register(cors, { origin: 'https://front.test' })
        await app.register(helmet)
      },
    },
  )
  const agent = client(t)
  const ok = await get(agent, `${proxy.url}/app/x`, { headers: { origin: 'https://front.test' } })
  assert.equal(ok.status, 200)
  assert.equal(ok.text, 'hello')
  assert.equal(ok.headers['access-control-allow-origin'], 'https://front.test')
  assert.equal(ok.headers['x-content-type-options'], 'nosniff')
  assert.equal(ok.headers['x-frame-options'], 'SAMEORIGIN')
  assert.equal(ok.headers['content-length'], '5')

  const down = await get(agent, `${proxy.url}/down/x`, { headers: { origin: 'https://front.test' } })
  assert.equal(down.status, 502)
  assert.equal(down.headers['access-control-allow-origin'], 'https://front.test')
  assert.equal(down.headers['x-content-type-options'], 'nosniff')
})

test('on a conflict the hook’s header wins, except the headers that frame the upstream’s body', async (t) => {
  const body = 'x'.repeat(100)
  const origin = await startOrigin({
    handler: (_req, res) => {
      res.writeHead(200, {
        'content-type': 'text/plain',
        'content-length': String(body.length),
        'access-control-allow-origin': '*',
        'x-frame-options': 'DENY',
        'x-origin-only': 'kept',
      })
      res.end(body)
    },
  })
  t.after(() => origin.close())
  const proxy = await startProxy(
    t,
    { routes: [{ name: 'app', prefix: '/app', upstreams: [origin.url] }] },
    {
      before: async (app) => {
        await app.register(cors, { origin: 'https://front.test' })
        await app.register(helmet)
        app.addHook('onRequest', async (_request, reply) => {
          // Set on Fastify's table and on the raw response: neither may reframe the upstream's bytes.
          reply.header('content-length', '3')
          reply.raw.setHeader('content-encoding', 'br')
          reply.header('x-app', 'hook')
        })
      },
    },
  )
  const res = await get(client(t), `${proxy.url}/app/page`, { headers: { origin: 'https://front.test' } })
  assert.equal(res.status, 200)
  // The hooks' values, made for this request, replace the upstream's.
  assert.equal(res.headers['access-control-allow-origin'], 'https://front.test')
  assert.equal(res.headers['x-frame-options'], 'SAMEORIGIN')
  assert.equal(res.headers['x-app'], 'hook')
  // The upstream's framing stays.
  assert.equal(res.headers['content-length'], String(body.length))
  assert.equal(res.headers['content-encoding'], undefined)
  assert.equal(res.text, body)
  assert.equal(res.headers['x-origin-only'], 'kept')
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import Fastify from 'fastify'
import reverseProxy from '../src/index.js'
import { client, get } from './helpers.js'

// Fastify's register prefix goes in front of every route's prefix, and, as with @fastify/http-proxy, the
// whole matched prefix is replaced by rewritePrefix upstream.
test('register({ prefix }) is honoured: /v1/api/users is matched and rewritePrefix replaces /v1/api', async (t) => {
  const origin = await startOrigin({
    handler: (req, res) => {
      const redirect = req.url === '/internal/old' ? { location: '/internal/new' } : {}
      res.writeHead(req.url === '/internal/old' ? 302 : 200, { 'x-seen': req.url ?? '', ...redirect })
      res.end()
    },
  })
  t.after(() => origin.close())
  const app = Fastify()
  t.after(() => app.close())
  app.get('/api/users', async () => 'the app’s own route')
  await app.register(reverseProxy, {
    prefix: '/v1',
    routes: [
      { name: 'api', prefix: '/api', rewritePrefix: '/internal', upstreams: [origin.url] },
      { name: 'rest', upstreams: [origin.url] },
    ],
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
  const agent = client(t)

  const users = await get(agent, `${base}/v1/api/users?page=2`)
  assert.equal(users.status, 200)
  assert.equal(users.headers['x-seen'], '/internal/users?page=2')
  // The route '/' under the register prefix: the register prefix alone is stripped.
  assert.equal((await get(agent, `${base}/v1/other`)).headers['x-seen'], '/other')
  assert.equal((await get(agent, `${base}/v1`)).headers['x-seen'], '/')
  // Outside the register prefix the app's own routes answer, untouched.
  assert.equal((await get(agent, `${base}/api/users`)).text, 'the app’s own route')
  // A redirect inside rewritePrefix is mapped back under the public prefix.
  assert.equal((await get(agent, `${base}/v1/api/old`)).headers.location, '/v1/api/new')
  assert.deepEqual(app.reverseProxy.routes(), ['api', 'rest'])
})

test('inside a prefixed child context the context prefix is part of the match and is stripped too', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const app = Fastify()
  t.after(() => app.close())
  await app.register(
    async (child) => {
      await child.register(reverseProxy, { routes: [{ prefix: '/api', upstreams: [origin.url] }] })
    },
    { prefix: '/outer' },
  )
  await app.listen({ port: 0, host: '127.0.0.1' })
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
  const agent = client(t)
  const res = await get(agent, `${base}/outer/api/users`)
  assert.equal(res.status, 200)
  assert.equal((JSON.parse(res.text) as { url: string }).url, '/users')
  assert.equal((await get(agent, `${base}/api/users`)).status, 404)
  assert.equal(app.hasDecorator('reverseProxy'), false, 'the decorator stays in the child context')
})

test('a register prefix that is not a path fails at registration and names the option', async () => {
  const app = Fastify()
  await assert.rejects(
    async () => {
      await app.register(reverseProxy, { prefix: 'v1', routes: [{ upstreams: ['http://127.0.0.1:1'] }] })
      await app.ready()
    },
    { message: /@proxykit\/reverse-proxy: prefix: must be a path/ },
  )
  await app.close()
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import Fastify from 'fastify'
import reverseProxy, { type ReverseProxyApi } from '../src/index.js'
import { client, get } from './helpers.js'

async function origin(t: { after(fn: () => unknown): void }, name: string) {
  const o = await startOrigin({
    handler: (req, res) => {
      res.writeHead(200, { server: `origin-${name}`, 'x-origin': name, 'x-seen': req.url ?? '' })
      res.end(name)
    },
  })
  t.after(() => o.close())
  return o
}

test('two registrations in sibling contexts keep their routes, options, decorators and hooks apart', async (t) => {
  const [a, b] = [await origin(t, 'a'), await origin(t, 'b')]
  const app = Fastify()
  t.after(() => app.close())
  const apis: Record<string, ReverseProxyApi> = {}
  const seenByA: string[] = []
  await app.register(
    async (ctx) => {
      ctx.addHook('onRequest', async (request) => {
        seenByA.push(request.url)
      })
      await ctx.register(reverseProxy, {
        hideHeaders: [],
        routes: [{ name: 'api', prefix: '/api', upstreams: [a.url] }],
      })
      apis.a = ctx.reverseProxy
    },
    { prefix: '/a' },
  )
  await app.register(
    async (ctx) => {
      await ctx.register(reverseProxy, { routes: [{ name: 'api', prefix: '/api', upstreams: [b.url] }] })
      apis.b = ctx.reverseProxy
    },
    { prefix: '/b' },
  )
  await app.listen({ port: 0, host: '127.0.0.1' })
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
  const agent = client(t)

  const ra = await get(agent, `${base}/a/api/x`)
  const rb = await get(agent, `${base}/b/api/x`)
  assert.equal(ra.text, 'a')
  assert.equal(rb.text, 'b')
  assert.equal(ra.headers['x-seen'], '/x')
  // Options: context a keeps `server` (hideHeaders: []), b hides it (the default).
  assert.equal(ra.headers.server, 'origin-a')
  assert.equal(rb.headers.server, undefined)
  // Hooks: a's onRequest hook never runs for b's routes.
  assert.deepEqual(seenByA, ['/a/api/x'])
  // Decorators: one per context, each with its own route 'api' and its own upstream; none at the root.
  assert.equal(app.hasDecorator('reverseProxy'), false)
  assert.notEqual(apis.a, apis.b)
  assert.deepEqual(
    apis.a!.upstreams('api').map((u) => u.url),
    [a.url],
  )
  assert.deepEqual(
    apis.b!.upstreams('api').map((u) => u.url),
    [b.url],
  )
  // Draining a's only upstream leaves b serving.
  await apis.a!.drainUpstream('api', a.url, { timeoutMs: 1000 })
  assert.equal((await get(agent, `${base}/a/api/x`)).status, 503)
  assert.equal((await get(agent, `${base}/b/api/x`)).text, 'b')
})

test('two registrations in one context under different prefixes share one decorator holding both', async (t) => {
  const [a, b] = [await origin(t, 'a'), await origin(t, 'b')]
  const app = Fastify()
  t.after(() => app.close())
  await app.register(reverseProxy, { prefix: '/a', routes: [{ name: 'a', upstreams: [a.url] }] })
  await app.register(reverseProxy, { prefix: '/b', routes: [{ name: 'b', upstreams: [b.url] }] })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
  const agent = client(t)
  assert.equal((await get(agent, `${base}/a/x`)).text, 'a')
  assert.equal((await get(agent, `${base}/b/x`)).text, 'b')
  assert.deepEqual(app.reverseProxy.routes(), ['a', 'b'])
  assert.deepEqual(
    app.reverseProxy.upstreams('b').map((u) => u.url),
    [b.url],
  )
})

test('a route name used by another registration of the same context fails at registration, named', async () => {
  const app = Fastify()
  await assert.rejects(
    async () => {
      await app.register(reverseProxy, {
        prefix: '/a',
        routes: [{ name: 'api', upstreams: ['http://127.0.0.1:1'] }],
      })
      await app.register(reverseProxy, {
        prefix: '/b',
        routes: [{ name: 'api', upstreams: ['http://127.0.0.1:2'] }],
      })
    },
    { message: /routes: the route name 'api' is already used by another registration/ },
  )
  await app.close().catch(() => {}) // close() repeats the registration error
})

test('default route names include the register prefix, so two registrations of one route shape coexist', async (t) => {
  const app = Fastify()
  t.after(() => app.close())
  await app.register(reverseProxy, {
    prefix: '/a',
    routes: [{ prefix: '/api', upstreams: ['http://127.0.0.1:1'] }],
  })
  await app.register(reverseProxy, {
    prefix: '/b',
    routes: [{ prefix: '/api', upstreams: ['http://127.0.0.1:1'] }],
  })
  await app.ready()
  assert.deepEqual(app.reverseProxy.routes(), ['/a/api', '/b/api'])
})

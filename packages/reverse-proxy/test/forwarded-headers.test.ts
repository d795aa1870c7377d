import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { client, get, startProxy } from './helpers.js'

const spoof = { 'x-forwarded-for': '203.0.113.9', 'x-forwarded-proto': 'https', forwarded: 'for=203.0.113.9' }

test('X-Forwarded-For from an untrusted client is not trusted', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const proxy = await startProxy(t, { routes: [{ upstreams: [origin.url] }] })
  const r = await get(client(t), `${proxy.url}/`, { headers: { ...spoof, host: 'shop.test' } })
  const seen = JSON.parse(r.text).headers
  assert.equal(seen['x-forwarded-for'], '127.0.0.1')
  assert.equal(seen['x-forwarded-proto'], 'http')
  assert.equal(seen['x-forwarded-host'], 'shop.test')
  assert.equal(seen.forwarded, 'for=127.0.0.1;host=shop.test;proto=http')
})

test('a trusted peer’s X-Forwarded-For and Forwarded are kept and appended to', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const proxy = await startProxy(t, { trustProxy: '127.0.0.1', routes: [{ upstreams: [origin.url] }] })
  const seen = JSON.parse((await get(client(t), `${proxy.url}/`, { headers: spoof })).text).headers
  assert.equal(seen['x-forwarded-for'], '203.0.113.9, 127.0.0.1')
  assert.equal(seen['x-forwarded-proto'], 'https')
  assert.match(seen.forwarded, /^for=203\.0\.113\.9, for=127\.0\.0\.1;/)
})

test('without its own trustProxy the plugin follows Fastify’s', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const trusting = await startProxy(
    t,
    { routes: [{ upstreams: [origin.url] }] },
    {},
    { trustProxy: '127.0.0.1' },
  )
  const seen = JSON.parse((await get(client(t), `${trusting.url}/`, { headers: spoof })).text).headers
  assert.equal(seen['x-forwarded-for'], '203.0.113.9, 127.0.0.1')
  const other = await startProxy(
    t,
    { routes: [{ upstreams: [origin.url] }] },
    {},
    { trustProxy: '10.0.0.0/8' },
  )
  const seen2 = JSON.parse((await get(client(t), `${other.url}/`, { headers: spoof })).text).headers
  assert.equal(seen2['x-forwarded-for'], '127.0.0.1')
})

test('the upstreams stay hidden: Location rewritten to the public origin, Server and X-Powered-By removed', async (t) => {
  let self = ''
  const origin = await startOrigin({
    handler: (req, res) => {
      res.writeHead(req.url === '/v1/relative' ? 302 : 301, {
        location: req.url === '/v1/relative' ? '/v1/next' : `${self}/v1/moved?x=1`,
        'content-location': `${self}/v1/doc`,
        server: 'secret-app/1.2',
        'x-powered-by': 'php',
        'content-length': '0',
      })
      res.end()
    },
  })
  self = origin.url
  t.after(() => origin.close())
  const proxy = await startProxy(t, {
    routes: [{ prefix: '/api', rewritePrefix: '/v1', upstreams: [origin.url] }],
  })
  const agent = client(t)
  const r = await get(agent, `${proxy.url}/api/old`, { headers: { host: 'public.test' } })
  assert.equal(r.status, 301)
  assert.equal(r.headers.location, 'http://public.test/api/moved?x=1')
  assert.equal(r.headers['content-location'], 'http://public.test/api/doc')
  assert.equal(r.headers.server, undefined)
  assert.equal(r.headers['x-powered-by'], undefined)
  const rel = await get(agent, `${proxy.url}/api/relative`)
  assert.equal(rel.headers.location, '/api/next')

  const keeping = await startProxy(t, { hideHeaders: [], routes: [{ upstreams: [origin.url] }] })
  const k = await get(agent, `${keeping.url}/x`)
  assert.equal(k.headers.server, 'secret-app/1.2')
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import httpProxy from '@fastify/http-proxy'
import { startOrigin } from '@proxykit/core/testing'
import Fastify from 'fastify'
import { request } from 'undici'
import cache from '../src/index.js'

// @fastify/http-proxy answers through reply.send (reply-from), so the cache stores on Fastify's onSend
// path and answers hits before the route's handler: hits are served without the upstream.
test('the cache in front of @fastify/http-proxy routes: a fresh answer is stored, then served as a hit', async (t) => {
  const origin = await startOrigin({
    handler: (req, res) => {
      const cacheable = req.url?.startsWith('/cacheable') === true
      res.writeHead(200, {
        'content-type': 'text/plain',
        'cache-control': cacheable ? 'public, max-age=60' : 'no-store',
      })
      res.end(`origin saw ${req.url}`)
    },
  })
  const app = Fastify()
  await app.register(cache)
  await app.register(httpProxy, { upstream: origin.url, prefix: '/api' })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(() => Promise.all([app.close(), origin.close()]))
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
  const get = async (path: string) => {
    const res = await request(`${base}${path}`)
    return {
      status: res.statusCode,
      cacheStatus: String(res.headers['cache-status']),
      body: await res.body.text(),
    }
  }

  const first = await get('/api/cacheable/a')
  const second = await get('/api/cacheable/a')
  assert.equal(first.body, 'origin saw /cacheable/a')
  assert.match(first.cacheStatus, /fwd=uri-miss; fwd-status=200; stored/)
  assert.equal(second.status, 200)
  assert.equal(second.body, 'origin saw /cacheable/a')
  assert.match(second.cacheStatus, /hit/)
  assert.equal(origin.hits, 1, 'the hit never reached @fastify/http-proxy’s upstream')

  await get('/api/private')
  const again = await get('/api/private')
  assert.doesNotMatch(again.cacheStatus, /hit/)
  assert.equal(origin.hits, 3, 'no-store answers go upstream every time')
})

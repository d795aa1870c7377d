// A 103 Early Hints from the origin passes through the cache to the client on a miss (RFC 9110 §15.2)
// and is never part of what is stored: the hit that follows has no interim response, and the stored
// answer is the final 200. The proxy route here relays through core's Http1Pool, as both proxies do.
import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { BadGatewayError, Http1Pool, relay, sendError, stripHopByHop } from '@proxykit/core'
import { requestWithInterim, startOrigin } from '@proxykit/core/testing'
import Fastify from 'fastify'
import cache from '../src/index.js'

test('the 103 passes on the miss and is not stored: the hit has none', async (t) => {
  const origin = await startOrigin({
    handler: (_req, res) => {
      res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' })
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'max-age=60' })
      res.end('final')
    },
  })
  t.after(() => origin.close())
  const pool = new Http1Pool(origin.url)
  const app = Fastify()
  await app.register(cache)
  app.get('/*', (req, reply) => {
    const headers = stripHopByHop(req.headers)
    delete headers.host
    reply.hijack()
    relay(pool, { path: req.raw.url ?? '/', method: 'GET', headers, body: null }, req, reply, {
      headers: (_status, h) => stripHopByHop(h),
      failed: (err) => sendError(reply, new BadGatewayError(err.message, { cause: err })),
      done: () => {},
    })
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(async () => {
    await app.close()
    await pool.close()
  })
  const port = (app.server.address() as AddressInfo).port
  const miss = await requestWithInterim(port, '/page')
  assert.deepEqual(
    miss.interim.map((i) => i.statusCode),
    [103],
  )
  assert.match(String(miss.headers['cache-status']), /stored/)
  const hit = await requestWithInterim(port, '/page')
  assert.equal(hit.statusCode, 200)
  assert.equal(hit.body, 'final')
  assert.match(String(hit.headers['cache-status']), /hit/)
  assert.deepEqual(hit.interim, [])
  assert.equal(origin.hits, 1)
})

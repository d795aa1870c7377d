// Issue 23 item 13: a GET with a body was forwarded with it, and the answer stored under the URL alone and
// served to GETs without one (cache poisoning). The cache now passes such a request on untouched (some
// origins do answer by a GET's body) but neither stores its answer nor lets other misses wait on it.
import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { BadGatewayError, relay, sendError, stripHopByHop } from '@proxykit/core'
import { startOrigin } from '@proxykit/core/testing'
import Fastify from 'fastify'
import { Agent, request } from 'undici'
import cache from '../src/index.js'

/** An origin that answers a GET's body back when there is one (after `delayMs`), `clean` otherwise. */
async function bodyReadingProxy(t: import('node:test').TestContext, delayMs = 0) {
  const origin = await startOrigin({
    handler: async (_req, res, body) => {
      const poisoned = body.length > 0
      if (poisoned && delayMs > 0) await new Promise((r) => setTimeout(r, delayMs))
      const text = poisoned ? `poisoned:${body}` : 'clean'
      res.writeHead(200, { 'cache-control': 'max-age=60', 'content-length': Buffer.byteLength(text) })
      res.end(text)
    },
  })
  t.after(() => origin.close())
  const app = Fastify()
  await app.register(cache)
  const upstream = new Agent()
  t.after(() => upstream.close())
  // A proxy that streams request bodies on, as both proxykit proxies do.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', (_request, _payload, done) => done(null))
  app.all('/*', (req, reply) => {
    const headers = stripHopByHop(req.headers)
    delete headers.host
    const hasBody =
      req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined
    reply.hijack()
    relay(
      upstream,
      {
        origin: origin.url,
        path: req.raw.url ?? '/',
        method: 'GET',
        headers,
        body: hasBody ? req.raw : null,
      },
      req,
      reply,
      {
        headers: (_status, h) => stripHopByHop(h),
        failed: (err) => sendError(reply, new BadGatewayError(err.message, { cause: err })),
        done: () => {},
      },
    )
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(() => app.close())
  const client = new Agent()
  t.after(() => client.close())
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  const get = async (path: string, body?: string) => {
    const res = await request(`${url}${path}`, { method: 'GET', body, dispatcher: client })
    return { text: await res.body.text(), status: String(res.headers['cache-status']) }
  }
  return { origin, get }
}

test('the answer to a GET with a body is not stored; a GET without one gets its own answer', async (t) => {
  const { origin, get } = await bodyReadingProxy(t)
  const poisoning = await get('/page', 'evil')
  assert.equal(poisoning.text, 'poisoned:evil', 'the body still reaches the origin')
  assert.match(poisoning.status, /fwd=bypass; fwd-status=200; detail=request-body/)
  assert.doesNotMatch(poisoning.status, /stored/)
  const victim = await get('/page')
  assert.equal(victim.text, 'clean')
  assert.equal(origin.hits, 2)
  // The clean answer is stored and served; a later GET with a body is neither served it nor stores.
  assert.match((await get('/page')).status, /hit/)
  assert.equal((await get('/page', 'evil')).text, 'poisoned:evil')
  assert.equal((await get('/page')).text, 'clean')
  assert.equal(origin.hits, 3)
})

test('a miss without a body never waits on (collapses into) a GET with a body', async (t) => {
  const { origin, get } = await bodyReadingProxy(t, 300)
  const poisoning = get('/slow', 'evil')
  await new Promise((r) => setTimeout(r, 50))
  const victim = await get('/slow')
  assert.equal(victim.text, 'clean')
  assert.equal((await poisoning).text, 'poisoned:evil')
  assert.equal(origin.hits, 2)
})

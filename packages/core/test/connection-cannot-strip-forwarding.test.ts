// A client sends `Connection: close, X-Forwarded-For` hoping the proxy strips the X-Forwarded-For it adds
// itself, so the upstream never learns the client's address. Hop-by-hop removal runs on the client's
// headers first and the proxy's own headers are added after: they survive.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import Fastify from 'fastify'
import { addForwardingHeaders, compileTrust, installProxyContext, stripHopByHop } from '../src/index.js'
import { rawRequest } from '../src/testing/index.js'

async function app(trust: Parameters<typeof compileTrust>[0]) {
  const fastify = Fastify()
  installProxyContext(fastify)
  const trustFn = compileTrust(trust)
  fastify.get('/', async (request) => {
    const out = stripHopByHop(request.headers)
    addForwardingHeaders(out, request.raw, { trust: trustFn, proto: 'http', host: 'example.test' })
    return out
  })
  await fastify.listen({ port: 0, host: '127.0.0.1' })
  return fastify
}

const REQUEST =
  'GET / HTTP/1.1\r\nHost: example.test\r\nConnection: close, X-Forwarded-For, Forwarded, X-Forwarded-Proto\r\n' +
  'X-Forwarded-For: 203.0.113.9\r\nForwarded: for=203.0.113.9\r\nX-Forwarded-Proto: https\r\n\r\n'

test('Connection naming X-Forwarded-For cannot remove the proxy’s own forwarding headers', async (t) => {
  const fastify = await app(false)
  t.after(() => fastify.close())
  const port = (fastify.server.address() as { port: number }).port
  const res = await rawRequest(port, REQUEST)
  assert.equal(res.statusCode, 200)
  const out = JSON.parse(res.body.toString())
  assert.equal(out['x-forwarded-for'], '127.0.0.1')
  assert.equal(out['x-forwarded-proto'], 'http')
  assert.equal(out['x-forwarded-host'], 'example.test')
  assert.equal(out.forwarded, 'for=127.0.0.1;host=example.test;proto=http')
  assert.equal(out.connection, undefined)
})

test('from a trusted peer the chain it sent is kept and our peer appended, even when Connection names it', async (t) => {
  const fastify = await app('127.0.0.1')
  t.after(() => fastify.close())
  const port = (fastify.server.address() as { port: number }).port
  const res = await rawRequest(port, REQUEST)
  const out = JSON.parse(res.body.toString())
  // The client's values are what a trusted peer says, so they are kept and our hop appended.
  assert.equal(out['x-forwarded-for'], '203.0.113.9, 127.0.0.1')
  assert.match(out.forwarded, /^for=203\.0\.113\.9, for=127\.0\.0\.1;/)
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import type { FastifyRequest } from 'fastify'
import { client, get, startProxy } from './helpers.js'

test('rewriteRequestHeaders(request, headers) decides the headers sent upstream, after our own', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const seen: Array<{ url: string; forwarded: unknown }> = []
  const proxy = await startProxy(t, {
    routes: [
      {
        prefix: '/api',
        upstreams: [origin.url],
        rewriteRequestHeaders: (request: FastifyRequest, headers) => {
          // Called after hop-by-hop removal and with the forwarding headers already set.
          seen.push({ url: request.url, forwarded: headers['x-forwarded-for'] })
          const { cookie: _dropped, ...rest } = headers
          return { ...rest, 'x-user': String(request.headers['x-token'] ?? 'anonymous') }
        },
      },
      { prefix: '/plain', upstreams: [origin.url] },
    ],
  })
  const agent = client(t)
  await get(agent, `${proxy.url}/api/a`, { headers: { 'x-token': 'alice', cookie: 'sid=1' } })
  await get(agent, `${proxy.url}/plain/b`, { headers: { cookie: 'sid=2' } })
  const [a, b] = origin.requests
  assert.equal(a!.headers['x-user'], 'alice')
  assert.equal(a!.headers.cookie, undefined, 'a header the hook left out is not sent')
  assert.deepEqual(seen, [{ url: '/api/a', forwarded: '127.0.0.1' }])
  // Only on the route that sets it.
  assert.equal(b!.headers['x-user'], undefined)
  assert.equal(b!.headers.cookie, 'sid=2')
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { client, get, startProxy } from './helpers.js'

test('rewriteHeaders(headers, request) decides the response headers, after Location is mapped back', async (t) => {
  const origin = await startOrigin({
    handler: (_req, res) => {
      res.writeHead(302, {
        location: `http://127.0.0.1:${origin.port}/v1/next`,
        'x-internal': 'secret',
        'content-length': '0',
      })
      res.end()
    },
  })
  t.after(() => origin.close())
  const seenLocation: unknown[] = []
  const proxy = await startProxy(t, {
    rewriteHeaders: (headers, request) => {
      seenLocation.push(headers.location)
      const { 'x-internal': _hidden, ...rest } = headers
      return { ...rest, 'x-route-of': request.url }
    },
    routes: [{ prefix: '/api', rewritePrefix: '/v1', upstreams: [origin.url] }],
  })
  const res = await get(client(t), `${proxy.url}/api/x`)
  assert.equal(res.status, 302)
  assert.equal(res.headers['x-internal'], undefined)
  assert.equal(res.headers['x-route-of'], '/api/x')
  assert.equal(res.headers.location, `${proxy.url}/api/next`)
  assert.deepEqual(seenLocation, [`${proxy.url}/api/next`], 'the hook sees the public Location')
})

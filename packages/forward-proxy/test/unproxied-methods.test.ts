// Issue 26.14: an absolute-form request with a method Node's parser accepts but Fastify does not route
// (M-SEARCH, PURGE, LINK …) got Fastify's 404 "Route M-SEARCH:/__proxykit/forward not found", naming the
// internal path. It gets 501 Not Implemented (RFC 9110 §15.6.2) with nothing internal in it; origin-form
// requests with such a method still get the app's own 404.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { send, startProxy } from './helpers.js'

test('a method that is not proxied gets 501, naming nothing internal', async (t) => {
  const origin = await startOrigin()
  const proxy = await startProxy()
  t.after(() => Promise.all([proxy.app.close(), origin.close()]))
  for (const method of ['M-SEARCH', 'PURGE', 'LINK', 'NOTIFY']) {
    const res = await send(
      proxy.port,
      `${method} http://127.0.0.1:${origin.port}/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    )
    assert.equal(res.statusCode, 501, method)
    assert.doesNotMatch(res.text, /__proxykit|Route /, method)
    assert.match(res.text, new RegExp(`${method} is not proxied`))
  }
  assert.equal(origin.hits, 0)
  const local = await send(proxy.port, 'M-SEARCH /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
  assert.equal(local.statusCode, 404, 'origin-form is the app’s business')
  assert.doesNotMatch(local.text, /__proxykit/)
  const proxied = await send(
    proxy.port,
    `GET http://127.0.0.1:${origin.port}/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
  )
  assert.equal(proxied.statusCode, 200)
})

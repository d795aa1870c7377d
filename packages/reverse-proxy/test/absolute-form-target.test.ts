// Issue 23 item 9: an absolute-form request on a reverse proxy (`GET http://b.test/x` with `Host: a.test`)
// was routed by its Host and passed upstream as is, target and all. RFC 9112 §3.2.2: the target's
// authority replaces Host. It is rewritten to origin-form before routing, so host routes see the host it
// names, the upstream gets `/x`, and a host no route serves finds no route.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { rawRequest, startOrigin } from '@proxykit/core/testing'
import { startProxy } from './helpers.js'

const send = (port: number, target: string, host = 'a.test', extra = '') =>
  rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: ${host}\r\n${extra}Connection: close\r\n\r\n`)

test('the target’s authority replaces Host: routing and the upstream see the host it names', async (t) => {
  const a = await startOrigin()
  const b = await startOrigin()
  t.after(() => Promise.all([a.close(), b.close()]))
  const proxy = await startProxy(t, {
    routes: [
      { name: 'a', host: 'a.test', upstreams: [a.url] },
      { name: 'b', host: 'b.test', upstreams: [b.url] },
    ],
  })
  const res = await send(proxy.port, 'http://B.test/x?y=1', 'a.test')
  assert.equal(res.statusCode, 200)
  assert.equal(a.hits, 0, 'not routed by the Host header')
  assert.equal(b.hits, 1)
  const seen = b.requests[0]!
  assert.equal(seen.url, '/x?y=1', 'origin-form upstream')
  assert.equal(seen.headers['x-forwarded-host'], 'b.test')
  assert.match(seen.headers.forwarded!, /host=b\.test/)

  // With a port: the Host becomes host:port, and the route (which ignores the port) still matches.
  assert.equal((await send(proxy.port, 'http://b.test:8080/p', 'a.test')).statusCode, 200)
  assert.equal(b.requests[1]!.headers['x-forwarded-host'], 'b.test:8080')
  assert.equal(b.requests[1]!.url, '/p')

  // A host no route serves is refused (404) like the same request in origin-form, and reaches nobody.
  assert.equal((await send(proxy.port, 'http://other.test/x', 'a.test')).statusCode, 404)
  assert.equal(a.hits + b.hits, 2)
})

test('with preserveHost the upstream gets the target’s authority as Host', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const proxy = await startProxy(t, { preserveHost: true, routes: [{ upstreams: [origin.url] }] })
  assert.equal((await send(proxy.port, 'http://b.test/x', 'a.test')).statusCode, 200)
  assert.equal(origin.requests[0]!.headers.host, 'b.test')
  assert.equal(origin.requests[0]!.url, '/x')
  assert.equal(origin.requests[0]!.rawHeaders.filter((h) => h.toLowerCase() === 'host').length, 1)
})

test('a malformed absolute-form target is a 400, and two Host lines stay a 400', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const proxy = await startProxy(t, { routes: [{ upstreams: [origin.url] }] })
  for (const target of ['http://user@b.test/x', 'ftp://b.test/x', 'http://b.test/a%00'])
    assert.equal((await send(proxy.port, target)).statusCode, 400, target)
  assert.equal((await send(proxy.port, 'http://b.test/x', 'a.test', 'Host: c.test\r\n')).statusCode, 400)
  assert.equal(origin.hits, 0)
})

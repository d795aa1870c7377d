import assert from 'node:assert/strict'
import { test } from 'node:test'
import { rawRequest, startOrigin } from '@proxykit/core/testing'
import { escapesPrefix } from '../src/proxy.js'
import { startProxy } from './helpers.js'

test('a path with dot-segments cannot escape the route prefix it was matched by', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const proxy = await startProxy(t, { routes: [{ prefix: '/api', upstreams: [origin.url] }] })
  for (const path of [
    '/api/../admin',
    '/api/%2e%2e/admin',
    '/api/.%2E/admin',
    '/api/./x',
    '/api/..',
    '/api/..%2fadmin',
  ]) {
    const r = await rawRequest(proxy.port, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, {
      idleMs: 2000,
    })
    assert.equal(r.statusCode, 400, path)
  }
  assert.equal(origin.hits, 0)
  for (const ok of ['/api/a..b', '/api/.well-known/x', '/api/x?next=/../y', '/api/v1.2/x']) {
    assert.equal(escapesPrefix(ok), null, ok)
    const r = await rawRequest(proxy.port, `GET ${ok} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, {
      idleMs: 2000,
    })
    assert.equal(r.statusCode, 200, ok)
  }
})

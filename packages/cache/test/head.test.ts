import assert from 'node:assert/strict'
import { test } from 'node:test'
import { rawRequest } from '@proxykit/core/testing'
import { respond, setup } from './helpers.js'

test('HEAD is answered from a stored GET, with the GET headers and no body', async (t) => {
  const s = await setup(t, respond({ 'cache-control': 'max-age=60', 'x-kind': 'stored' }, 'twelve bytes'))
  await s.get('/r')
  const h = await s.get('/r', {}, 'HEAD')
  assert.equal(h.status, 200)
  assert.equal(h.body, '')
  assert.equal(h.headers['content-length'], '12')
  assert.equal(h.headers['x-kind'], 'stored')
  assert.match(h.headers['cache-status']!, /hit/)
  assert.equal(s.origin.hits, 1)
})

test('a HEAD miss goes upstream as HEAD and is not stored', async (t) => {
  const s = await setup(t, respond({ 'cache-control': 'max-age=60' }, 'body'))
  const h = await s.get('/r', {}, 'HEAD')
  assert.equal(h.status, 200)
  assert.equal(s.origin.requests[0]!.method, 'HEAD')
  await s.get('/r')
  assert.equal(s.origin.hits, 2, 'the GET was not answered by a HEAD entry')
})

test('a GET with Upgrade (WebSocket handshake) never reads nor writes the cache', async (t) => {
  const s = await setup(t, respond({ 'cache-control': 'max-age=60' }, 'body'))
  await s.get('/r')
  const port = Number(new URL(s.url).port)
  const u = await rawRequest(
    port,
    'GET /r HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
  )
  assert.equal(u.statusCode, 200)
  assert.equal(u.headers['cache-status'], undefined)
  assert.equal(s.origin.hits, 2)
})
